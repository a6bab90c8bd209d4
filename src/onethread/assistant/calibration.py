"""The out-of-scope threshold: below it a message belongs to no topic and is handed off.

The threshold is chosen on held-out predictions (``routing.TopicRouter.train_calibrated``
produces them by cross-fitting on the training data) to maximise one documented objective:

- **With out-of-scope examples** (``oos_share`` π, 0.1 by default): the expected accuracy
  of the decision on traffic where a share π of messages is out of scope,
  ``(1 - π) · in-scope accuracy + π · out-of-scope recall``. In-scope accuracy counts a
  message right only when it is answered *and* routed to its topic (handing it off is an
  error, as in Larson et al. 2019); out-of-scope recall is the share handed off.
- **Without them** (``selective``): the accuracy of the answer-or-hand-off decision on the
  in-scope examples alone, where handing off is right exactly when the topic would have
  been wrong. It sets the threshold where the router starts to be wrong more often than
  right, which is as far as in-scope data can say anything about out-of-scope messages.

Candidate thresholds are the midpoints between consecutive observed confidences; among
equally good ones the middle of the best run is taken, so the choice does not hug a
single example.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

DEFAULT_OOS_SHARE = 0.1
DEFAULT_FOLDS = 5

Objective = Literal["oos", "selective"]


@dataclass(frozen=True)
class Calibration:
    """A chosen threshold and what it did on the held-out predictions it was chosen on."""

    threshold: float
    objective: Objective
    score: float  # the objective's value at the threshold
    in_scope_accuracy: float  # answered and routed right, over held-out in-scope messages
    answered_rate: float  # in-scope messages answered
    oos_recall: float | None  # out-of-scope messages handed off (None: none held out)
    n_in_scope: int
    n_out_of_scope: int
    oos_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_threshold(
    in_scope_confidence: NDArray[np.floating],
    in_scope_correct: NDArray[np.bool_],
    oos_confidence: NDArray[np.floating] | None = None,
    *,
    oos_share: float = DEFAULT_OOS_SHARE,
) -> Calibration:
    """The threshold that maximises the module's objective on held-out predictions:
    top confidence of each in-scope message and whether its top topic was right, and the
    top confidence of each out-of-scope message (none: the ``selective`` objective)."""
    confidence = np.asarray(in_scope_confidence, dtype=np.float64)
    correct = np.asarray(in_scope_correct, dtype=bool)
    if len(confidence) == 0:
        raise ValueError("calibration needs held-out in-scope predictions")
    oos = np.asarray(oos_confidence if oos_confidence is not None else [], dtype=np.float64)
    candidates = _candidates(np.concatenate([confidence, oos]))
    # For each candidate t: answered = confidence >= t.
    right_answered = _count_at_least(confidence[correct], candidates)
    wrong_answered = _count_at_least(confidence[~correct], candidates)
    in_accuracy = right_answered / len(confidence)
    if len(oos):
        recall = 1.0 - _count_at_least(oos, candidates) / len(oos)
        scores = (1.0 - oos_share) * in_accuracy + oos_share * recall
        objective: Objective = "oos"
    else:
        handed_off_wrong = (~correct).sum() - wrong_answered
        scores = (right_answered + handed_off_wrong) / len(confidence)
        objective = "selective"
    best = _middle_of_best(scores)
    return Calibration(
        threshold=float(candidates[best]),
        objective=objective,
        score=float(scores[best]),
        in_scope_accuracy=float(in_accuracy[best]),
        answered_rate=float((right_answered[best] + wrong_answered[best]) / len(confidence)),
        oos_recall=float(recall[best]) if len(oos) else None,
        n_in_scope=len(confidence),
        n_out_of_scope=len(oos),
        oos_share=oos_share if len(oos) else None,
    )


def _candidates(confidences: NDArray[np.float64]) -> NDArray[np.float64]:
    """0, then every midpoint between consecutive distinct confidences, then above all."""
    distinct = np.unique(confidences)
    midpoints = (distinct[1:] + distinct[:-1]) / 2
    top = min(float(distinct[-1]) + 1e-6, 1.0 + 1e-6)
    return np.concatenate([[0.0], midpoints, [top]])


def _count_at_least(values: NDArray[np.float64], thresholds: NDArray[np.float64]) -> Any:
    ordered = np.sort(values)
    return len(ordered) - np.searchsorted(ordered, thresholds, side="left")


def _middle_of_best(scores: NDArray[np.float64]) -> int:
    """The index in the middle of the first longest run of maximal scores."""
    best = np.flatnonzero(np.isclose(scores, scores.max(), rtol=0, atol=1e-12))
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    longest = max(runs, key=len)
    return int(longest[len(longest) // 2])


def shuffled_by_label(labels: Sequence[str], seed: int) -> dict[str, list[int]]:
    """The indices of each label, labels in sorted order, each label's indices shuffled
    with ``random.Random(f"{seed}:{label}")`` (no hash salt involved)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    for label, members in by_label.items():
        random.Random(f"{seed}:{label}").shuffle(members)
    return {label: by_label[label] for label in sorted(by_label)}


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> NDArray[np.intp]:
    """A fold number per example, each label spread evenly over the folds; examples are
    shuffled per label (``shuffled_by_label``)."""
    assigned = np.zeros(len(labels), dtype=np.intp)
    offset = 0
    for members in shuffled_by_label(labels, seed).values():
        for position, index in enumerate(members):
            assigned[index] = (offset + position) % folds
        offset += len(members)  # rotate the start so small labels do not all land in fold 0
    return assigned
