"""`onethread eval topics|handoff|multi` on tiny excerpts of the shared public datasets
(read from the shared folder at test time), and the helpers behind them."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from typer.testing import CliRunner

from onethread.assistant.encoder import LexicalEncoder
from onethread.assistant.evaluation.cli import eval_app
from onethread.assistant.evaluation.datasets import (
    Labelled,
    carve,
    read_labelled_csv,
    read_multilabel_jsonl,
    sample_shots,
)
from onethread.assistant.evaluation.metrics import (
    accuracy,
    macro_f1,
    set_f1,
    topic_count_rates,
)
from onethread.assistant.evaluation.vectors import encode_texts, text_key
from onethread.errors import InvalidInput
from tests.channels.conftest import SHARED

DATA = SHARED / "data"
INTENTS = ("card_arrival", "lost_or_stolen_card", "exchange_rate", "pin_blocked")
CLINC_INTENTS = ("translate", "weather", "credit_limit", "pto_request")

runner = CliRunner()


def _write_csv(path: Path, rows: Sequence[tuple[str, str]], label_column: str = "label") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", label_column])
        writer.writerows(rows)
    return path


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def banking_excerpt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """4 BANKING77 intents: 8 training rows and 3 test rows each, in the dataset's own
    ``text,category`` format."""
    with (DATA / "banking77" / "train.csv").open(newline="", encoding="utf-8") as handle:
        rows = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    by_intent = {intent: [row for row in rows if row[1] == intent] for intent in INTENTS}
    folder = tmp_path_factory.mktemp("banking77")
    train = [row for found in by_intent.values() for row in found[:8]]
    test = [row for found in by_intent.values() for row in found[8:11]]
    return (
        _write_csv(folder / "train.csv", train, "category"),
        _write_csv(folder / "test.csv", test, "category"),
    )


def _run(*args: str) -> dict[str, Any]:
    result = runner.invoke(
        eval_app, [*args, "--encoder", "minilm", "--latency-samples", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_eval_topics_prints_accuracy_and_latency(banking_excerpt: tuple[Path, Path]) -> None:
    train, test = banking_excerpt
    result = _run("topics", "--train", str(train), "--test", str(test))
    assert {"accuracy", "macro_f1", "n", "p50_ms", "p99_ms"} <= result.keys()
    assert result["n"] == 12
    assert result["n_train"] == 32
    assert result["labels"] == 4
    assert result["accuracy"] >= 0.75
    assert 0 < result["macro_f1"] <= 1
    assert 0 < result["router_p50_ms"] <= result["p50_ms"] <= result["p99_ms"]


def test_eval_topics_few_shot_trains_on_k_per_label(banking_excerpt: tuple[Path, Path]) -> None:
    train, test = banking_excerpt
    result = _run(
        "topics", "--train", str(train), "--test", str(test), "--shots", "2", "--seed", "7"
    )
    assert result["n_train"] == 8
    assert result["shots"] == 2
    assert result["seed"] == 7


def test_eval_topics_table_without_json(banking_excerpt: tuple[Path, Path]) -> None:
    train, test = banking_excerpt
    args = ["topics", "--train", str(train), "--test", str(test), "--encoder", "lexical"]
    result = runner.invoke(eval_app, [*args, "--latency-samples", "2"])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout
    assert "macro_f1" in result.stdout
    assert "lexical-hash" in result.stdout


def test_eval_handoff_calibrates_on_the_training_file_alone(tmp_path: Path) -> None:
    full = json.loads((DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))

    def pick(split: str, per_intent: int) -> list[tuple[str, str]]:
        rows = [(text, label) for text, label in full[split] if label in CLINC_INTENTS]
        return [row for intent in CLINC_INTENTS for row in rows if row[1] == intent][
            : per_intent * len(CLINC_INTENTS)
        ]

    def pick_each(split: str, per_intent: int) -> list[tuple[str, str]]:
        return [
            row
            for intent in CLINC_INTENTS
            for row in [r for r in full[split] if r[1] == intent][:per_intent]
        ]

    train = pick_each("train", 10) + [(text, "oos") for text, _ in full["oos_train"][:15]]
    test = pick_each("val", 3) + [(text, "oos") for text, _ in full["oos_val"][:6]]
    assert len(pick("train", 1)) == 4
    result = _run(
        "handoff",
        "--train",
        str(_write_csv(tmp_path / "train.csv", train)),
        "--test",
        str(_write_csv(tmp_path / "test.csv", test)),
        "--oos-label",
        "oos",
    )
    expected = {
        "in_scope_accuracy",
        "oos_recall",
        "oos_precision",
        "answered_rate",
        "answered_accuracy",
    }
    assert expected <= result.keys()
    assert result["n"] == 18
    assert result["n_in_scope"] == 12
    assert result["n_oos"] == 6
    assert result["calibration"]["objective"] == "oos"
    assert result["calibration"]["n_out_of_scope"] == 15
    assert 0 < result["threshold"] < 1
    assert result["in_scope_accuracy"] >= 0.75
    assert result["oos_recall"] >= 0.5
    answered = round(result["answered_rate"] * 18)
    handed_off = 18 - answered
    assert handed_off == round(result["oos_recall"] * 6 / result["oos_precision"])


def test_eval_multi_one_vs_rest_on_nlu_plus_plus(tmp_path: Path) -> None:
    folds = [
        json.loads((DATA / "nlu_plus_plus" / "banking" / f"fold{n}.json").read_text("utf-8"))
        for n in (0, 1)
    ]
    train = [{"text": e["text"], "labels": e.get("intents", [])} for e in folds[0][:60]]
    test = [{"text": e["text"], "labels": e.get("intents", [])} for e in folds[1][:20]]
    result = _run(
        "multi",
        "--train",
        str(_write_jsonl(tmp_path / "train.jsonl", train)),
        "--test",
        str(_write_jsonl(tmp_path / "test.jsonl", test)),
    )
    assert {"micro_f1", "macro_f1", "exact_match"} <= result.keys()
    assert result["n"] == 20
    assert result["mode"] == "ovr"
    assert 0.2 < result["micro_f1"] <= 1
    assert 0 <= result["exact_match"] <= 1


def test_eval_multi_segments_finds_both_topics_of_joined_messages(tmp_path: Path) -> None:
    train = [
        {"text": text, "labels": [label]}
        for label, texts in {
            "billing": ["I was charged twice", "refund my payment", "wrong amount on my invoice"],
            "bug": ["the app crashes", "the export button is broken", "error when I save"],
            "delivery": ["where is my parcel", "my order is late", "track my package"],
        }.items()
        for text in texts
    ]
    test = [
        {"text": "I was double charged and the app keeps crashing", "labels": ["billing", "bug"]},
        {"text": "my parcel is late", "labels": ["delivery"]},
    ]
    result = _run(
        "multi",
        "--mode",
        "segments",
        "--train",
        str(_write_jsonl(tmp_path / "train.jsonl", train)),
        "--test",
        str(_write_jsonl(tmp_path / "test.jsonl", test)),
    )
    assert result["mode"] == "segments"
    assert result["segmented_rate"] == 0.5
    assert result["all_found_rate"] == 1.0
    assert result["extra_label_rate"] == 0.0
    assert result["exact_match"] == 1.0
    assert result["micro_f1"] == 1.0


def test_eval_refuses_a_file_without_labels(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("message,intent\nhello,greet\n", encoding="utf-8")
    result = runner.invoke(eval_app, ["topics", "--train", str(bad), "--test", str(bad)])
    assert result.exit_code == 2
    assert "needs a header" in result.output


def test_readers(tmp_path: Path) -> None:
    data = read_labelled_csv(_write_csv(tmp_path / "a.csv", [("hi, there", "greet")], "category"))
    assert data.texts == ["hi, there"]
    assert data.labels == ["greet"]
    lines = tmp_path / "a.jsonl"
    lines.write_text('{"text": "x", "labels": ["a", "b"]}\n\n{"text": "y"}\n', encoding="utf-8")
    multi = read_multilabel_jsonl(lines)
    assert multi.label_sets == [["a", "b"], []]
    lines.write_text('{"labels": []}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"a\.jsonl:1"):
        read_multilabel_jsonl(lines)


def test_shots_and_carving_are_seeded_per_label() -> None:
    data = Labelled([f"t{i}" for i in range(30)], ["a"] * 20 + ["b"] * 10)
    few = sample_shots(data, 3, seed=1)
    assert few.labels == ["a"] * 3 + ["b"] * 3
    assert few == sample_shots(data, 3, seed=1)
    assert few != sample_shots(data, 3, seed=2)
    kept, held = carve(data, 0.15, seed=0)
    assert held.labels.count("a") == 3
    assert held.labels.count("b") == 2
    assert sorted(kept.texts + held.texts) == sorted(data.texts)
    # Adding rows of another label does not move this label's split.
    more = Labelled([*data.texts, "z"], [*data.labels, "c"])
    assert [t for t in carve(more, 0.15, seed=0)[1].texts if t != "z"] == held.texts


def test_metrics() -> None:
    truth = ["a", "a", "b", "c"]
    predicted = ["a", "b", "b", "b"]
    assert accuracy(predicted, truth) == 0.5
    # F1: a = 2/3, b = 2/4, c = 0
    assert macro_f1(predicted, truth) == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    scores = set_f1([{"a", "b"}, set(), {"c"}], [{"a"}, set(), {"c", "d"}])
    assert scores["micro_f1"] == pytest.approx(2 * 2 / (3 + 3))
    assert scores["exact_match"] == pytest.approx(1 / 3)
    assert scores["macro_f1"] == pytest.approx((1 + 1 + 0) / 3)  # labels of the truth: a, c, d
    rates = topic_count_rates([{"a", "b"}, {"a"}, {"c", "d"}], [{"a"}, {"a", "b"}, {"c", "d"}])
    assert rates == {"all_found_rate": 0.5, "extra_label_rate": 1.0}


class CountingEncoder:
    """The lexical encoder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        self.inner = LexicalEncoder(64)
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.encoded += len(texts)
        return self.inner.encode(texts)


def test_vector_cache_encodes_each_text_once(tmp_path: Path) -> None:
    # A text whose key ends in a zero byte, which a NumPy bytes string would drop.
    zero_ended = next(f"t{n}" for n in range(10_000) if text_key(f"t{n}")[-1] == 0)
    encoder = CountingEncoder()
    first = encode_texts(encoder, ["a b", "c d", "a b", zero_ended], tmp_path)
    assert encoder.encoded == 3
    again = encode_texts(encoder, ["c d", "e f", zero_ended], tmp_path)
    assert encoder.encoded == 4
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[3])
    np.testing.assert_array_equal(first, encoder.inner.encode(["a b", "c d", "a b", zero_ended]))
