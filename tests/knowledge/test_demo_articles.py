"""The demo's shipped articles: they read, declare their language, and answer the demo's
customers' questions through the retrieval index."""

from __future__ import annotations

import pytest

from onethread.assistant.encoder import TextEncoder, default_encoder
from onethread.assistant.knowledge.retrieval import KnowledgeRetriever
from onethread.demo.articles import demo_articles, install_demo_articles
from tests.conftest import Harness
from tests.factories import workspace


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return default_encoder()


def test_the_shipped_articles_read_cleanly_in_three_languages() -> None:
    articles = demo_articles()
    assert 10 <= len(articles) <= 15
    assert {a.language for a in articles} == {"en", "fr", "es"}
    assert sum(a.language != "en" for a in articles) >= 2
    for article in articles:
        assert article.chunks, article.source_key
        assert article.title, article.source_key
        assert not article.title.endswith(".md"), article.source_key
    titles = {a.title for a in articles}
    # The demo's conversations cite these articles by title.
    assert {"Changing your billing period", "Inviting teammates"} <= titles
    assert "Restablecer la contraseña" in titles


QUESTIONS = [
    ("How much does the Team plan cost per month?", "en", "plans-and-prices.md", "99 USD"),
    ("Are annual plans refundable?", "en", "refund-policy.md", "30 days"),
    ("What does HTTP 429 from your API mean?", "en", "api-rate-limits-and-errors.md", "429"),
    ("I lost my phone and cannot get my 2FA code", "en", "two-factor-authentication.md", "backup"),
    ("How long do you keep our data after we cancel?", "en", "data-retention.md", "30 days"),
    ("No me llega el correo de la contraseña", "es", "restablecer-la-contrasena.md", "10"),
    ("Les mois non utilisés sont-ils remboursés ?", "fr", "politique-de-remboursement.md", "30"),
]


async def test_the_seed_installs_them_once_and_they_answer(
    harness: Harness, encoder: TextEncoder
) -> None:
    admin = await workspace(harness)
    async with harness.db.session() as session:
        installed = await install_demo_articles(session, admin.workspace_id, encoder)
    assert {r.status for r in installed} == {"created"}
    assert len(installed) == len(demo_articles())
    async with harness.db.session() as session:
        assert await install_demo_articles(session, admin.workspace_id, encoder) == []
    retriever = KnowledgeRetriever(encoder.name)
    async with harness.db.read_session() as session:
        await retriever.refresh(session, admin.workspace_id)
    vectors = encoder.encode([question for question, *_ in QUESTIONS])
    for (question, language, key, fact), vector in zip(QUESTIONS, vectors, strict=True):
        [best, *_] = retriever.search(admin.workspace_id, question, vector, language, 3)
        assert best.article_key == key, (question, best)
        assert fact in best.text, (question, best.text)
        assert best.score >= 0.35, (question, best.score)  # the demo's knowledge_threshold
