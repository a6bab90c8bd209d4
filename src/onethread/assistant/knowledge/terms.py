"""Index terms for BM25: folded words without stopwords, lightly stemmed per language.

The stemming is deliberately crude (plural and a few verb endings, a final vowel in
the Romance languages): the same rules run on queries and passages, so all it has to
do is send "refunds", "refunded" and "refund" to one term. Accents and case are folded,
so "contraseña" matches "contrasena".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from onethread.assistant.language import STOPWORDS

_TOKEN = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLDED_STOPWORDS: dict[str, frozenset[str]] = {
    code: frozenset(part for word in words for part in _TOKEN.findall(fold(word)))
    for code, words in STOPWORDS.items()
}


def _strip(word: str, suffixes: tuple[str, ...], keep: int) -> str:
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


def _english(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    word = _strip(word, ("ation", "able", "ible", "ing", "ed"), 3)
    word = _strip(word, ("e",), 3)
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "cancell(ed)" and "cancel", "pass(es)" and "pas"
    return word


def _romance(word: str) -> str:
    word = _strip(word, ("s",), 3)
    word = _strip(word, ("amente", "emente", "mente", "ement", "ment"), 4)
    return _strip(word, ("a", "e", "o"), 4)


def _german(word: str) -> str:
    return _strip(word, ("en", "er", "es", "e", "n", "s"), 4)


def _dutch(word: str) -> str:
    return _strip(word, ("en", "s", "e"), 4)


_STEMMERS: dict[str, Callable[[str], str]] = {
    "en": _english,
    "fr": _romance,
    "es": _romance,
    "pt": _romance,
    "it": _romance,
    "de": _german,
    "nl": _dutch,
}


@lru_cache(maxsize=200_000)
def _stem(word: str, language: str) -> str:
    if word.isdigit():
        return word
    stemmer = _STEMMERS.get(language)
    return stemmer(word) if stemmer else word


def index_terms(text: str, language: str) -> list[str]:
    """The BM25 terms of ``text`` read as ``language`` (in order, repeats kept)."""
    stopwords = _FOLDED_STOPWORDS.get(language, frozenset())
    return [
        _stem(word, language)
        for word in _TOKEN.findall(fold(text))
        if word not in stopwords and (len(word) > 1 or word.isdigit())
    ]
