"""`onethread eval handoff`: when to hand off instead of guessing (out-of-scope detection).

The router is trained on ``--train`` and its out-of-scope threshold calibrated on that file
alone (``TopicRouter.train_calibrated``: cross-fitted folds of the training file; rows
labelled ``--oos-label`` are only ever used for calibration). Then each ``--test`` message
is answered with a topic or handed off. Figures (Larson et al. 2019 for the first two):

- ``in_scope_accuracy``: in-scope messages answered with their topic (a handoff is an error);
- ``oos_recall``: out-of-scope messages handed off;
- ``oos_precision``: handed-off messages that were out of scope;
- ``answered_rate``: all messages answered; ``answered_accuracy``: answered messages whose
  topic was right (an answered out-of-scope message is wrong).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from onethread.assistant.calibration import DEFAULT_FOLDS, DEFAULT_OOS_SHARE
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.evaluation.datasets import Labelled, read_labelled_csv
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


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def evaluate_handoff(
    train: Labelled,
    test: Labelled,
    encoder: TextEncoder,
    *,
    oos_label: str = "oos",
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    oos_share: float = DEFAULT_OOS_SHARE,
    cache_dir: Path | None = None,
    latency_samples: int = DEFAULT_LATENCY_SAMPLES,
    config: RouterConfig | None = None,
) -> dict[str, Any]:
    train_vectors = encode_texts(encoder, train.texts, cache_dir)
    test_vectors = encode_texts(encoder, test.texts, cache_dir)
    started = time.perf_counter()
    router = TopicRouter.train_calibrated(
        train.texts,
        train.labels,
        encoder,
        oos_label=oos_label,
        vectors=train_vectors,
        config=config,
        folds=folds,
        seed=seed,
        oos_share=oos_share,
    )
    train_seconds = time.perf_counter() - started
    probabilities = router.confidences(test_vectors, test.texts)
    best = np.argmax(probabilities, axis=1)
    answered = probabilities[np.arange(len(best)), best] >= router.threshold
    truth = np.array(test.labels)
    is_oos = truth == oos_label
    right = answered & (np.array(router.labels)[best] == truth)
    timed = evenly_spaced(test.texts, latency_samples)
    latency = time_each(timed, lambda text: router.decide(encoder.encode([text])[0], text))
    calibration = router.calibration
    return {
        "in_scope_accuracy": _ratio(int(right[~is_oos].sum()), int((~is_oos).sum())),
        "oos_recall": _ratio(int((~answered[is_oos]).sum()), int(is_oos.sum())),
        "oos_precision": _ratio(int((~answered & is_oos).sum()), int((~answered).sum())),
        "answered_rate": float(answered.mean()),
        "answered_accuracy": _ratio(int(right.sum()), int(answered.sum())),
        "n": len(test),
        "n_in_scope": int((~is_oos).sum()),
        "n_oos": int(is_oos.sum()),
        **latency,
        "threshold": router.threshold,
        "objective": None if calibration is None else calibration.objective,
        "calibration": None if calibration is None else calibration.as_dict(),
        "n_train": len(train),
        "train_seconds": train_seconds,
        "encoder": encoder.name,
    }


def handoff_command(
    train: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="CSV: text, label; out-of-scope rows too"),
    ],
    test: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="CSV, same columns")],
    oos_label: Annotated[str, typer.Option(help="The label of out-of-scope rows")] = "oos",
    oos_share: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of out-of-scope traffic the threshold assumes"),
    ] = DEFAULT_OOS_SHARE,
    folds: Annotated[int, typer.Option(min=2, help="Cross-fitting folds for calibration")] = (
        DEFAULT_FOLDS
    ),
    seed: Annotated[int, typer.Option(help="Seed of the folds")] = 0,
    encoder: EncoderOption = None,
    cache_dir: CacheOption = None,
    latency_samples: LatencyOption = DEFAULT_LATENCY_SAMPLES,
    as_json: JsonOption = False,
) -> None:
    """Out-of-scope handoff: threshold calibrated on --train alone, measured on --test."""
    text_encoder = encoder_from_option(encoder)
    run_and_print(
        lambda: evaluate_handoff(
            read_labelled_csv(train),
            read_labelled_csv(test),
            text_encoder,
            oos_label=oos_label,
            folds=folds,
            seed=seed,
            oos_share=oos_share,
            cache_dir=cache_dir,
            latency_samples=latency_samples,
        ),
        as_json=as_json,
        title="out-of-scope handoff",
    )
