"""Markdown: optional YAML front matter, ATX (``#``) and setext headings, code fences."""

from __future__ import annotations

import re
from typing import Any

import yaml

from onethread.errors import InvalidInput
from onethread.knowledge.documents import Document, normalize_language
from onethread.knowledge.models import ArticleFormat
from onethread.knowledge.readers.outline import (
    Block,
    Heading,
    Paragraph,
    first_title,
    sections_from_blocks,
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Lines of a list, table, quote or code keep their line breaks; prose is one line, as
# Markdown renders it (a single newline inside a paragraph is a space).
_LINE_STRUCTURE = re.compile(r"^\s*([-*+] |\d+[.)] |\||>|`{3,}|~{3,})|^ {4}")


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML mapping at the top of ``text`` (if any) and the rest of the text."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise InvalidInput(f"the front matter is not valid YAML: {error}") from error
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InvalidInput("the front matter must be a YAML mapping (key: value lines)")
    return meta, text[match.end() :]


def markdown_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if paragraph:
            keep_lines = any(_LINE_STRUCTURE.match(line) for line in paragraph)
            blocks.append(Paragraph(("\n" if keep_lines else " ").join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if fence is not None:  # inside a code block: text, never headings
            paragraph.append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        if opening := _FENCE.match(line):
            fence = opening.group(1)[:3]
            paragraph.append(line)
            continue
        if atx := _ATX.match(line):
            flush()
            blocks.append(Heading(len(atx.group(1)), (atx.group(2) or "").strip()))
            continue
        setext = _SETEXT.match(line)
        if setext and len(paragraph) == 1:  # one line of text underlined: a heading
            level = 1 if setext.group(1).startswith("=") else 2
            blocks.append(Heading(level, paragraph.pop().strip()))
            continue
        if not line.strip():
            flush()
            continue
        paragraph.append(line.rstrip())
    flush()
    return blocks


def read_markdown(text: str, fallback_title: str) -> Document:
    meta, content = front_matter(text)
    blocks = markdown_blocks(content)
    title = str(meta.get("title") or first_title(blocks) or fallback_title).strip()
    declared = meta.get("language") or meta.get("lang")
    return Document(
        title=title,
        format=ArticleFormat.MARKDOWN,
        body=content.strip(),
        sections=sections_from_blocks(blocks, title),
        language=normalize_language(str(declared)) if declared else None,
    )
