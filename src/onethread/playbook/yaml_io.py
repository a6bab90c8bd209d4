"""The playbook as YAML, for `onethread playbook import|export` and version control."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from onethread.errors import InvalidInput
from onethread.playbook.schemas import Playbook


def playbook_from_yaml(text: str) -> Playbook:
    """Parse and validate; every problem becomes an ``InvalidInput`` naming where it is."""
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the playbook is not valid YAML: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InvalidInput("the playbook must be a YAML mapping (settings, topics, actions…)")
    try:
        return Playbook.model_validate(document)
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(["body", *(str(part) for part in error["loc"])]),
                "reason": error["msg"],
            }
            for error in exc.errors()
        ]
        problems = [f"{d['field'].removeprefix('body.')}: {d['reason']}" for d in details]
        raise InvalidInput(
            "the playbook is invalid: " + "; ".join(problems[:10]), details=details
        ) from exc


def playbook_to_yaml(playbook: Playbook) -> str:
    document = playbook.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
