"""Labelled files for the routing evaluations, and reproducible ways to cut them.

- CSV with a header: the text in ``text``, the label in ``label`` (or ``category``, as
  BANKING77 ships it);
- JSON lines ``{"text": ..., "labels": [...]}`` for several labels per message.

Randomness is seeded per label with ``random.Random(f"{seed}:{label}")``, so a split
depends only on the seed and the file, never on Python's hash salt or the row order of
other labels.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from onethread.assistant.calibration import shuffled_by_label
from onethread.errors import InvalidInput

LABEL_COLUMNS = ("label", "category")


@dataclass(frozen=True)
class Labelled:
    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class MultiLabelled:
    texts: list[str]
    label_sets: list[list[str]]

    def __len__(self) -> int:
        return len(self.texts)


def read_labelled_csv(path: Path) -> Labelled:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        label_column = next((name for name in LABEL_COLUMNS if name in columns), None)
        if "text" not in columns or label_column is None:
            raise InvalidInput(f"{path}: needs a header with 'text' and 'label' (or 'category')")
        texts, labels = [], []
        for number, row in enumerate(reader, start=2):
            text, label = row["text"], row[label_column]
            if text is None or not label:
                raise InvalidInput(f"{path}:{number}: a row needs a text and a label")
            texts.append(text)
            labels.append(label)
    if not texts:
        raise InvalidInput(f"{path}: no rows")
    return Labelled(texts, labels)


def read_multilabel_jsonl(path: Path) -> MultiLabelled:
    texts, label_sets = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, labels = row["text"], row.get("labels", [])
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidInput(f"{path}:{number}: not a {{text, labels}} line ({error})") from error
        if not isinstance(text, str) or not isinstance(labels, list):
            raise InvalidInput(f"{path}:{number}: text must be a string, labels a list")
        texts.append(text)
        label_sets.append([str(label) for label in labels])
    if not texts:
        raise InvalidInput(f"{path}: no lines")
    return MultiLabelled(texts, label_sets)


def sample_shots(data: Labelled, shots: int, seed: int) -> Labelled:
    """``shots`` examples of each label (all of a label that has fewer), in label order."""
    chosen = [
        index for rows in shuffled_by_label(data.labels, seed).values() for index in rows[:shots]
    ]
    return Labelled([data.texts[i] for i in chosen], [data.labels[i] for i in chosen])


def carve(data: Labelled, fraction: float, seed: int) -> tuple[Labelled, Labelled]:
    """(kept, held out): ``round(fraction · n)`` rows of each label held out."""
    kept: list[int] = []
    held: list[int] = []
    for shuffled in shuffled_by_label(data.labels, seed).values():
        count = round(fraction * len(shuffled))
        held.extend(shuffled[:count])
        kept.extend(shuffled[count:])
    return _take(data, kept), _take(data, held)


def _take(data: Labelled, rows: Sequence[int]) -> Labelled:
    return Labelled([data.texts[i] for i in rows], [data.labels[i] for i in rows])
