"""Turn the shared public datasets into the files ``onethread eval`` reads, with the
validation splits carved reproducibly out of the training data.

    .venv/bin/python -m bench.datasets /tmp/onethread-datasets

writes (every CSV has the header ``text,label``; JSONL lines are ``{"text", "labels"}``):

- ``banking77/train.csv``, ``banking77/validation.csv``: BANKING77 ``train.csv`` with 15 %
  of each intent held out (8,505 / 1,498 rows);
- ``clinc150/train.csv``: CLINC150 ``data_full.json`` ``train`` + ``oos_train`` (label
  ``oos``), 15,100 rows; ``clinc150/validation.csv``: ``val`` + ``oos_val``, 3,100 rows;
- ``nlu_plus_plus/{banking,hotels}_{train,test}.jsonl``: NLU++ folds 0-4 / folds 5-9;
- ``banking77/train.jsonl`` (the train split, one label per line) and
  ``banking77/pairs_validation.jsonl``: the validation split as the product meets it, half
  of its messages alone, the other half joined two by two (two different intents) with a
  connector (" and ", ". ", ", and ", " also ", or nothing but a space), for
  ``onethread eval multi --mode segments``.

BANKING77 has no validation split: per intent, its rows (in file order) are shuffled with
``random.Random(f"{seed}:{intent}")`` and the first ``round(0.15 * n)`` go to validation
(``onethread.assistant.evaluation.datasets.carve``). The pairs are drawn with
``random.Random(seed)``. CLINC150 and NLU++ need no carving (their public validation part
and folds are used). The sealed test splits are never read.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path

from onethread.assistant.evaluation.datasets import Labelled, carve, read_labelled_csv

DEFAULT_SEED = 0
VALIDATION_FRACTION = 0.15
NLUPP_TRAIN_FOLDS = range(5)
NLUPP_TEST_FOLDS = range(5, 10)

CONNECTORS = (" and ", ". ", ", and ", " also ", " ")

Row = tuple[str, str]


def shared_data_dir() -> Path:
    """``$ONETHREAD_SHARED_DIR/data``, else ``/work/shared/data``."""
    return Path(os.environ.get("ONETHREAD_SHARED_DIR", "/work/shared")) / "data"


def write_csv(path: Path, rows: Iterable[Row]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for text, label in rows:
            writer.writerow([text, label])
            count += 1
    return count


def write_jsonl(path: Path, examples: Iterable[dict[str, object]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")
            count += 1
    return count


def banking77(source: Path, out: Path, seed: int) -> dict[str, int]:
    data = read_labelled_csv(source / "banking77" / "train.csv")
    train, validation = carve(data, VALIDATION_FRACTION, seed)
    folder = out / "banking77"
    return {
        "banking77/train.csv": write_csv(folder / "train.csv", _rows(train)),
        "banking77/validation.csv": write_csv(folder / "validation.csv", _rows(validation)),
        "banking77/train.jsonl": write_jsonl(
            folder / "train.jsonl",
            ({"text": text, "labels": [label]} for text, label in _rows(train)),
        ),
        "banking77/pairs_validation.jsonl": write_jsonl(
            folder / "pairs_validation.jsonl", pairs(validation, seed)
        ),
    }


def _rows(data: Labelled) -> list[Row]:
    return list(zip(data.texts, data.labels, strict=True))


def pairs(data: Labelled, seed: int) -> list[dict[str, object]]:
    """Half the messages alone, the other half joined two by two (different labels)."""
    randomness = random.Random(seed)
    rows = _rows(data)
    randomness.shuffle(rows)
    alone, rest = rows[: len(rows) // 2], rows[len(rows) // 2 :]
    examples: list[dict[str, object]] = [{"text": t, "labels": [label]} for t, label in alone]
    while len(rest) >= 2:
        (first, first_label), (second, second_label) = rest.pop(), rest.pop()
        if first_label == second_label:
            examples.append({"text": first, "labels": [first_label]})
            rest.insert(0, (second, second_label))
            continue
        connector = randomness.choice(CONNECTORS)
        if connector.strip(" .") and second[:1].isupper() and not second.startswith("I "):
            second = second[0].lower() + second[1:]
        joined = (
            first.rstrip(" .") + connector + second if connector != " " else f"{first} {second}"
        )
        examples.append({"text": joined, "labels": sorted({first_label, second_label})})
    examples.extend({"text": t, "labels": [label]} for t, label in rest)
    randomness.shuffle(examples)
    return examples


def clinc150(source: Path, out: Path) -> dict[str, int]:
    full = json.loads((source / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    splits = {"train": ("train", "oos_train"), "validation": ("val", "oos_val")}
    written = {}
    for name, keys in splits.items():
        rows = [(text, label) for key in keys for text, label in full[key]]
        written[f"clinc150/{name}.csv"] = write_csv(out / "clinc150" / f"{name}.csv", rows)
    return written


def nlu_plus_plus(source: Path, out: Path) -> dict[str, int]:
    written = {}
    for domain in ("banking", "hotels"):
        for name, folds in (("train", NLUPP_TRAIN_FOLDS), ("test", NLUPP_TEST_FOLDS)):
            examples = [
                {"text": example["text"], "labels": example.get("intents", [])}
                for fold in folds
                for example in json.loads(
                    (source / "nlu_plus_plus" / domain / f"fold{fold}.json").read_text("utf-8")
                )
            ]
            relative = f"nlu_plus_plus/{domain}_{name}.jsonl"
            written[relative] = write_jsonl(out / relative, examples)
    return written


def convert(source: Path, out: Path, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write every file; returns the row count of each, keyed by its relative path."""
    return {**banking77(source, out, seed), **clinc150(source, out), **nlu_plus_plus(source, out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write into (created)")
    parser.add_argument("--source", type=Path, default=shared_data_dir())
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    for relative, count in convert(args.source, args.out, args.seed).items():
        print(f"{count:>6}  {args.out / relative}")


if __name__ == "__main__":
    main()
