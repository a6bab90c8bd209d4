"""Chunk embeddings: computed with a ``TextEncoder``, stored as little-endian float32 bytes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.knowledge.index import indexed_text

VECTOR_DTYPE = np.dtype("<f4")
BATCH_SIZE = 64


def vector_to_bytes(vector: NDArray[np.float32]) -> bytes:
    return np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).tobytes()


def vector_from_bytes(data: bytes) -> NDArray[np.float32]:
    return np.frombuffer(data, dtype=VECTOR_DTYPE).astype(np.float32)


def embed_passages(encoder: TextEncoder, passages: Sequence[tuple[str, str, str]]) -> list[bytes]:
    """Embeddings of (title, heading, text) passages, in order, in batches."""
    out: list[bytes] = []
    for start in range(0, len(passages), BATCH_SIZE):
        batch = [indexed_text(*p) for p in passages[start : start + BATCH_SIZE]]
        out += [vector_to_bytes(row) for row in encoder.encode(batch)]
    return out
