"""The grounding check: no reply may carry a fact that its sources do not support.

- ``extract_facts(text)``: the numbers, money, percentages, dates, times, durations,
  identifiers, links, emails and phone numbers of a text, each with a normalised value.
- ``check_grounding(reply, sources)``: which facts of a reply no source supports.
- ``unsupported_sentences(reply, sources, encoder)``: sentences of generated text that no
  source sentence backs, for claims without a number in them.

``docs/llm.md`` says what this guarantees and where it stops.
"""

from onethread.assistant.grounding.extract import extract_facts
from onethread.assistant.grounding.fact import Fact, FactKind
from onethread.assistant.grounding.matching import Evidence, GroundingReport, check_grounding
from onethread.assistant.grounding.sentences import (
    LEXICAL_SUPPORT_THRESHOLD,
    SEMANTIC_SUPPORT_THRESHOLD,
    SentenceSupport,
    sentence_support,
    split_sentences,
    unsupported_sentences,
)

__all__ = [
    "LEXICAL_SUPPORT_THRESHOLD",
    "SEMANTIC_SUPPORT_THRESHOLD",
    "Evidence",
    "Fact",
    "FactKind",
    "GroundingReport",
    "SentenceSupport",
    "check_grounding",
    "extract_facts",
    "sentence_support",
    "split_sentences",
    "unsupported_sentences",
]
