"""`onethread eval multi`: several topics per message.

Two modes:

- ``ovr`` (default): ``MultiLabelRouter``, one-vs-rest over the whole message, for data
  such as NLU++ where the labels of one clause combine ("lost" + "card" + "block");
- ``segments``: the single-label ``TopicRouter`` (trained on lines that have exactly one
  label, threshold calibrated on them) applied clause by clause with ``route``: the
  product's path for "I was double-charged and the export button is broken".

Figures: ``micro_f1`` and ``macro_f1`` over labels, ``exact_match`` (the predicted set
equals the true set, the empty set included), ``all_found_rate`` (messages with two
labels or more that got all of them) and ``extra_label_rate`` (messages with one label
that got another one too).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import typer

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.evaluation.datasets import MultiLabelled, read_multilabel_jsonl
from onethread.assistant.evaluation.metrics import set_f1, topic_count_rates
from onethread.assistant.evaluation.reporting import (
    DEFAULT_LATENCY_SAMPLES,
    CacheOption,
    EncoderOption,
    JsonOption,
    LatencyOption,
    encoder_from_option,
    evenly_spaced,
    run_and_print,
    time_each,
)
from onethread.assistant.evaluation.vectors import encode_texts
from onethread.assistant.multilabel import MultiLabelConfig, MultiLabelRouter
from onethread.assistant.routing import TopicRouter, routed_clauses
from onethread.errors import InvalidInput

Mode = Literal["ovr", "segments"]


def evaluate_multi(
    train: MultiLabelled,
    test: MultiLabelled,
    encoder: TextEncoder,
    *,
    mode: Mode = "ovr",
    cache_dir: Path | None = None,
    latency_samples: int = DEFAULT_LATENCY_SAMPLES,
    seed: int = 0,
    config: MultiLabelConfig | None = None,
) -> dict[str, Any]:
    """``config`` applies to the ``ovr`` mode's router."""
    if mode == "ovr":
        predicted, extra = _one_vs_rest(
            train, test, encoder, cache_dir, latency_samples, seed, config
        )
    elif mode == "segments":
        predicted, extra = _segments(train, test, encoder, cache_dir, latency_samples, seed)
    else:
        raise ValueError(f"unknown mode {mode!r}: ovr or segments")
    truth = [set(labels) for labels in test.label_sets]
    return {
        **set_f1(predicted, truth),
        "n": len(test),
        **topic_count_rates(predicted, truth),
        **extra,
        "n_train": len(train),
        "mode": mode,
        "encoder": encoder.name,
    }


def _one_vs_rest(
    train: MultiLabelled,
    test: MultiLabelled,
    encoder: TextEncoder,
    cache_dir: Path | None,
    latency_samples: int,
    seed: int,
    config: MultiLabelConfig | None,
) -> tuple[list[set[str]], dict[str, Any]]:
    train_vectors = encode_texts(encoder, train.texts, cache_dir)
    test_vectors = encode_texts(encoder, test.texts, cache_dir)
    started = time.perf_counter()
    router = MultiLabelRouter.train_calibrated(
        train.texts, train.label_sets, encoder, vectors=train_vectors, seed=seed, config=config
    )
    train_seconds = time.perf_counter() - started
    predicted = [{score.label for score in row} for row in router.predict(test_vectors, test.texts)]
    timed = evenly_spaced(test.texts, latency_samples)
    latency = time_each(timed, lambda text: router.predict(encoder.encode([text]), [text]))
    extra = {**latency, "threshold": router.threshold, "train_seconds": train_seconds}
    return predicted, extra


def _segments(
    train: MultiLabelled,
    test: MultiLabelled,
    encoder: TextEncoder,
    cache_dir: Path | None,
    latency_samples: int,
    seed: int,
) -> tuple[list[set[str]], dict[str, Any]]:
    if any(len(labels) != 1 for labels in train.label_sets):
        raise InvalidInput("--mode segments trains on lines with exactly one label each")
    train_vectors = encode_texts(encoder, train.texts, cache_dir)
    started = time.perf_counter()
    router = TopicRouter.train_calibrated(
        train.texts,
        [labels[0] for labels in train.label_sets],
        encoder,
        oos_label=None,
        vectors=train_vectors,
        seed=seed,
    )
    train_seconds = time.perf_counter() - started
    clauses = [routed_clauses(text) for text in test.texts]
    units = [
        unit for text, found in zip(test.texts, clauses, strict=True) for unit in (text, *found)
    ]
    vectors = encode_texts(encoder, units, cache_dir)
    predicted = []
    position = 0
    for text, found in zip(test.texts, clauses, strict=True):
        rows = vectors[position : position + 1 + len(found)]
        position += 1 + len(found)
        routed = router.route(text, rows[0], list(zip(found, rows[1:], strict=True)))
        predicted.append({match.label for match in routed})
    timed = evenly_spaced(test.texts, latency_samples)
    latency = time_each(timed, lambda text: router.route_message(text, encoder))
    segmented = float(np.mean([len(found) > 1 for found in clauses]))
    extra = {
        **latency,
        "threshold": router.threshold,
        "segmented_rate": segmented,
        "train_seconds": train_seconds,
    }
    return predicted, extra


def multi_command(
    train: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help='JSON lines: {"text", "labels"}')
    ],
    test: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON lines, same keys")],
    mode: Annotated[
        str, typer.Option(help="ovr (one-vs-rest) or segments (route clause by clause)")
    ] = "ovr",
    seed: Annotated[int, typer.Option(help="Seed of the calibration folds")] = 0,
    encoder: EncoderOption = None,
    cache_dir: CacheOption = None,
    latency_samples: LatencyOption = DEFAULT_LATENCY_SAMPLES,
    as_json: JsonOption = False,
) -> None:
    """Several topics per message: micro-F1, macro-F1 and exact match."""
    if mode not in ("ovr", "segments"):
        raise typer.BadParameter("--mode must be ovr or segments")
    text_encoder = encoder_from_option(encoder)
    run_and_print(
        lambda: evaluate_multi(
            read_multilabel_jsonl(train),
            read_multilabel_jsonl(test),
            text_encoder,
            mode="ovr" if mode == "ovr" else "segments",
            cache_dir=cache_dir,
            latency_samples=latency_samples,
            seed=seed,
        ),
        as_json=as_json,
        title="multi-topic routing",
    )
