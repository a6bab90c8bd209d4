"""L2-regularised logistic regression in NumPy: softmax (one label per row) or one-vs-rest
sigmoids (any number of labels per row), fitted with L-BFGS.

The router trains on frozen sentence vectors, where a linear model is all that is needed:
a few hundred examples fit in milliseconds, 15,000 rows and 150 labels in seconds, and no
machine-learning library has to be installed. The objective follows scikit-learn's
convention, ``C · Σ weightᵢ · lossᵢ + ½‖W‖²`` (bias not penalised), so a ``C`` tuned there
means the same here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Matrix = NDArray[np.float32]

DEFAULT_C = 10.0
MAX_ITERATIONS = 400
HISTORY = 10
TOLERANCE = 1e-4


@dataclass(frozen=True)
class LinearModel:
    """Scores ``x @ weights + bias``; ``multi_label`` says sigmoid per column, else softmax."""

    weights: Matrix  # (dim, labels)
    bias: Matrix  # (labels,)
    multi_label: bool

    def logits(self, vectors: Matrix) -> Matrix:
        return np.asarray(vectors @ self.weights + self.bias, dtype=np.float32)

    def log_proba(self, vectors: Matrix) -> Matrix:
        """Log-probabilities: of each label (softmax rows), or of each label being present."""
        logits = self.logits(vectors)
        if self.multi_label:
            return np.asarray(-np.logaddexp(0.0, -logits), dtype=np.float32)
        return log_softmax(logits)


def log_softmax(logits: NDArray[np.floating]) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.asarray(
        shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), dtype=np.float32
    )


def fit_softmax(
    vectors: Matrix,
    targets: NDArray[np.intp],
    n_labels: int,
    *,
    c: float = DEFAULT_C,
    sample_weight: Floats | None = None,
) -> LinearModel:
    """Multinomial logistic regression: ``targets[i]`` is row i's label index."""
    onehot = np.zeros((len(targets), n_labels), dtype=np.float32)
    onehot[np.arange(len(targets)), targets] = 1.0
    return _fit(vectors, onehot, c=c, sample_weight=sample_weight, multi_label=False)


def fit_one_vs_rest(
    vectors: Matrix,
    indicators: NDArray[np.float32],
    *,
    c: float = DEFAULT_C,
    sample_weight: Floats | None = None,
) -> LinearModel:
    """One binary logistic regression per column of the 0/1 matrix ``indicators``."""
    return _fit(
        vectors,
        indicators.astype(np.float32),
        c=c,
        sample_weight=sample_weight,
        multi_label=True,
    )


def _fit(
    vectors: Matrix,
    targets: Matrix,
    *,
    c: float,
    sample_weight: Floats | None,
    multi_label: bool,
) -> LinearModel:
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    labels = targets.shape[1]
    weight = (
        np.ones(n, dtype=np.float32)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float32)
    )
    scaled = (c * weight)[:, None].astype(np.float32)

    def objective(theta: Floats) -> tuple[float, Floats]:
        w = theta[: dim * labels].reshape(dim, labels).astype(np.float32)
        b = theta[dim * labels :].astype(np.float32)
        logits = x @ w + b
        if multi_label:
            # Binary cross-entropy, written to stay finite for large |logits|.
            loss_rows = np.logaddexp(0.0, logits) - targets * logits
            residual = 1.0 / (1.0 + np.exp(-logits)) - targets
        else:
            log_p = log_softmax(logits)
            loss_rows = -(targets * log_p)
            residual = np.exp(log_p) - targets
        residual *= scaled
        loss = float((loss_rows * scaled).sum()) + 0.5 * float(
            np.dot(theta[: dim * labels], theta[: dim * labels])
        )
        grad_w = (x.T @ residual).astype(np.float64).ravel() + theta[: dim * labels]
        grad_b = residual.sum(axis=0, dtype=np.float64)
        return loss, np.concatenate([grad_w, grad_b])

    theta = minimize_lbfgs(objective, np.zeros(dim * labels + labels))
    return LinearModel(
        weights=theta[: dim * labels].reshape(dim, labels).astype(np.float32),
        bias=theta[dim * labels :].astype(np.float32),
        multi_label=multi_label,
    )


def minimize_lbfgs(
    objective: Callable[[Floats], tuple[float, Floats]],
    start: Floats,
    *,
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> Floats:
    """Minimise a smooth convex function: limited-memory BFGS with a backtracking
    (Armijo) line search. Stops when the largest gradient component falls below
    ``tolerance`` times its size at the start, or after ``max_iterations``."""
    theta = start.copy()
    value, grad = objective(theta)
    stop_at = tolerance * max(float(np.abs(grad).max()), 1e-12)
    steps: list[Floats] = []
    changes: list[Floats] = []
    for iteration in range(max_iterations):
        if float(np.abs(grad).max()) <= stop_at:
            break
        direction = _two_loop(grad, steps, changes)
        if float(np.dot(direction, grad)) >= 0:  # not a descent direction: restart
            steps.clear()
            changes.clear()
            direction = -grad
        step = 1.0 if steps or iteration else 1.0 / max(float(np.linalg.norm(grad)), 1e-12)
        slope = float(np.dot(direction, grad))
        for _ in range(30):
            candidate = theta + step * direction
            new_value, new_grad = objective(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break  # no decrease found: converged as far as float precision allows
        s, y = candidate - theta, new_grad - grad
        if float(np.dot(s, y)) > 1e-10:
            steps.append(s)
            changes.append(y)
            if len(steps) > HISTORY:
                steps.pop(0)
                changes.pop(0)
        theta, value, grad = candidate, new_value, new_grad
    return theta


def _two_loop(grad: Floats, steps: list[Floats], changes: list[Floats]) -> Floats:
    """The L-BFGS direction ``-H·grad`` from the stored (step, gradient change) pairs."""
    q = grad.copy()
    alphas = []
    for s, y in zip(reversed(steps), reversed(changes), strict=True):
        rho = 1.0 / float(np.dot(y, s))
        alpha = rho * float(np.dot(s, q))
        q -= alpha * y
        alphas.append((rho, alpha))
    if steps:
        q *= float(np.dot(steps[-1], changes[-1])) / float(np.dot(changes[-1], changes[-1]))
    for (s, y), (rho, alpha) in zip(
        zip(steps, changes, strict=True), reversed(alphas), strict=True
    ):
        beta = rho * float(np.dot(y, q))
        q += (alpha - beta) * s
    return -q
