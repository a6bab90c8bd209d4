"""The four uses of a language model, each checked before its output is used.

``GroundedWriter`` wraps a ``LanguageModel``. Every method returns None instead of
raising: on a provider error, a timeout, an empty answer, or output that fails its check.
The caller then uses what it would have used without a model (its template text, its own
topic splitter, its own summary, the untranslated text).

- ``phrase_answer``: every fact of the new wording must be supported by the parts or their
  sources (``check_grounding``), no sentence may lack support (``unsupported_sentences``),
  and no fact of the parts may be dropped.
- ``split_topics``: every segment must be copied from the message.
- ``summarize_handoff``: the same two checks as a phrased answer, against the context.
- ``translate``: the facts of the translation must equal the facts of the original.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Protocol

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.grounding import Evidence, check_grounding, unsupported_sentences
from onethread.assistant.llm import prompts
from onethread.assistant.llm.base import ChatTurn, LanguageModel

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 20.0


class SourceText(Protocol):
    @property
    def text(self) -> str: ...


class GroundedPart(Protocol):
    """A reply part and the sources it was built from (``decision.ReplyPart`` is one)."""

    @property
    def text(self) -> str: ...

    @property
    def sources(self) -> Sequence[SourceText]: ...


_FENCE = re.compile(r"^```[\w-]*\n(?P<body>.*)\n```$", re.DOTALL)
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)


def _clean(answer: str) -> str:
    """The answer without surrounding blanks or a Markdown code fence around all of it."""
    answer = answer.strip()
    fenced = _FENCE.match(answer)
    return fenced["body"].strip() if fenced else answer


def _squeeze(text: str) -> str:
    return " ".join(text.split()).casefold()


class GroundedWriter:
    def __init__(
        self,
        model: LanguageModel,
        *,
        encoder: TextEncoder | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.model = model
        self.encoder = encoder
        self.timeout_seconds = timeout_seconds

    async def _ask(
        self, use: str, system: str, user: str, *, max_tokens: int, temperature: float
    ) -> str | None:
        """The model's answer, or None (logged) on any failure or an empty answer."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                answer = await self.model.complete(
                    system,
                    [ChatTurn("user", user)],
                    max_tokens=max_tokens,
                    temperature=temperature,
                )
        except TimeoutError:
            log.warning("%s: %s timed out after %.1f s", use, self.model.name, self.timeout_seconds)
            return None
        except Exception:  # a model is optional: never let it break a turn
            log.warning("%s: %s failed", use, self.model.name, exc_info=True)
            return None
        answer = _clean(answer)
        if not answer:
            log.warning("%s: %s answered nothing", use, self.model.name)
            return None
        return answer

    def _rejected(self, use: str, why: str, detail: object) -> None:
        log.info("%s: %s output rejected, %s: %s", use, self.model.name, why, detail)

    async def phrase_answer(
        self,
        parts: Sequence[GroundedPart],
        language: str,
        tone: str,
        *,
        allowed: Sequence[str] = (),
    ) -> str | None:
        """One natural reply built from ``parts``, or None: use the template text."""
        if not parts:
            return None
        system = prompts.PHRASE_ANSWER.format(
            language=prompts.language_name(language), tone=tone, keep_facts=prompts.KEEP_FACTS
        )
        user = "\n".join(f"{number}. {part.text}" for number, part in enumerate(parts, 1))
        answer = await self._ask("phrase_answer", system, user, max_tokens=700, temperature=0.2)
        if answer is None:
            return None
        part_texts = [part.text for part in parts]
        evidence: list[str | Evidence] = [Evidence(text, language) for text in part_texts]
        evidence += [Evidence(source.text) for part in parts for source in part.sources]
        if not self._grounded("phrase_answer", answer, evidence, language, allowed):
            return None
        dropped = check_grounding(
            "\n".join(part_texts), [answer], language=language, source_language=language
        )
        if not dropped.supported:
            self._rejected("phrase_answer", "facts dropped", [f.text for f in dropped.unsupported])
            return None
        return answer

    def _grounded(
        self,
        use: str,
        text: str,
        evidence: Sequence[str | Evidence],
        language: str | None,
        allowed: Sequence[str],
    ) -> bool:
        facts = check_grounding(text, evidence, language=language)
        if not facts.supported:
            self._rejected(use, "unsupported facts", [fact.text for fact in facts.unsupported])
            return False
        texts = [item.text if isinstance(item, Evidence) else item for item in evidence]
        sentences = unsupported_sentences(text, texts, self.encoder, allowed=allowed)
        if sentences:
            self._rejected(use, "unsupported sentences", sentences)
            return False
        return True

    async def split_topics(self, text: str) -> list[str] | None:
        """The message cut into one passage per request, or None: use the own splitter."""
        answer = await self._ask(
            "split_topics", prompts.SPLIT_TOPICS, text, max_tokens=400, temperature=0.0
        )
        if answer is None:
            return None
        array = _ARRAY.search(answer)
        try:
            segments = json.loads(array[0]) if array else None
        except json.JSONDecodeError:
            segments = None
        if not isinstance(segments, list) or not segments:
            self._rejected("split_topics", "not a JSON array of strings", answer[:200])
            return None
        whole = _squeeze(text)
        cleaned: list[str] = []
        for segment in segments:
            if not isinstance(segment, str) or not segment.strip():
                self._rejected("split_topics", "not a JSON array of strings", answer[:200])
                return None
            if _squeeze(segment) not in whole:
                self._rejected("split_topics", "segment not in the message", segment[:200])
                return None
            cleaned.append(segment.strip())
        return cleaned

    async def summarize_handoff(self, context: str) -> str | None:
        """A note for the agent taking over, or None: use the structured summary."""
        system = prompts.SUMMARIZE_HANDOFF.format(keep_facts=prompts.KEEP_FACTS)
        answer = await self._ask(
            "summarize_handoff", system, context, max_tokens=400, temperature=0.2
        )
        if answer is None or not self._grounded("summarize_handoff", answer, [context], None, ()):
            return None
        return answer

    async def translate(
        self, text: str, target_language: str, *, source_language: str | None = None
    ) -> str | None:
        """``text`` in ``target_language`` with the same facts, or None: keep the original."""
        system = prompts.TRANSLATE.format(
            language=prompts.language_name(target_language), keep_facts=prompts.KEEP_FACTS
        )
        budget = max(200, len(text) // 2 + 100)  # about twice the original's tokens
        answer = await self._ask("translate", system, text, max_tokens=budget, temperature=0.0)
        if answer is None:
            return None
        added = check_grounding(
            answer, [text], language=target_language, source_language=source_language
        )
        lost = check_grounding(
            text, [answer], language=source_language, source_language=target_language
        )
        if not (added.supported and lost.supported):
            changed = [f.text for f in (*added.unsupported, *lost.unsupported)]
            self._rejected("translate", "facts changed", changed)
            return None
        return answer
