"""Turn the shared FAQ datasets into what ``onethread eval kb`` reads: a folder of Markdown
articles (``--kb``) and a questions file (``--questions``).

    .venv/bin/python -m bench.kb_datasets /tmp/onethread-kb

writes

- ``stackfaq/kb/NNN.md``: one article per StackFAQ thread (125): the thread's question as
  its title, its answers as paragraphs; ``stackfaq/questions.jsonl``: every usable
  crowd-written rephrasing (1,249; ``null`` and ``"*"`` placeholders skipped) with
  ``answer_ids`` = the thread's article key (``NNN.md``);
- ``dstc11/kb/<domain>/<entity id>/faq-<id>.md``: one article per FAQ of DSTC11 Track 5's
  knowledge (2,869; title "<entity name>: <question>", body the answer);
  ``dstc11/questions.jsonl``: each validation turn labelled with at least one FAQ (367),
  the question being its last three turns (the entity is often named only earlier), the
  answers the cited FAQs' article keys. Reviews are left out: the product answers from
  its FAQ-like articles, and a review sentence is not a policy.

Nothing here is copied into the repository: the output goes to the folder given.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

DSTC_CONTEXT_TURNS = 3


def shared_data_dir() -> Path:
    """``$ONETHREAD_SHARED_DIR/data``, else ``/work/shared/data``."""
    return Path(os.environ.get("ONETHREAD_SHARED_DIR", "/work/shared")) / "data"


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _front_matter(title: str) -> str:
    return f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nlanguage: en\n---\n"


def convert_stackfaq(source: Path, out: Path) -> tuple[int, int]:
    threads = json.loads((source / "stackExchange-FAQ.json").read_text())["root"]["qapair"]
    questions: list[dict[str, Any]] = []
    for number, thread in enumerate(threads):
        key = f"{number:03d}.md"
        answers = thread["answer"] if isinstance(thread["answer"], list) else [thread["answer"]]
        body = "\n\n".join(str(a).strip() for a in answers if a)
        path = out / "kb" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{_front_matter(thread['question'])}\n{body}\n", encoding="utf-8")
        for rephrasing in thread.get("rephr") or []:
            if isinstance(rephrasing, str) and rephrasing.strip() not in {"", "*"}:
                questions.append({"question": rephrasing.strip(), "answer_ids": [key]})
    _write_jsonl(out / "questions.jsonl", questions)
    return len(threads), len(questions)


def convert_dstc11(source: Path, out: Path) -> tuple[int, int]:
    knowledge = json.loads((source / "knowledge.json").read_text())
    articles = 0
    for domain, entities in knowledge.items():
        for entity_id, entity in entities.items():
            for faq_id, faq in (entity.get("faqs") or {}).items():
                path = out / "kb" / domain / str(entity_id) / f"faq-{faq_id}.md"
                path.parent.mkdir(parents=True, exist_ok=True)
                title = f"{entity['name']}: {faq['question']}"
                path.write_text(f"{_front_matter(title)}\n{faq['answer']}\n", encoding="utf-8")
                articles += 1
    logs = json.loads((source / "val" / "logs.json").read_text())
    labels = json.loads((source / "val" / "labels.json").read_text())
    questions = []
    for turns, label in zip(logs, labels, strict=True):
        faqs = [k for k in label.get("knowledge") or [] if k["doc_type"] == "faq"]
        if not label["target"] or not faqs:
            continue
        keys = sorted({f"{k['domain']}/{k['entity_id']}/faq-{k['doc_id']}.md" for k in faqs})
        context = " ".join(turn["text"] for turn in turns[-DSTC_CONTEXT_TURNS:])
        questions.append({"question": context, "answer_ids": keys})
    _write_jsonl(out / "questions.jsonl", questions)
    return articles, len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="Folder to write into (created if needed)")
    parser.add_argument("--data", type=Path, default=None, help="The shared data folder")
    args = parser.parse_args()
    data = args.data or shared_data_dir()
    for name, convert, source in (
        ("stackfaq", convert_stackfaq, data / "stackfaq"),
        ("dstc11", convert_dstc11, data / "dstc11_track5"),
    ):
        articles, questions = convert(source, args.out / name)
        print(f"{name}: {articles} articles, {questions} questions → {args.out / name}")


if __name__ == "__main__":
    main()
