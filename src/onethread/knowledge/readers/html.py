"""HTML: headings h1 to h4 start sections; scripts, styles and page chrome are skipped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from onethread.errors import InvalidInput
from onethread.knowledge.documents import Document, normalize_language
from onethread.knowledge.models import ArticleFormat
from onethread.knowledge.readers.outline import (
    Block,
    Heading,
    Paragraph,
    first_title,
    render_blocks,
    sections_from_blocks,
)

HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
# Their content is not part of the article (h5/h6 are kept as ordinary paragraphs).
SKIPPED_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "head"}
BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "header", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tr", "blockquote", "pre", "figure", "figcaption", "hr",
    "h5", "h6", "form", "fieldset", "address", "details", "summary",
}  # fmt: skip
VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.language: str | None = None
        self.page_title = ""
        self._text: list[str] = []
        self._skipping: list[str] = []  # open skipped elements (their content is dropped)
        self._heading: int | None = None
        self._in_title = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            lang = dict(attrs).get("lang")
            if lang:
                self.language = lang
        if tag == "title":
            self._in_title = True
            return
        if tag == "body":  # a <head> left open ends here
            self._skipping.clear()
        if self._skipping:
            if tag in SKIPPED_TAGS and tag not in VOID_TAGS:
                self._skipping.append(tag)
            return
        if tag in SKIPPED_TAGS:
            self._skipping.append(tag)
            return
        if tag in HEADING_TAGS:
            self._flush()
            self._heading = HEADING_TAGS[tag]
        elif tag == "br":
            self._text.append("\n")
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "li":
                self._text.append("- ")
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag in HEADING_TAGS and self._heading is not None:
            text = _SPACES.sub(" ", "".join(self._text)).strip()
            self.blocks.append(Heading(self._heading, text))
            self._text.clear()
            self._heading = None
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        elif not self._skipping:
            self._text.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))

    def _flush(self) -> None:
        if self._heading is not None:  # a block inside a heading: keep collecting
            return
        text = "\n".join(line.strip() for line in "".join(self._text).split("\n"))
        text = text.strip()
        if text and text != "-":
            self.blocks.append(Paragraph(text))
        self._text.clear()

    def finish(self) -> None:
        self.close()
        if self._heading is not None:
            self.handle_endtag(next(t for t, n in HEADING_TAGS.items() if n == self._heading))
        self._flush()


def read_html(text: str, fallback_title: str) -> Document:
    extractor = _Extractor()
    try:
        extractor.feed(text)
        extractor.finish()
    except (AssertionError, ValueError) as error:  # html.parser gives up on a few inputs
        raise InvalidInput(f"the HTML could not be read: {error}") from error
    blocks = extractor.blocks
    page_title = _SPACES.sub(" ", extractor.page_title).strip()
    title = first_title(blocks) or page_title or fallback_title
    declared = extractor.language
    try:
        language = normalize_language(declared) if declared else None
    except InvalidInput:
        language = None  # an odd lang attribute: detect instead
    return Document(
        title=title,
        format=ArticleFormat.HTML,
        body=render_blocks(blocks),
        sections=sections_from_blocks(blocks, title),
        language=language,
    )
