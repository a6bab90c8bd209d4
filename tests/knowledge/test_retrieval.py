"""The hybrid index and the retriever that keeps it in step with the database."""

from __future__ import annotations

import time

import numpy as np
import pytest

from onethread.assistant.encoder import TextEncoder, default_encoder
from onethread.assistant.knowledge.index import Fusion, IndexedChunk, KnowledgeIndex
from onethread.assistant.knowledge.ingest import ingest_articles, prepare_article
from onethread.assistant.knowledge.retrieval import KnowledgeRetriever
from onethread.knowledge import actions, service
from onethread.knowledge.models import ArticleFormat
from onethread.knowledge.readers import read_text_as
from tests.conftest import Harness
from tests.factories import workspace

ARTICLES = {
    "refunds.md": "# Refund policy\n\n## Monthly plans\n\nMonthly plans are refunded in full "
    "within 14 days of the charge.\n\n## Annual plans\n\nAnnual plans are refunded pro rata.",
    "password.md": "# Resetting your password\n\nOpen lumen-analytics.com/reset and enter your "
    "email. The link in the email is valid for 1 hour.",
    "export.md": "# Exporting data\n\nReports export to CSV from the Export menu. Exports over "
    "1 million rows are emailed to you.",
    "rate-limits.md": "# API rate limits\n\nEach API key may send 600 requests per minute; "
    "past that the API answers HTTP 429.",
    "reembolsos.md": "---\nlanguage: es\n---\n# Política de reembolsos\n\nLos planes mensuales "
    "se reembolsan por completo dentro de los 14 días.",
}


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return default_encoder()


def _index(encoder: TextEncoder | None, fusion: Fusion | None = None) -> KnowledgeIndex:
    index = KnowledgeIndex(fusion)
    for key, text in ARTICLES.items():
        content = prepare_article(read_text_as(text, ArticleFormat.MARKDOWN, key), key)
        chunks = [
            IndexedChunk(
                chunk_key=f"{key}#{d.ordinal}",
                article_key=key,
                title=content.title,
                heading=d.heading,
                text=d.text,
                language=content.language,
            )
            for d in content.chunks
        ]
        if encoder is not None:
            vectors = encoder.encode([f"{c.title} — {c.heading}\n{c.text}" for c in chunks])
            chunks = [
                IndexedChunk(**{**c.__dict__, "vector": v})
                for c, v in zip(chunks, vectors, strict=True)
            ]
        index.set_article(key, chunks)
    index.build()
    return index


def test_words_alone_rank_the_passage_that_holds_them() -> None:
    index = _index(None)
    [best, *_] = index.search("refund annual plan", language="en")
    assert best.chunk_key == "refunds.md#1"
    assert best.heading == "Annual plans"
    assert best.score == best.lexical
    assert 0 < best.score <= 1
    assert best.semantic == 0


def test_meaning_finds_a_passage_that_shares_no_word(encoder: TextEncoder) -> None:
    index = _index(encoder)
    query = "I forgot my login credentials, how can I get back in?"
    vector = encoder.encode([query])[0]
    assert index.search(query, None, language="en", mode="lexical") == []
    [best, *_] = index.search(query, vector, language="en")
    assert best.article_key == "password.md"
    assert best.lexical == 0
    assert best.score == pytest.approx(index.fusion.semantic_weight * best.semantic, abs=1e-5)


def test_hybrid_scores_blend_both_and_stay_in_range(encoder: TextEncoder) -> None:
    index = _index(encoder, Fusion(semantic_weight=0.5))
    query = "too many requests error 429 from the API"
    vector = encoder.encode([query])[0]
    passages = index.search(query, vector, language="en", k=3)
    assert passages[0].article_key == "rate-limits.md"
    for p in passages:
        assert 0 <= p.score <= 1
        assert p.score == pytest.approx(0.5 * p.semantic + 0.5 * p.lexical, abs=1e-5)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    unrelated = index.search("weather in Paris tomorrow", encoder.encode(["weather"])[0], k=1)
    assert unrelated[0].score < passages[0].score / 2


def test_each_language_has_its_own_index() -> None:
    index = _index(None)
    assert index.languages == ["en", "es"]
    spanish = index.search("reembolsan por completo", language="es")
    assert [p.article_key for p in spanish] == ["reembolsos.md"]
    assert index.search("reembolsan por completo", language="en") == []
    assert index.search("refund", language="de") == []
    everywhere = index.search("14 days 14 días", k=10)
    assert {p.language for p in everywhere} == {"en", "es"}


def test_replacing_and_removing_an_article_takes_effect() -> None:
    index = _index(None)
    index.set_article(
        "export.md",
        [IndexedChunk("export.md#0", "export.md", "Exporting", "", "Use the XLSX button.", "en")],
    )
    assert index.search("CSV million rows", language="en") == []
    assert index.search("XLSX", language="en")[0].chunk_key == "export.md#0"
    before = len(index)
    index.remove_article("export.md")
    assert index.search("XLSX", language="en") == []
    assert len(index) == before - 1


def test_ten_thousand_passages_search_in_milliseconds() -> None:
    rng = np.random.default_rng(7)
    words = [f"w{n}" for n in range(5000)]
    index = KnowledgeIndex()
    for article in range(1000):
        chunks = []
        for ordinal in range(10):
            vector = rng.standard_normal(384).astype(np.float32)
            text = " ".join(rng.choice(words, size=60))
            chunks.append(
                IndexedChunk(
                    f"a{article}#{ordinal}", f"a{article}", f"T{article}", "", text, "en",
                    vector=vector / np.linalg.norm(vector),
                )
            )  # fmt: skip
        index.set_article(article, chunks)
    index.build()
    query = rng.standard_normal(384).astype(np.float32)
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        index.search("w1 w2 w3 w42", query, language="en", k=5)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[25] < 0.02  # generous: the target (2 ms) is in bench/retrieval.py


async def test_the_retriever_reloads_only_what_changed(
    harness: Harness, encoder: TextEncoder
) -> None:
    admin = await workspace(harness)
    other = await workspace(harness)
    contents = [
        prepare_article(read_text_as(text, ArticleFormat.MARKDOWN, key), key)
        for key, text in ARTICLES.items()
    ]
    await ingest_articles(harness.db, admin.workspace_id, contents, encoder=encoder)
    await ingest_articles(harness.db, other.workspace_id, contents[:1], encoder=encoder)
    retriever = KnowledgeRetriever(encoder.name)
    ws = admin.workspace_id
    async with harness.db.read_session() as session:
        assert await retriever.refresh(session, ws) == len(ARTICLES)
        assert await retriever.refresh(session, ws) == 0
    query = "How long is the password reset link valid?"
    vector = encoder.encode([query])[0]
    [best, *_] = retriever.search(ws, query, vector, "en", 3)
    assert (best.article_key, best.chunk_id is not None, best.article_id is not None) == (
        "password.md",
        True,
        True,
    )
    assert best.semantic > 0
    edited = ARTICLES["password.md"].replace("1 hour", "2 hours")
    changed = prepare_article(read_text_as(edited, ArticleFormat.MARKDOWN, "x"), "password.md")
    await ingest_articles(harness.db, ws, [changed], encoder=encoder)
    async with harness.db.session() as session:
        gone = await service.find_article(session, ws, "export.md")
        assert gone is not None
        await actions.do_delete_article(session, gone)
    async with harness.db.read_session() as session:
        assert await retriever.refresh(session, ws) == 2
    [best, *_] = retriever.search(ws, query, vector, "en", 3)
    assert "2 hours" in best.text
    assert all(p.article_key != "export.md" for p in retriever.search(ws, "export CSV", None))
    assert retriever.search(other.workspace_id, "password", None) == []  # never refreshed
    async with harness.db.read_session() as session:
        await retriever.refresh(session, other.workspace_id)
    found = retriever.search(other.workspace_id, "password reset refund", None, k=10)
    assert {p.article_key for p in found} == {"refunds.md"}
