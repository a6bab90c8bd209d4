"""`onethread eval kb`: how often the knowledge base finds the passage that answers.

The knowledge under ``--kb`` (files or folders, read as ``onethread kb ingest`` reads
them) goes into a scratch in-memory index: no database is involved. Each line of the
questions file is ``{"question": ..., "answer_ids": [...]}``; an answer id is either an
article's source key (its path inside the ``--kb`` folder, or the file name of a file
given directly) or a chunk key ``<source_key>#<ordinal>``, as ``onethread kb export``
names chunks. A question whose answer ids are all chunk keys is ranked by chunk;
otherwise by article (each article at the rank of its best chunk).

Metrics: ``hit_at_1`` and ``hit_at_5`` (an answer among the first 1 or 5), ``mrr`` (mean
of 1/rank of the first answer, 0 beyond ``DEPTH``), ``n``, and the search latency
(``p50_ms``, ``p99_ms``: one search, the query vector already computed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, cast

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.evaluation.reporting import EncoderOption, JsonOption, encoder_from_option
from onethread.assistant.knowledge.embedding import embed_passages, vector_from_bytes
from onethread.assistant.knowledge.index import (
    IndexedChunk,
    KnowledgeIndex,
    Passage,
    SearchMode,
)
from onethread.assistant.knowledge.ingest import prepare_article
from onethread.errors import InvalidInput
from onethread.knowledge.documents import chunk_key
from onethread.knowledge.files import iter_source_files
from onethread.knowledge.readers import read_document

DEPTH = 100  # passages looked at per question for the reciprocal rank
MODES: tuple[SearchMode, ...] = ("hybrid", "lexical", "semantic")


@dataclass(frozen=True)
class Question:
    text: str
    answer_ids: frozenset[str]
    language: str | None = None


@dataclass
class ScratchKnowledge:
    index: KnowledgeIndex
    articles: set[str]
    chunks: set[str]
    failures: list[tuple[str, str]]


def load_knowledge(
    paths: Sequence[Path], encoder: TextEncoder | None, *, language: str | None = None
) -> ScratchKnowledge:
    """Read, chunk and embed every file under ``paths`` into a new index."""
    index = KnowledgeIndex()
    articles: set[str] = set()
    chunks: list[IndexedChunk] = []
    failures: list[tuple[str, str]] = []
    for source in iter_source_files(paths):
        try:
            document = read_document(source.path.read_bytes(), source.path.name)
        except (InvalidInput, OSError) as error:
            failures.append((source.source_key, getattr(error, "message", str(error))))
            continue
        content = prepare_article(document, source.source_key, language=language)
        articles.add(content.source_key)
        chunks += [
            IndexedChunk(
                chunk_key=chunk_key(content.source_key, draft.ordinal),
                article_key=content.source_key,
                title=content.title,
                heading=draft.heading,
                text=draft.text,
                language=content.language,
            )
            for draft in content.chunks
        ]
    if encoder is not None:
        vectors = embed_passages(encoder, [(c.title, c.heading, c.text) for c in chunks])
        chunks = [
            replace(c, vector=vector_from_bytes(v)) for c, v in zip(chunks, vectors, strict=True)
        ]
    by_article: dict[str, list[IndexedChunk]] = {}
    for chunk in chunks:
        by_article.setdefault(chunk.article_key, []).append(chunk)
    for key, article_chunks in by_article.items():
        index.set_article(key, article_chunks)
    index.build()
    return ScratchKnowledge(index, articles, {c.chunk_key for c in chunks}, failures)


def read_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, ids = row["question"], row["answer_ids"]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidInput(f"{path}:{number}: not a question line ({error})") from error
        if not isinstance(text, str) or not isinstance(ids, list) or not ids:
            raise InvalidInput(f"{path}:{number}: needs a question and a non-empty answer_ids")
        questions.append(Question(text, frozenset(map(str, ids)), row.get("language")))
    if not questions:
        raise InvalidInput(f"{path}: no questions")
    return questions


def answer_rank(passages: Iterable[Passage], answers: frozenset[str], by_chunk: bool) -> int | None:
    """The 1-based rank of the first answer, counting chunks or (first chunk of) articles."""
    seen: set[str] = set()
    for passage in passages:
        key = passage.chunk_key if by_chunk else passage.article_key
        if key in seen:
            continue
        seen.add(key)
        if key in answers:
            return len(seen)
    return None


def evaluate(
    knowledge: ScratchKnowledge,
    questions: Sequence[Question],
    encoder: TextEncoder | None,
    mode: SearchMode = "hybrid",
) -> dict[str, Any]:
    unknown = sorted(
        {a for q in questions for a in q.answer_ids} - knowledge.articles - knowledge.chunks
    )
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} answer ids name no article or chunk of the knowledge, "
            f"such as {unknown[:3]}"
        )
    vectors = encoder.encode([q.text for q in questions]) if encoder is not None else None
    ranks: list[int | None] = []
    timings: list[float] = []
    for number, question in enumerate(questions):
        vector = vectors[number] if vectors is not None else None
        started = time.perf_counter()
        passages = knowledge.index.search(
            question.text, vector, language=question.language, k=DEPTH, mode=mode
        )
        timings.append((time.perf_counter() - started) * 1000)
        by_chunk = question.answer_ids <= knowledge.chunks
        ranks.append(answer_rank(passages, question.answer_ids, by_chunk))
    n = len(questions)
    return {
        "mode": mode,
        "encoder": encoder.name if encoder is not None else None,
        "n": n,
        "hit_at_1": round(sum(r == 1 for r in ranks) / n, 4),
        "hit_at_5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
        "articles": len(knowledge.articles),
        "chunks": len(knowledge.chunks),
        "p50_ms": round(float(np.percentile(timings, 50)), 3),
        "p99_ms": round(float(np.percentile(timings, 99)), 3),
    }


def kb_command(
    kb: Annotated[
        list[Path],
        typer.Option("--kb", help="Knowledge files or folders (repeat for several)."),
    ],
    questions: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help='JSON lines: {"question", "answer_ids"}'),
    ],
    mode: Annotated[
        str, typer.Option(help="hybrid, lexical (BM25), semantic (dense) or all")
    ] = "hybrid",
    encoder: EncoderOption = None,
    language: Annotated[
        str | None, typer.Option(help="Language of files that declare none (default: detected)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Retrieval quality of a knowledge base: hit@1, hit@5 and MRR on labelled questions."""
    modes = MODES if mode == "all" else (mode,)
    if any(m not in MODES for m in modes):
        raise typer.BadParameter(f"--mode must be one of {', '.join(MODES)} or all")
    text_encoder = encoder_from_option(encoder)
    try:
        knowledge = load_knowledge(kb, text_encoder, language=language)
        asked = read_questions(questions)
        results = {m: evaluate(knowledge, asked, text_encoder, cast(SearchMode, m)) for m in modes}
    except InvalidInput as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from error
    for source_key, reason in knowledge.failures:
        typer.echo(f"skipped {source_key}: {reason}", err=True)
    if as_json:
        typer.echo(json.dumps(results[modes[0]] if len(modes) == 1 else results))
        return
    table = Table("mode", "n", "hit@1", "hit@5", "MRR", "p50 ms", "p99 ms")
    for name, result in results.items():
        table.add_row(
            name,
            str(result["n"]),
            f"{result['hit_at_1']:.4f}",
            f"{result['hit_at_5']:.4f}",
            f"{result['mrr']:.4f}",
            f"{result['p50_ms']:.3f}",
            f"{result['p99_ms']:.3f}",
        )
    Console().print(table)
    typer.echo(
        f"{len(knowledge.articles)} articles, {len(knowledge.chunks)} chunks, "
        f"encoder {text_encoder.name}"
    )
