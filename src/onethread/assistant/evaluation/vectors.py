"""Encoding a dataset once: vectors may be kept in an on-disk cache between runs.

A dataset of 15,000 messages takes a minute or more to encode on a small machine; the
routing itself trains in seconds. ``--cache-dir`` keeps one ``.npz`` per encoder (the
encoder's ``name`` and ``dim`` in the file name), keyed by the SHA-256 of each text, so
reruns and other evaluations over the same texts skip the encoder. The cache only ever
holds what the encoder itself produced; latency is always measured with the encoder.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.encoder import TextEncoder

Vectors = NDArray[np.float32]
KEY_BYTES = 32


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def cache_file(cache_dir: Path, encoder: TextEncoder) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder.name)
    return cache_dir / f"vectors-v2-{safe}-{encoder.dim}.npz"


def encode_texts(
    encoder: TextEncoder, texts: Sequence[str], cache_dir: Path | None = None
) -> Vectors:
    """``encoder.encode(texts)``, reading and extending the cache when one is given."""
    if cache_dir is None:
        return encoder.encode(list(texts)) if texts else np.zeros((0, encoder.dim), np.float32)
    path = cache_file(cache_dir, encoder)
    known: dict[bytes, Vectors] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            stored_keys = [row.tobytes() for row in stored["keys"]]
            known = dict(zip(stored_keys, stored["vectors"], strict=True))
    keys = [text_key(text) for text in texts]
    missing = sorted(
        {key: text for key, text in zip(keys, texts, strict=True) if key not in known}.items()
    )
    if missing:
        fresh = encoder.encode([text for _, text in missing])
        known.update(zip([key for key, _ in missing], fresh, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(
            partial,
            # Raw digest bytes as a (n, 32) uint8 array: NumPy's "S" strings would drop
            # a digest's trailing zero bytes.
            keys=np.frombuffer(b"".join(known), dtype=np.uint8).reshape(-1, KEY_BYTES),
            vectors=np.stack(list(known.values())).astype(np.float32),
        )
        partial.replace(path)
    if not keys:
        return np.zeros((0, encoder.dim), np.float32)
    return np.stack([known[key] for key in keys]).astype(np.float32)
