"""The figures the routing evaluations print, computed the usual way."""

from __future__ import annotations

import math
from collections.abc import Sequence


def accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def macro_f1(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 over the labels of ``truth`` (scikit-learn's
    ``f1_score(average="macro")`` with ``labels`` = the true labels)."""
    scores = []
    for label in sorted(set(truth)):
        true_positives = sum(
            p == label and t == label for p, t in zip(predicted, truth, strict=True)
        )
        predicted_count = sum(p == label for p in predicted)
        true_count = sum(t == label for t in truth)
        denominator = predicted_count + true_count
        scores.append(2 * true_positives / denominator if denominator else 0.0)
    return sum(scores) / len(scores)


def set_f1(predicted: Sequence[set[str]], truth: Sequence[set[str]]) -> dict[str, float]:
    """Micro-F1 and macro-F1 over labels, and exact match, for sets of labels per message.
    Macro-F1 averages the labels that occur in ``truth``."""
    pairs = list(zip(predicted, truth, strict=True))
    true_positives = sum(len(p & t) for p, t in pairs)
    denominator = sum(len(p) + len(t) for p, t in pairs)
    labels = sorted(set().union(*truth)) if truth else []
    per_label = []
    for label in labels:
        hits = sum(label in p and label in t for p, t in pairs)
        count = sum(label in p for p, _ in pairs) + sum(label in t for _, t in pairs)
        per_label.append(2 * hits / count if count else 0.0)
    return {
        "micro_f1": 2 * true_positives / denominator if denominator else 1.0,
        "macro_f1": sum(per_label) / len(per_label) if per_label else 1.0,
        "exact_match": sum(p == t for p, t in pairs) / len(pairs),
    }


def topic_count_rates(
    predicted: Sequence[set[str]], truth: Sequence[set[str]]
) -> dict[str, float | None]:
    """``all_found_rate``: messages with two labels or more whose labels were all found;
    ``extra_label_rate``: messages with exactly one label given another one too."""
    several = [p >= t for p, t in zip(predicted, truth, strict=True) if len(t) >= 2]
    single = [bool(p - t) for p, t in zip(predicted, truth, strict=True) if len(t) == 1]
    return {
        "all_found_rate": sum(several) / len(several) if several else None,
        "extra_label_rate": sum(single) / len(single) if single else None,
    }


def percentile_ms(seconds: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(seconds)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1] * 1000
