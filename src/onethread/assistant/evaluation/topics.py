"""`onethread eval topics`: topic routing accuracy on a labelled dataset.

Trains ``TopicRouter`` on ``--train`` (optionally only ``--shots`` examples per label),
predicts every ``--test`` message's best topic (no out-of-scope threshold: every message
gets a topic) and prints accuracy, macro-F1 and the latency of routing one message,
encoding included (``p50_ms``/``p99_ms``) and without it (``router_p50_ms``...).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.evaluation.datasets import Labelled, read_labelled_csv, sample_shots
from onethread.assistant.evaluation.metrics import accuracy, macro_f1
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
from onethread.assistant.routing import RouterConfig, TopicRouter


def evaluate_topics(
    train: Labelled,
    test: Labelled,
    encoder: TextEncoder,
    *,
    shots: int | None = None,
    seed: int = 0,
    cache_dir: Path | None = None,
    latency_samples: int = DEFAULT_LATENCY_SAMPLES,
    config: RouterConfig | None = None,
) -> dict[str, Any]:
    if shots is not None:
        train = sample_shots(train, shots, seed)
    train_vectors = encode_texts(encoder, train.texts, cache_dir)
    test_vectors = encode_texts(encoder, test.texts, cache_dir)
    started = time.perf_counter()
    router = TopicRouter.train(
        train.texts, train.labels, encoder, vectors=train_vectors, config=config
    )
    train_seconds = time.perf_counter() - started
    probabilities = router.confidences(test_vectors, test.texts)
    predicted = [router.labels[i] for i in np.argmax(probabilities, axis=1)]
    timed = evenly_spaced(test.texts, latency_samples)
    vectors_of_timed = encode_texts(encoder, timed, cache_dir)
    by_text = dict(zip(timed, vectors_of_timed, strict=True))
    whole = time_each(timed, lambda text: router.predict(encoder.encode([text]), [text], top=1))
    routing_only = time_each(timed, lambda text: router.predict(by_text[text], [text], top=1))
    return {
        "accuracy": accuracy(predicted, test.labels),
        "macro_f1": macro_f1(predicted, test.labels),
        "n": len(test),
        **whole,
        **{f"router_{key}": value for key, value in routing_only.items()},
        "n_train": len(train),
        "labels": len(router.labels),
        "train_seconds": train_seconds,
        "encoder": encoder.name,
        "shots": shots,
        "seed": seed,
    }


def topics_command(
    train: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="CSV: text, label (or category)")
    ],
    test: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="CSV, same columns")],
    shots: Annotated[
        int | None, typer.Option(min=1, help="Train on this many examples per label")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the --shots sample")] = 0,
    encoder: EncoderOption = None,
    cache_dir: CacheOption = None,
    latency_samples: LatencyOption = DEFAULT_LATENCY_SAMPLES,
    as_json: JsonOption = False,
) -> None:
    """Topic routing: accuracy, macro-F1 and per-message latency on a labelled test set."""
    text_encoder = encoder_from_option(encoder)
    run_and_print(
        lambda: evaluate_topics(
            read_labelled_csv(train),
            read_labelled_csv(test),
            text_encoder,
            shots=shots,
            seed=seed,
            cache_dir=cache_dir,
            latency_samples=latency_samples,
        ),
        as_json=as_json,
        title="topic routing",
    )
