"""Readers for each format, and chunking: headings become paths, text stays whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from onethread.errors import InvalidInput
from onethread.knowledge.chunking import chunk_document, pack_paragraphs, paragraphs_of
from onethread.knowledge.documents import Document, Section
from onethread.knowledge.files import iter_source_files
from onethread.knowledge.models import ArticleFormat
from onethread.knowledge.readers import UnsupportedFormat, read_document
from tests.knowledge.samples import EXPORT_HTML, NOTES_TXT, REFUND_MD, pdf_bytes, two_page_pdf


def test_markdown_front_matter_title_and_heading_paths() -> None:
    document = read_document(REFUND_MD.encode(), "policies/refunds.md")
    assert (document.title, document.language, document.format) == (
        "Refund policy",
        "en",
        ArticleFormat.MARKDOWN,
    )
    assert [s.headings for s in document.sections] == [(), ("Monthly plans",), ("Annual plans",)]
    assert not document.body.startswith("---")


def test_markdown_setext_headings_nested_paths_and_code_fences() -> None:
    text = (
        "Getting started\n===============\n\nWelcome.\n\nInstall\n-------\n\n"
        "```bash\n# not a heading\npip install lumen\n```\n\n### On Windows\n\nUse WSL.\n"
        "\n## Configure ##\n\nSet the key.\n"
    )
    document = read_document(text.encode(), "start.markdown")
    assert document.title == "Getting started"
    assert [s.headings for s in document.sections] == [
        (),
        ("Install",),
        ("Install", "On Windows"),
        ("Configure",),
    ]
    assert "# not a heading" in document.sections[1].text
    assert document.language is None


def test_markdown_without_headings_is_titled_by_its_file_name() -> None:
    document = read_document(b"Just a paragraph.", "billing/change-your_plan.md")
    assert document.title == "Change your plan"
    assert document.sections == [Section((), "Just a paragraph.")]


def test_bad_front_matter_is_refused() -> None:
    with pytest.raises(InvalidInput, match="front matter"):
        read_document(b"---\n- a list\n---\nText", "x.md")


def test_html_headings_lang_and_skipped_chrome() -> None:
    document = read_document(EXPORT_HTML.encode(), "help/export.html")
    assert (document.title, document.language) == ("Exporter vos données", "fr")
    assert [s.headings for s in document.sections] == [(), ("Exports volumineux",)]
    assert "million de lignes" in document.sections[1].text
    for chrome in ("tracking", "Accueil", "© Lumen"):
        assert chrome not in document.body
    assert document.body.startswith("# Exporter vos données")


def test_html_without_h1_uses_the_page_title_and_keeps_lists_and_entities() -> None:
    html = (
        "<title>Limits</title><p>Rate &amp; quota:</p><ul><li>600/min</li><li>10k/day</li></ul>"
        "<h3>Burst</h3><p>Up to<br>100 at once</p>"
    )
    document = read_document(html.encode(), "limits.htm")
    assert document.title == "Limits"
    assert document.sections[0].text == "Rate & quota:\n\n- 600/min\n\n- 10k/day"
    assert document.sections[1] == Section(("Burst",), "Up to\n100 at once")


def test_plain_text_title_from_a_short_first_line() -> None:
    document = read_document(NOTES_TXT.encode(), "status.txt")
    assert document.title == "Status page"
    assert document.sections[0].text.startswith("Our status page")
    untitled = read_document(b"A sentence that ends.\nAnother one.", "notes/faq-1.txt")
    assert untitled.title == "Faq 1"


def test_text_in_windows_1252_is_decoded() -> None:
    document = read_document(
        "Caf\u00e9 menu\n\nCr\u00e8me br\u00fbl\u00e9e".encode("cp1252"), "m.txt"
    )
    assert document.title == "Caf\u00e9 menu"


def test_pdf_pages_become_sections_with_paragraphs() -> None:
    document = read_document(two_page_pdf(), "guides/api.pdf")
    assert (document.title, document.format) == ("API guide", ArticleFormat.PDF)
    assert [s.headings for s in document.sections] == [("Page 1",), ("Page 2",)]
    assert paragraphs_of(document.sections[0].text) == [
        "API rate limits",
        "Every API key may send 600 requests per minute. Past the limit the API answers "
        "HTTP 429 with a Retry-After header.",
    ]


def test_pdf_without_metadata_is_titled_by_its_first_line() -> None:
    document = read_document(pdf_bytes([["Data retention", "We keep data 90 days."]]), "r.pdf")
    assert document.title == "Data retention"


def test_broken_and_unknown_files_are_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match="PDF could not be read"):
        read_document(b"%PDF-1.7 truncated", "broken.pdf")
    with pytest.raises(UnsupportedFormat, match=r"\.docx"):
        read_document(b"PK", "contract.docx")
    with pytest.raises(InvalidInput, match="not a text file"):
        read_document(b"\x00\x01\x02", "binary.txt")


def test_folders_are_read_recursively_with_keys_relative_to_the_root(tmp_path: Path) -> None:
    (tmp_path / "kb" / "billing").mkdir(parents=True)
    (tmp_path / "kb" / ".git").mkdir()
    (tmp_path / "kb" / "billing" / "refunds.md").write_text("# R")
    (tmp_path / "kb" / "guide.pdf").write_bytes(b"%PDF")
    (tmp_path / "kb" / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "kb" / ".git" / "notes.md").write_text("# hidden")
    (tmp_path / "single.txt").write_text("x")
    found = list(iter_source_files([tmp_path / "kb", tmp_path / "single.txt"]))
    assert [f.source_key for f in found] == ["billing/refunds.md", "guide.pdf", "single.txt"]


def _document(*sections: Section) -> Document:
    return Document("Title", ArticleFormat.MARKDOWN, "", list(sections))


def test_chunks_are_bounded_whole_paragraphs_without_overlap() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * (20 + n * 3) for n in range(12)]
    document = _document(Section(("Long",), "\n\n".join(paragraphs)))
    drafts = chunk_document(document, max_chars=400)
    assert len(drafts) > 3
    assert all(len(d.text) <= 400 for d in drafts)
    assert [d.ordinal for d in drafts] == list(range(len(drafts)))
    rejoined = [p for d in drafts for p in paragraphs_of(d.text)]
    assert rejoined == [p.strip() for p in paragraphs]  # every paragraph once, in order


def test_a_paragraph_too_long_is_cut_between_sentences_then_words() -> None:
    sentences = " ".join(f"Sentence number {n} says something useful." for n in range(40))
    pieces = list(pack_paragraphs([sentences], 200))
    assert all(len(p) <= 200 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == sentences
    url = "https://example.com/" + "a" * 450
    cut = list(pack_paragraphs([url], 200))
    assert "".join(cut) == url
    assert max(map(len, cut)) == 200


def test_chunk_hashes_follow_title_heading_and_text() -> None:
    base = chunk_document(_document(Section(("A",), "Same text.")))
    again = chunk_document(_document(Section(("A",), "Same text.")))
    moved = chunk_document(_document(Section(("B",), "Same text.")))
    assert base[0].content_hash == again[0].content_hash != moved[0].content_hash
    assert base[0].heading == "A"
