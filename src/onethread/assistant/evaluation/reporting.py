"""What the dataset evaluations share: the common options, the encoder, latency, output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from onethread.assistant.encoder import EncoderChoice, TextEncoder
from onethread.assistant.evaluation.metrics import percentile_ms
from onethread.errors import InvalidInput

DEFAULT_LATENCY_SAMPLES = 200
WARM_UP = 5

EncoderOption = Annotated[
    str | None, typer.Option(help="auto, minilm or lexical (default: the setting)")
]
CacheOption = Annotated[
    Path | None,
    typer.Option(help="Keep the datasets' vectors here between runs (one file per encoder)"),
]
LatencyOption = Annotated[
    int, typer.Option(help="Messages timed one by one, encoding included (0: skip)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object")]


def encoder_from_option(choice: str | None) -> TextEncoder:
    from onethread.assistant.encoder import load_encoder
    from onethread.settings import get_settings

    chosen = choice or get_settings().encoder
    if chosen not in ("auto", "minilm", "lexical"):
        raise typer.BadParameter("--encoder must be auto, minilm or lexical")
    return load_encoder(cast(EncoderChoice, chosen))


def evenly_spaced(texts: Sequence[str], count: int) -> list[str]:
    """Up to ``count`` texts spread over the whole list (the same ones every run)."""
    if count <= 0 or not texts:
        return []
    step = max(len(texts) / count, 1.0)
    return [texts[int(i * step)] for i in range(min(count, len(texts)))]


def time_each(texts: Sequence[str], handle: Callable[[str], object]) -> dict[str, float]:
    """p50/p99 milliseconds of ``handle(text)`` one text at a time, after a warm-up."""
    if not texts:
        return {}
    for text in texts[:WARM_UP]:
        handle(text)
    seconds = []
    for text in texts:
        started = time.perf_counter()
        handle(text)
        seconds.append(time.perf_counter() - started)
    return {"p50_ms": percentile_ms(seconds, 0.50), "p99_ms": percentile_ms(seconds, 0.99)}


def print_result(result: Mapping[str, Any], *, as_json: bool, title: str) -> None:
    """One JSON object, or a two-column Rich table of the scalar figures."""
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table("figure", "value", title=title)
    for key, value in result.items():
        if isinstance(value, float):
            table.add_row(key, f"{value:.4f}")
        elif isinstance(value, (int, str)) or value is None:
            table.add_row(key, str(value))
    Console().print(table)


def run_and_print(compute: Callable[[], Mapping[str, Any]], *, as_json: bool, title: str) -> None:
    """``print_result`` of ``compute()``; bad input (``InvalidInput``, ``ValueError``) is
    printed as one error line and exits with status 2."""
    try:
        result = compute()
    except (InvalidInput, ValueError) as error:
        message = error.message if isinstance(error, InvalidInput) else str(error)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from error
    print_result(result, as_json=as_json, title=title)
