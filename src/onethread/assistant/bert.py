"""A BERT encoder's forward pass in NumPy float32, with mean pooling: inference only.

Embeddings (word + position + token type 0) → LayerNorm → per layer: self-attention with
an additive mask on padding, residual, LayerNorm, GELU feed-forward, residual, LayerNorm.
Weights are rearranged once at load: matrices transposed to (in, out) and contiguous,
query/key/value fused into one product with the 1/sqrt(head size) scale folded into the
query columns, position and token-type embeddings summed. Per-token work skips padding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float32]


@dataclass(frozen=True)
class BertShape:
    hidden_size: int
    num_layers: int
    num_heads: int
    layer_norm_eps: float

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads


@dataclass(frozen=True)
class Layer:
    qkv_weight: Array  # (hidden, 3 * hidden): query (pre-scaled), key, value
    qkv_bias: Array
    attention_out_weight: Array
    attention_out_bias: Array
    attention_norm: tuple[Array, Array]
    up_weight: Array  # (hidden, intermediate)
    up_bias: Array
    down_weight: Array  # (intermediate, hidden)
    down_bias: Array
    output_norm: tuple[Array, Array]


class Bert:
    def __init__(self, shape: BertShape, tensors: Mapping[str, NDArray[np.generic]]) -> None:
        self.shape = shape

        def tensor(name: str) -> Array:
            return np.ascontiguousarray(tensors[name], dtype=np.float32)

        def linear(prefix: str) -> tuple[Array, Array]:
            weight = tensor(f"{prefix}.weight")  # torch stores (out, in)
            return np.ascontiguousarray(weight.T), tensor(f"{prefix}.bias")

        def norm(prefix: str) -> tuple[Array, Array]:
            return tensor(f"{prefix}.weight"), tensor(f"{prefix}.bias")

        self.word_embeddings = tensor("embeddings.word_embeddings.weight")
        self.position_embeddings = (
            tensor("embeddings.position_embeddings.weight")
            + tensor("embeddings.token_type_embeddings.weight")[0]
        )
        self.embedding_norm = norm("embeddings.LayerNorm")
        scale = np.float32(1 / math.sqrt(shape.head_size))
        self.layers = []
        for index in range(shape.num_layers):
            prefix = f"encoder.layer.{index}"
            query, key, value = (
                linear(f"{prefix}.attention.self.{n}") for n in ("query", "key", "value")
            )
            qkv_weight = np.concatenate([query[0] * scale, key[0], value[0]], axis=1)
            qkv_bias = np.concatenate([query[1] * scale, key[1], value[1]])
            self.layers.append(
                Layer(
                    np.ascontiguousarray(qkv_weight),
                    qkv_bias,
                    *linear(f"{prefix}.attention.output.dense"),
                    norm(f"{prefix}.attention.output.LayerNorm"),
                    *linear(f"{prefix}.intermediate.dense"),
                    *linear(f"{prefix}.output.dense"),
                    norm(f"{prefix}.output.LayerNorm"),
                )
            )

    def embed(self, ids: NDArray[np.int64], mask: Array) -> Array:
        """Unit-length mean-pooled vectors, shape (batch, hidden), for padded ``ids``.

        Only attention mixes positions, so everything else runs on the real tokens alone,
        packed (a batch of varied lengths is a third padding); attention scatters them
        into the padded layout and gathers its output back.
        """
        batch, length = ids.shape
        tokens = Tokens(np.flatnonzero(mask.reshape(-1)), batch, length)
        states = self.word_embeddings[ids] + self.position_embeddings[:length]
        states = layer_norm(
            tokens.pack(states.reshape(batch * length, -1)),
            self.embedding_norm,
            self.shape.layer_norm_eps,
        )
        # Padding gets a very large negative score: zero weight after the softmax.
        mask_bias = (1.0 - mask) * np.finfo(np.float32).min
        for layer in self.layers:
            states = self._layer(layer, states, mask_bias, tokens)
        lengths = mask.sum(axis=1, keepdims=True)
        starts = np.concatenate([[0], np.cumsum(lengths[:-1, 0])]).astype(np.intp)
        pooled: Array = np.add.reduceat(states, starts, axis=0)
        pooled /= np.maximum(lengths, 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled

    def _layer(self, layer: Layer, states: Array, mask_bias: Array, tokens: Tokens) -> Array:
        heads, head_size = self.shape.num_heads, self.shape.head_size
        qkv = tokens.unpack(affine(states, layer.qkv_weight, layer.qkv_bias))
        # (batch * length, 3 * hidden) → three (batch, heads, length, head_size) views
        split = (tokens.batch, tokens.length, 3, heads, head_size)
        query, key, value = qkv.reshape(split).transpose(2, 0, 3, 1, 4)
        scores: Array = query @ key.transpose(0, 1, 3, 2)
        scores += mask_bias[:, None, None, :]
        softmax_inplace(scores)
        context: Array = (scores @ value).transpose(0, 2, 1, 3)
        context = context.reshape(tokens.batch * tokens.length, -1)
        attended = affine(
            tokens.pack(context), layer.attention_out_weight, layer.attention_out_bias
        )
        attended += states
        states = layer_norm(attended, layer.attention_norm, self.shape.layer_norm_eps)
        inner = affine(states, layer.up_weight, layer.up_bias)
        gelu_inplace(inner)
        output = affine(inner, layer.down_weight, layer.down_bias)
        output += states
        return layer_norm(output, layer.output_norm, self.shape.layer_norm_eps)


@dataclass(frozen=True)
class Tokens:
    """Where the real tokens sit among the ``batch * length`` padded positions."""

    positions: NDArray[np.intp]  # row-major, so each text's tokens stay together, in order
    batch: int
    length: int

    @property
    def padded(self) -> bool:
        return len(self.positions) < self.batch * self.length

    def pack(self, rows: Array) -> Array:
        """(batch * length, n) → (tokens, n)."""
        return rows[self.positions] if self.padded else rows

    def unpack(self, rows: Array) -> Array:
        """(tokens, n) → (batch * length, n), zeros at padding."""
        if not self.padded:
            return rows
        full = np.zeros((self.batch * self.length, rows.shape[1]), dtype=rows.dtype)
        full[self.positions] = rows
        return full


def affine(values: Array, weight: Array, bias: Array) -> Array:
    result: Array = values @ weight
    result += bias
    return result


def layer_norm(values: Array, weight_bias: tuple[Array, Array], eps: float) -> Array:
    centred: Array = values - values.mean(axis=-1, keepdims=True)
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    centred *= 1.0 / np.sqrt(variance + np.float32(eps))
    centred *= weight_bias[0]
    centred += weight_bias[1]
    return centred


def softmax_inplace(scores: Array) -> None:
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t·P(t)·exp(-z²), t = 1 / (1 + p·z), z ≥ 0,
# absolute error ≤ 1.5e-7. The tanh form of GELU would be off by far more (cosine 0.999993).
_ERF_P = np.float32(0.3275911 / math.sqrt(2))  # p / √2: t is computed from |x|, not |x| / √2
_ERF_COEFFICIENTS = tuple(
    np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)


# Elements per GELU block: its five temporaries stay in the core's cache (about 1.3 MB),
# which is twice as fast on a batch as whole-array passes that stream through memory.
GELU_BLOCK = 65536


def gelu_inplace(values: Array) -> None:
    """Exact (erf) GELU of a 2-D array, in place, a block of rows at a time."""
    rows = max(1, GELU_BLOCK // values.shape[1])
    for start in range(0, values.shape[0], rows):
        _gelu_block(values[start : start + rows])


def _gelu_block(values: Array) -> None:
    """x · Φ(x), written as x/2 + |x| · (1/2 - tail) with tail = (1 - erf(|x| / √2)) / 2:
    no branch on the sign (``np.where`` would cost more than all the arithmetic here)."""
    magnitude = np.abs(values)
    t = magnitude * _ERF_P
    t += 1.0
    np.reciprocal(t, out=t)
    polynomial = np.full_like(t, _ERF_COEFFICIENTS[0])
    for coefficient in _ERF_COEFFICIENTS[1:]:
        polynomial *= t
        polynomial += coefficient
    polynomial *= t
    gaussian = magnitude * magnitude  # exp(-(|x| / √2)²)
    gaussian *= -0.5
    np.exp(gaussian, out=gaussian)
    polynomial *= gaussian
    polynomial *= -0.5
    polynomial += 0.5  # now 1/2 - tail
    polynomial *= magnitude
    values *= 0.5
    values += polynomial
