"""Text encoder figures: load time, memory, one-text latency and batch throughput.

    python -m bench.encoder                      # MiniLM and lexical, as in docs/benchmarks.md
    python -m bench.encoder --encoder lexical    # one of them
    python -m bench.encoder --json               # the figures as one JSON object

Each encoder is measured in a fresh child process, so that its import, load time and
resident memory are its own. The texts are BANKING77 customer queries from the shared data
(``$ONETHREAD_SHARED_DIR``, else ``/work/shared``), or the seed's ten messages without them.
Single-text latency encodes one text per call, as the assistant does for a message (the
encoder holds BLAS at one thread); throughput encodes lists of ``--batch`` texts. Beside
wall-clock figures, CPU time (``process_time``): on a machine shared with other work the
wall clock measures the neighbours too, the CPU time much less so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

ENCODERS = ("minilm", "lexical")


def current_rss_mb() -> float:
    """This process's resident memory now (not its peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_texts(limit: int) -> tuple[list[str], str]:
    """Up to ``limit`` customer queries and where they came from."""
    path = Path(os.environ.get("ONETHREAD_SHARED_DIR", "/work/shared"))
    path = path / "data" / "banking77" / "train.csv"
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as file:
            texts = [row["text"] for row in csv.DictReader(file)]
        # Every 7th row: all 77 intents, not the first few in file order.
        return texts[::7][:limit], "BANKING77 train.csv"
    from bench.seed import TEXTS

    return [TEXTS[i % len(TEXTS)] for i in range(limit)], "bench.seed.TEXTS"


def measure(kind: str, single: int, batches: int, batch: int) -> dict[str, Any]:
    """Everything about one encoder, in this process (run it in a fresh one)."""
    texts, source = load_texts(max(single, batches * batch))
    rss_before = current_rss_mb()
    started = perf_counter()
    from onethread.assistant.encoder import load_encoder

    imported = perf_counter()
    encoder = load_encoder("minilm" if kind == "minilm" else "lexical")
    loaded = perf_counter()
    rss_loaded = current_rss_mb()
    encoder.encode(texts[:1])
    first = perf_counter()

    from bench.harness import peak_rss_mb, summarize

    for text in texts[:20]:
        encoder.encode([text])
    timings, cpu_timings = [], []
    for text in texts[:single]:
        start, cpu_start = perf_counter(), process_time()
        encoder.encode([text])
        timings.append(perf_counter() - start)
        cpu_timings.append(process_time() - cpu_start)
    latency, cpu_latency = summarize(timings), summarize(cpu_timings)

    encoder.encode(texts[:batch])
    start, cpu_start = perf_counter(), process_time()
    for index in range(batches):
        encoder.encode(texts[index * batch : (index + 1) * batch])
    batch_seconds, batch_cpu_seconds = perf_counter() - start, process_time() - cpu_start
    return {
        "encoder": encoder.name,
        "dim": encoder.dim,
        "texts": source,
        "mean_chars": round(sum(map(len, texts[:single])) / single, 1),
        "import_s": round(imported - started, 3),
        "load_s": round(loaded - imported, 3),
        "first_encode_ms": round((first - loaded) * 1000, 1),
        "rss_before_import_mb": round(rss_before, 1),
        "rss_after_load_mb": round(rss_loaded, 1),
        "single_p50_ms": round(latency.p50_ms, 2),
        "single_p99_ms": round(latency.p99_ms, 2),
        "single_cpu_p50_ms": round(cpu_latency.p50_ms, 2),
        "single_count": latency.count,
        "batch": batch,
        "batch_texts_per_s": round(batches * batch / batch_seconds, 1),
        "batch_texts_per_cpu_s": round(batches * batch / batch_cpu_seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def measure_in_child(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.encoder", "--child", kind]
    command += ["--single", str(args.single), "--batches", str(args.batches)]
    command += ["--batch", str(args.batch)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", choices=[*ENCODERS, "both"], default="both")
    parser.add_argument("--single", type=int, default=500, help="one-text encodes timed")
    parser.add_argument("--batches", type=int, default=30, help="batches timed")
    parser.add_argument("--batch", type=int, default=32, help="texts per batch")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=ENCODERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.single, args.batches, args.batch)))
        return

    from bench.harness import format_table, machine

    before = machine()
    kinds = ENCODERS if args.encoder == "both" else (args.encoder,)
    results = [measure_in_child(kind, args) for kind in kinds]
    report = {"machine_before": before, "machine_after": machine(), "encoders": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    headers = [
        "encoder",
        "load s",
        "RSS after load MB",
        "p50 ms",
        "p99 ms",
        "CPU p50 ms",
        "batch texts/s",
        "per CPU s",
    ]
    rows = [
        [
            f"{r['encoder']} ({r['dim']})",
            r["load_s"],
            r["rss_after_load_mb"],
            r["single_p50_ms"],
            r["single_p99_ms"],
            r["single_cpu_p50_ms"],
            r["batch_texts_per_s"],
            r["batch_texts_per_cpu_s"],
        ]
        for r in results
    ]
    print(format_table(f"Text encoders ({results[0]['texts']})", headers, rows))
    for r in results:
        print(
            f"{r['encoder']}: import {r['import_s']} s, first encode {r['first_encode_ms']} ms, "
            f"RSS before import {r['rss_before_import_mb']} MB, peak {r['peak_rss_mb']} MB, "
            f"{r['single_count']} single texts of {r['mean_chars']} characters on average, "
            f"batches of {r['batch']}"
        )
    print(f"load average before {before['load_average']}, after {machine()['load_average']}")


if __name__ == "__main__":
    main()
