"""Topic routing on the public datasets: every figure of docs/benchmarks.md "Topic
routing", with the ablations behind the router's design.

    .venv/bin/python -m bench.datasets /tmp/onethread-datasets
    .venv/bin/python -m bench.routing /tmp/onethread-datasets --cache-dir /tmp/onethread-vectors

Each row runs the same code as ``onethread eval topics|handoff|multi`` (the functions of
``onethread.assistant.evaluation``) on the splits ``bench.datasets`` carves; no sealed
test data is read. ``--only`` picks rows by name prefix (e.g. ``--only clinc``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from onethread.assistant.encoder import TextEncoder, load_encoder
from onethread.assistant.evaluation.datasets import (
    Labelled,
    read_labelled_csv,
    read_multilabel_jsonl,
)
from onethread.assistant.evaluation.handoff import evaluate_handoff
from onethread.assistant.evaluation.multi import evaluate_multi
from onethread.assistant.evaluation.topics import evaluate_topics
from onethread.assistant.multilabel import MultiLabelConfig
from onethread.assistant.routing import RouterConfig

FEW_SHOT_SEEDS = (0, 1, 2, 3, 4)
SEMANTIC_ONLY = RouterConfig(
    lexical_weight=0.0, neighbour_weight=0.0, label_names_as_examples=False
)
ABLATIONS = {
    "semantic only": SEMANTIC_ONLY,
    "+ label names": RouterConfig(lexical_weight=0.0, neighbour_weight=0.0),
    "+ names + lexical": RouterConfig(neighbour_weight=0.0),
    "+ names + neighbours": RouterConfig(lexical_weight=0.0),
    "router (all three)": RouterConfig(),
}


@dataclass(frozen=True)
class Row:
    name: str
    run: Callable[[], dict[str, Any]]


def rows(data: Path, cache: Path | None, minilm: TextEncoder, lexical: TextEncoder) -> list[Row]:
    b77_train = read_labelled_csv(data / "banking77" / "train.csv")
    b77_val = read_labelled_csv(data / "banking77" / "validation.csv")
    clinc_train = read_labelled_csv(data / "clinc150" / "train.csv")
    clinc_val = read_labelled_csv(data / "clinc150" / "validation.csv")
    in_scope_only = Labelled(
        [
            t
            for t, label in zip(clinc_train.texts, clinc_train.labels, strict=True)
            if label != "oos"
        ],
        [label for label in clinc_train.labels if label != "oos"],
    )
    nlupp = data / "nlu_plus_plus"

    def topics(encoder: TextEncoder, config: RouterConfig, shots: int | None) -> dict[str, Any]:
        if shots is None:
            return evaluate_topics(b77_train, b77_val, encoder, cache_dir=cache, config=config)
        runs = [
            evaluate_topics(
                b77_train, b77_val, encoder, shots=shots, seed=seed, cache_dir=cache, config=config
            )
            for seed in FEW_SHOT_SEEDS
        ]
        accuracies = [run["accuracy"] for run in runs]
        return {
            **runs[0],
            "accuracy": statistics.mean(accuracies),
            "macro_f1": statistics.mean(run["macro_f1"] for run in runs),
            "accuracy_by_seed": accuracies,
            "seed": list(FEW_SHOT_SEEDS),
        }

    def handoff(
        encoder: TextEncoder, train: Labelled = clinc_train, **options: Any
    ) -> dict[str, Any]:
        return evaluate_handoff(train, clinc_val, encoder, cache_dir=cache, **options)

    def multi(encoder: TextEncoder, domain: str, **options: Any) -> dict[str, Any]:
        return evaluate_multi(
            read_multilabel_jsonl(nlupp / f"{domain}_train.jsonl"),
            read_multilabel_jsonl(nlupp / f"{domain}_test.jsonl"),
            encoder,
            cache_dir=cache,
            **options,
        )

    found = [
        Row(f"banking77 full / {name}", partial(topics, minilm, config, None))
        for name, config in ABLATIONS.items()
        if "neighbours" not in name  # above 3,000 examples the neighbour vote is off
    ]
    found += [
        Row(f"banking77 10-shot / {name}", partial(topics, minilm, config, 10))
        for name, config in ABLATIONS.items()
    ]
    found += [
        Row("clinc150 handoff", lambda: handoff(minilm)),
        Row("clinc150 handoff / oos_share 0.2", lambda: handoff(minilm, oos_share=0.2)),
        Row("clinc150 handoff / no oos examples", lambda: handoff(minilm, train=in_scope_only)),
        Row("clinc150 handoff / semantic only", lambda: handoff(minilm, config=SEMANTIC_ONLY)),
        Row("nlu++ banking", lambda: multi(minilm, "banking")),
        Row(
            "nlu++ banking / no n-grams",
            lambda: multi(minilm, "banking", config=MultiLabelConfig(lexical=False)),
        ),
        Row("nlu++ hotels", lambda: multi(minilm, "hotels")),
        Row(
            "banking77 pairs / segments",
            lambda: evaluate_multi(
                read_multilabel_jsonl(data / "banking77" / "train.jsonl"),
                read_multilabel_jsonl(data / "banking77" / "pairs_validation.jsonl"),
                minilm,
                mode="segments",
                cache_dir=cache,
            ),
        ),
        Row("lexical encoder / banking77 full", lambda: topics(lexical, RouterConfig(), None)),
        Row("lexical encoder / banking77 10-shot", lambda: topics(lexical, RouterConfig(), 10)),
        Row("lexical encoder / clinc150 handoff", lambda: handoff(lexical)),
        Row("lexical encoder / nlu++ banking", lambda: multi(lexical, "banking")),
    ]
    return found


HEADLINE = (
    "accuracy",
    "macro_f1",
    "in_scope_accuracy",
    "oos_recall",
    "micro_f1",
    "exact_match",
    "p50_ms",
    "router_p50_ms",
    "train_seconds",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the folder bench.datasets wrote")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--only", default="", help="run the rows whose name starts with this")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args()
    minilm, lexical = load_encoder("minilm"), load_encoder("lexical")
    for row in rows(args.data, args.cache_dir, minilm, lexical):
        if not row.name.startswith(args.only):
            continue
        result = row.run()
        if args.json:
            print(json.dumps({"row": row.name, **result}), flush=True)
            continue
        figures = "  ".join(
            f"{key} {result[key]:.4f}" for key in HEADLINE if isinstance(result.get(key), float)
        )
        print(f"{row.name:<44} {figures}", flush=True)


if __name__ == "__main__":
    main()
