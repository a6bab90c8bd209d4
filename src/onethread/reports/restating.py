"""Whether a customer's message restates what they said before (the repeat-yourself test)."""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD = re.compile(r"\w+")
MIN_CONTENT_WORDS = 3
SHARE = 0.5

# Function words of the languages the assistant speaks most; content words are the rest.
FUNCTION_WORDS = """
    a about after again all am an and any are as at be been before being but by can could
    did do does doing for from had has have having he her here hers him his how i if in
    into is it its just me more my no not now of off on once only or other our out over
    please same she should so some such than that the their them then there these they this
    those to too under until up very was we were what when where which while who why will
    with would you your yours hi hello hey thanks thank ok okay yes still already also get
    got im dont cant de la le les un une et est en du des je pas que qui pour sur mon ma
    mes vous nous el los las y es por con para mi yo lo se del al una der die das und ist
    nicht ich ein eine mit zu den von mein
"""
STOPWORDS = frozenset(FUNCTION_WORDS.split())


def content_words(text: str) -> set[str]:
    """Lower-cased words, without stopwords and one-letter words."""
    return {word for word in WORD.findall(text.lower()) if len(word) > 1 and word not in STOPWORDS}


def restates(message: str, earlier: Iterable[str]) -> bool:
    """At least half of ``message``'s content words (three or more) were said ``earlier``."""
    words = content_words(message)
    if len(words) < MIN_CONTENT_WORDS:
        return False
    said: set[str] = set()
    for text in earlier:
        said |= content_words(text)
    return len(words & said) >= SHARE * len(words)
