"""One finding of the doctor."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but worth a look
    FAIL = "fail"  # wrong: the doctor exits 1
    SKIP = "skip"  # could not be checked because something it needs failed


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"status": self.status.value}


def ok(check: str, detail: str) -> Finding:
    return Finding(check, Status.OK, detail)


def warn(check: str, detail: str) -> Finding:
    return Finding(check, Status.WARN, detail)


def fail(check: str, detail: str) -> Finding:
    return Finding(check, Status.FAIL, detail)


def skip(check: str, detail: str) -> Finding:
    return Finding(check, Status.SKIP, detail)
