"""Knowledge retrieval over 10,000 chunks: search latency, index builds, DB refreshes.

    .venv/bin/python -m bench.retrieval                      # in memory + SQLite
    .venv/bin/python -m bench.retrieval --backend both       # + PostgreSQL
    .venv/bin/python -m bench.retrieval --no-db --json       # search only, as JSON

The corpus is synthetic (the cost of a search does not depend on what the words mean):
``--articles`` articles of ``--chunks-per-article`` chunks of about 120 words drawn
from a Zipf-distributed vocabulary of 20,000 made-up words, each chunk with a random
unit vector of 384 dimensions (all-MiniLM-L6-v2's width). Queries are 3 to 8 words from
the same distribution and a random unit vector: computed before the clock starts, as the
assistant computes its query vector once per message. Measured:

- ``search``: one ``KnowledgeIndex.search`` (k = 5) in hybrid, lexical and semantic mode;
- ``build``: assembling the arrays of 10,000 prepared chunks (after any change), and
  adding all articles from scratch (tokenising every chunk);
- with a database: ``refresh`` of a ``KnowledgeRetriever`` from empty (load everything),
  when nothing changed (the per-turn check: one aggregate query), and after one article
  changed (its chunks are reloaded, the arrays rebuilt).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.harness import (
    BACKENDS,
    DEFAULT_POSTGRES_URL,
    Latency,
    format_table,
    machine,
    peak_rss_mb,
    scratch_database,
    summarize,
)
from onethread.assistant.knowledge.embedding import vector_to_bytes
from onethread.assistant.knowledge.index import IndexedChunk, KnowledgeIndex, SearchMode
from onethread.assistant.knowledge.retrieval import KnowledgeRetriever
from onethread.db import migrate
from onethread.db.database import Database
from onethread.events.log import install_publish_after_commit
from onethread.knowledge import actions
from onethread.knowledge.actions import ArticleContent
from onethread.knowledge.chunking import ChunkDraft
from onethread.knowledge.documents import chunk_hash
from onethread.knowledge.models import ArticleFormat
from onethread.workspaces.actions import do_create_workspace

DIM = 384
VOCABULARY = 20_000
WORDS_PER_CHUNK = 120
ENCODER = "bench-random-384"


class Corpus:
    def __init__(self, articles: int, per_article: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        lengths = self.rng.integers(3, 11, size=VOCABULARY)
        self.words = ["".join(self.rng.choice(letters, size=n)) for n in lengths]
        ranks = np.arange(1, VOCABULARY + 1, dtype=np.float64)
        self.weights = (1 / ranks) / (1 / ranks).sum()
        self.articles = [
            [(f"Section {c}", self.text(WORDS_PER_CHUNK)) for c in range(per_article)]
            for _ in range(articles)
        ]

    def text(self, count: int) -> str:
        picks = self.rng.choice(VOCABULARY, size=count, p=self.weights)
        return " ".join(self.words[i] for i in picks)

    def vector(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        vector = self.rng.standard_normal(DIM).astype(np.float32)
        return vector / np.linalg.norm(vector)


def _chunks(corpus: Corpus, number: int) -> list[IndexedChunk]:
    key = f"article-{number}.md"
    return [
        IndexedChunk(
            chunk_key=f"{key}#{ordinal}",
            article_key=key,
            title=f"Article {number}",
            heading=heading,
            text=text,
            language="en",
            vector=corpus.vector(),
        )
        for ordinal, (heading, text) in enumerate(corpus.articles[number])
    ]


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


def bench_memory(corpus: Corpus, queries: int) -> tuple[list[list[object]], dict[str, Any]]:
    index = KnowledgeIndex()
    prepared = [_chunks(corpus, n) for n in range(len(corpus.articles))]
    started = time.perf_counter()
    for number, chunks in enumerate(prepared):
        index.set_article(number, chunks)
    index.build()
    from_scratch = time.perf_counter() - started
    index.set_article(0, prepared[0])  # one article changed: its language's arrays again
    rebuild = _timed(index.build, 1)[0]
    rebuilds = _timed(lambda: (index.set_article(0, prepared[0]), index.build()), 10)
    asked = [(corpus.text(int(corpus.rng.integers(3, 9))), corpus.vector()) for _ in range(queries)]
    rows: list[list[object]] = []
    figures: dict[str, Any] = {"chunks": len(index)}
    modes: tuple[SearchMode, ...] = ("hybrid", "lexical", "semantic")
    for mode in modes:
        for text, vector in asked[:50]:  # warm up
            index.search(text, vector, language="en", k=5, mode=mode)
        timings = []
        for text, vector in asked:
            started = time.perf_counter()
            index.search(text, vector, language="en", k=5, mode=mode)
            timings.append(time.perf_counter() - started)
        latency = summarize(timings)
        rows.append([f"search ({mode})", latency.count, latency.p50_ms, latency.p99_ms])
        figures[f"search_{mode}"] = latency.__dict__
    rows.append(["build from scratch", 1, from_scratch * 1000, from_scratch * 1000])
    rebuilt = summarize([rebuild, *rebuilds])
    rows.append(["rebuild after one article", rebuilt.count, rebuilt.p50_ms, rebuilt.p99_ms])
    figures["build_from_scratch_ms"] = from_scratch * 1000
    figures["rebuild_one_article"] = rebuilt.__dict__
    return rows, figures


def _content(corpus: Corpus, number: int, edit: str = "") -> ArticleContent:
    key = f"article-{number}.md"
    title = f"Article {number}"
    drafts = [
        ChunkDraft(ordinal, heading, text + edit, chunk_hash(title, heading, text + edit))
        for ordinal, (heading, text) in enumerate(corpus.articles[number])
    ]
    return ArticleContent(key, title, "en", ArticleFormat.MARKDOWN, "", drafts)


def _ms(latency: Latency) -> tuple[float, float]:
    return latency.p50_ms, latency.p99_ms


def _vectors(corpus: Corpus, content: ArticleContent) -> dict[str, bytes]:
    return {d.content_hash: vector_to_bytes(corpus.vector()) for d in content.chunks}


async def bench_database(
    corpus: Corpus, backend: str, postgres_url: str
) -> tuple[list[list[object]], dict[str, Any]]:
    install_publish_after_commit()
    async with scratch_database(backend, postgres_url) as url:
        db = Database(url)
        try:
            await migrate.upgrade(db.engine)
            async with db.session() as session:
                created = await do_create_workspace(
                    session, name="Bench", admin_email="b@example.com", admin_password="x" * 12
                )
            workspace_id = created.workspace.id
            started = time.perf_counter()
            for first in range(0, len(corpus.articles), 100):
                async with db.session() as session:
                    for number in range(first, min(first + 100, len(corpus.articles))):
                        content = _content(corpus, number)
                        vectors = _vectors(corpus, content)
                        await actions.do_create_article(
                            session, workspace_id, content, embeddings=vectors, encoder=ENCODER
                        )
            filled = time.perf_counter() - started
            retriever = KnowledgeRetriever(ENCODER)
            started = time.perf_counter()
            async with db.read_session() as session:
                await retriever.refresh(session, workspace_id)
            cold = time.perf_counter() - started
            unchanged = []
            for _ in range(200):
                started = time.perf_counter()
                async with db.read_session() as session:
                    await retriever.refresh(session, workspace_id)
                unchanged.append(time.perf_counter() - started)
            changed = []
            for round_ in range(10):
                content = _content(corpus, round_, edit=f" edit{round_}")
                vectors = _vectors(corpus, content)
                async with db.session() as session:
                    await actions.do_upsert_article(
                        session, workspace_id, content, embeddings=vectors, encoder=ENCODER
                    )
                started = time.perf_counter()
                async with db.read_session() as session:
                    reloaded = await retriever.refresh(session, workspace_id)
                changed.append(time.perf_counter() - started)
                assert reloaded == 1, reloaded
        finally:
            await db.dispose()
    quiet, after_one = summarize(unchanged), summarize(changed)
    rows: list[list[object]] = [
        [f"{backend}: store 10k chunks (setup)", 1, filled * 1000, filled * 1000],
        [f"{backend}: refresh from empty", 1, cold * 1000, cold * 1000],
        [f"{backend}: refresh, nothing changed", quiet.count, quiet.p50_ms, quiet.p99_ms],
        [f"{backend}: refresh, 1 article changed", after_one.count, *_ms(after_one)],
    ]
    figures = {
        "refresh_from_empty_ms": cold * 1000,
        "refresh_unchanged": quiet.__dict__,
        "refresh_one_article": after_one.__dict__,
    }
    return rows, figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--chunks-per-article", type=int, default=10)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-db", action="store_true", help="Only the in-memory index")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    corpus = Corpus(args.articles, args.chunks_per_article, args.seed)
    rows, figures = bench_memory(corpus, args.queries)
    results: dict[str, Any] = {"memory": figures, "machine": machine()}
    if not args.no_db:
        backends = BACKENDS if args.backend == "both" else (args.backend,)
        for backend in backends:
            db_rows, db_figures = await bench_database(corpus, backend, args.postgres_url)
            rows += db_rows
            results[backend] = db_figures
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    title = f"Knowledge retrieval, {figures['chunks']:,} chunks"
    print(format_table(title, ["what", "n", "p50 ms", "p99 ms"], rows))
    print(f"machine: {results['machine']}  peak RSS: {results['peak_rss_mb']} MB")


if __name__ == "__main__":
    asyncio.run(main())
