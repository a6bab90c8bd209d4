"""Headings and paragraphs, in reading order, → sections under heading paths."""

from __future__ import annotations

from dataclasses import dataclass

from onethread.knowledge.documents import Section


@dataclass(frozen=True)
class Heading:
    level: int  # 1 for the outermost (Markdown #, HTML h1)
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Heading | Paragraph


def first_title(blocks: list[Block]) -> str | None:
    """The text of the first heading when it is a level-1 heading: the document's title."""
    for block in blocks:
        if isinstance(block, Heading):
            return block.text if block.level == 1 and block.text else None
    return None


def sections_from_blocks(blocks: list[Block], title: str) -> list[Section]:
    """Group paragraphs under the path of headings above them.

    A first level-1 heading equal to ``title`` stands for the whole document and is left
    out of the paths (the title is stored, and embedded, with every chunk anyway).
    """
    sections: list[Section] = []
    stack: list[Heading] = []
    paragraphs: list[str] = []
    seen_heading = False

    def flush() -> None:
        if paragraphs:
            path = tuple(h.text for h in stack if h.text)
            sections.append(Section(path, "\n\n".join(paragraphs)))
            paragraphs.clear()

    for block in blocks:
        if isinstance(block, Paragraph):
            if block.text.strip():
                paragraphs.append(block.text.strip())
            continue
        flush()
        is_title = not seen_heading and block.level == 1 and block.text == title
        seen_heading = True
        while stack and stack[-1].level >= block.level:
            stack.pop()
        if not is_title:
            stack.append(block)
    flush()
    return sections


def render_blocks(blocks: list[Block]) -> str:
    """The blocks as Markdown-like text: what an HTML or PDF article stores as its body."""
    parts = [
        f"{'#' * block.level} {block.text}" if isinstance(block, Heading) else block.text
        for block in blocks
        if block.text.strip()
    ]
    return "\n\n".join(parts)
