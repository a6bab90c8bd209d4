"""Files and folders to ingest, each with its source key (its path from the ingest root)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from onethread.knowledge.readers import EXTENSIONS

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    path: Path
    source_key: str  # relative to the folder named on the command line; a file's own name


def iter_source_files(paths: Sequence[Path]) -> Iterator[SourceFile]:
    """Named files as they are, and every file of a known format under named folders
    (recursively, in name order, hidden files and folders skipped)."""
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                if found.is_file() and found.suffix.lower() in EXTENSIONS:
                    yield SourceFile(found, relative.as_posix())
        else:
            yield SourceFile(path, path.name)
