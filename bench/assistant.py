"""A full assistant decision, timed: understanding, retrieval over N chunks, policy, reply.

    python -m bench.assistant [--chunks 10000] [--turns 300] [--encoder auto|lexical]

The demo playbook's knowledge and human-only topics (actions call a service over HTTP
and are timed by their own tests), a knowledge index of ``--chunks`` passages (the
demo's articles plus generated filler, with embeddings), no language model. Each turn
is ``brain.decide`` on an in-memory snapshot: no database, as the worker runs it after
loading the snapshot. Prints p50/p99 of the whole decision and of its steps, and the
process's RSS with the encoder and the index loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import time
from datetime import UTC, datetime
from importlib import resources

import httpx

from onethread.assistant.brain import decide
from onethread.assistant.deps import AssistantDeps, PlaybookRuntime
from onethread.assistant.encoder import load_encoder
from onethread.assistant.knowledge.index import IndexedChunk, KnowledgeIndex
from onethread.assistant.simulation import IndexSearch, SimulatedThread
from onethread.assistant.snapshot import ConversationSnapshot
from onethread.assistant.topics import build_router
from onethread.demo.playbook import demo_playbook
from onethread.knowledge.chunking import chunk_document
from onethread.knowledge.readers import read_text_as

MESSAGES = [
    "How do I turn on two-factor authentication?",
    "I forgot my password and the reset link doesn't arrive",
    "What does error 429 mean on the API?",
    "the export button is broken, nothing happens when I click it",
    "Can I connect onethread to Slack?",
    "What is your refund policy?",
    "how much does the Business plan cost per seat?",
    "I'd like to delete all my data",
    "can I add more people to my account?",
    "how do I move to a bigger plan",
]
WORDS = [
    "account",
    "invoice",
    "export",
    "dashboard",
    "report",
    "seat",
    "plan",
    "billing",
    "integration",
    "webhook",
    "token",
    "password",
    "security",
    "team",
    "member",
    "workspace",
    "widget",
    "channel",
    "message",
    "inbox",
    "agent",
    "storage",
    "limit",
    "quota",
    "region",
    "backup",
    "archive",
    "audit",
    "filter",
    "label",
    "schedule",
    "reminder",
    "template",
]


def _index(encoder_name: str, chunks: int) -> tuple[KnowledgeIndex, float]:
    encoder = load_encoder(encoder_name)  # type: ignore[arg-type]
    rows: list[tuple[str, str, str, str]] = []
    folder = resources.files("onethread.demo").joinpath("knowledge")
    entries = sorted(folder.iterdir(), key=lambda e: e.name) if folder.is_dir() else []
    for entry in entries:
        if entry.name.endswith(".md"):
            document = read_text_as(entry.read_text("utf-8"), "markdown", entry.name)
            for chunk in chunk_document(document):
                rows.append((entry.name, document.title, chunk.heading, chunk.text))
    rng = random.Random(7)
    while len(rows) < chunks:
        number = len(rows)
        text = " ".join(rng.choice(WORDS) for _ in range(60))
        rows.append((f"filler-{number // 10}", f"Filler {number // 10}", f"Part {number}", text))
    started = time.perf_counter()
    vectors = encoder.encode([f"{title}\n{heading}\n{text}" for _, title, heading, text in rows])
    took = time.perf_counter() - started
    index = KnowledgeIndex()
    by_article: dict[str, list[IndexedChunk]] = {}
    for number, ((key, title, heading, text), vector) in enumerate(zip(rows, vectors, strict=True)):
        by_article.setdefault(key, []).append(
            IndexedChunk(f"{key}#{number}", key, title, heading, text, "en", number, None, vector)
        )
    for key, found in by_article.items():
        index.set_article(key, found)
    index.build()
    return index, took


def _snapshot(text: str) -> ConversationSnapshot:
    """A new thread whose first message is ``text`` (``assistant/simulation.py``)."""
    thread = SimulatedThread()
    now = datetime.now(UTC)
    thread.customer_says(text, now)
    return thread.snapshot(now, repeat_days=None)


async def run(encoder_name: str, chunks: int, turns: int) -> None:
    encoder = load_encoder(encoder_name)  # type: ignore[arg-type]
    index, embed_seconds = _index(encoder_name, chunks)
    playbook = demo_playbook("http://127.0.0.1:9")
    runtime = PlaybookRuntime(1, playbook, 1, build_router(playbook, encoder), {})
    async with httpx.AsyncClient() as http:
        deps = AssistantDeps(encoder=encoder, http=http, knowledge=IndexSearch(index))
        for text in MESSAGES:  # warm up
            await decide(_snapshot(text), runtime, deps)
        totals: list[float] = []
        steps: dict[str, list[float]] = {}
        outcomes: dict[str, int] = {}
        for number in range(turns):
            text = MESSAGES[number % len(MESSAGES)]
            started = time.perf_counter()
            decision = await decide(_snapshot(text), runtime, deps)
            totals.append((time.perf_counter() - started) * 1000)
            for step, value in decision.timings_ms.items():
                steps.setdefault(step, []).append(value)
            key = f"{decision.outcome.value}:{decision.reason.value}"
            outcomes[key] = outcomes.get(key, 0) + 1

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"encoder={encoder.name} chunks={len(index)} turns={turns}")
    print(f"(embedding the index took {embed_seconds:.1f} s)")
    print(f"decision  p50 {pct(totals, 50):6.2f} ms   p99 {pct(totals, 99):6.2f} ms")
    for step, values in steps.items():
        print(f"  {step:<10} p50 {pct(values, 50):6.2f} ms   p99 {pct(values, 99):6.2f} ms")
    print(f"peak RSS {rss_mb:.0f} MB")
    print("outcomes:", ", ".join(f"{k} x{v}" for k, v in sorted(outcomes.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--encoder", default="auto", choices=["auto", "minilm", "lexical"])
    args = parser.parse_args()
    asyncio.run(run(args.encoder, args.chunks, args.turns))


if __name__ == "__main__":
    main()
