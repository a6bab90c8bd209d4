"""Signals that decide a handoff on their own: an explicit request for a human, and anger.

Both are deliberately transparent (patterns and a small weighted lexicon in the
languages the assistant routes) so that an escalation can always say *why*; the
escalation rules of the playbook decide what each signal does.
"""

from __future__ import annotations

import math
import re
import unicodedata

_HUMAN_REQUEST = re.compile(
    r"\b("
    # English
    r"(talk|speak|chat|connect me|put me through|transfer me)\b.{0,25}\b"
    r"(human|person|agent|someone|somebody|representative|rep|operator|staff|manager|"
    r"real (person|people|human))"
    r"|(human|real person|live agent|customer service rep(resentative)?)\s*(please|now|pls)"
    r"|^\s*(agent|human|operator|representative)\s*[.!]*\s*$"
    r"|not a (bot|robot|machine)|stop the bot|no more bot"
    # French
    r"|(parler|discuter)\b.{0,20}\b(humain|personne|conseill[eè]re?|agent|op[ée]rateur|quelqu.un)"
    r"|un (vrai )?humain"
    # Spanish
    r"|hablar\b.{0,20}\b(humano|persona|agente|asesor|operador|alguien)"
    r"|una persona real"
    # German
    r"|mit (einem?|jemandem)\s?(menschen|mitarbeiter(in)?|berater(in)?|person)?\b.{0,20}"
    r"\b(sprechen|reden|verbinden)"
    # Portuguese
    r"|falar\b.{0,20}\b(humano|pessoa|atendente|agente|algu[ée]m)"
    r")",
    re.IGNORECASE,
)

_WORDS = re.compile(r"[\w']+", re.UNICODE)

# Weighted polarity lexicon (accents folded). Negative words weigh more: a support
# inbox mostly needs to tell "very upset" from "neutral".
_LEXICON: dict[str, float] = {}
for _weight, _words in (
    (
        -1.0,
        "furious outraged unacceptable disgusting scam fraud ridiculous terrible horrible awful "
        "worst useless pathetic incompetent livid hate lawyer lawsuit "
        "inacceptable scandaleux arnaque honteux nul nulle deplorable inadmissible "
        "inaceptable estafa vergonzoso pesimo horrible indignante "
        "unverschamt betrug katastrophe schrecklich unmoglich "
        "inaceitavel golpe vergonha pessimo horrivel",
    ),
    (
        -0.6,
        "angry annoyed frustrated frustrating disappointed upset fed sick tired "
        "rude complaint complain waste unhappy "
        "fache furieux decu decue enerve marre probleme "
        "enfadado molesto harto decepcionado queja "
        "verargert enttauscht sauer argerlich "
        "irritado chateado decepcionado reclamacao",
    ),
    (
        0.6,
        "thanks thank great good love perfect awesome excellent helpful happy appreciate "
        "merci super parfait genial excellent "
        "gracias genial perfecto excelente "
        "danke super perfekt toll "
        "obrigado obrigada otimo perfeito",
    ),
):
    for _word in _words.split():
        _LEXICON[_word] = _weight

_NEGATIONS = {"not", "no", "never", "pas", "jamais", "nunca", "nicht", "kein", "nao"}
_INTENSIFIERS = {"very", "so", "really", "extremely", "totally", "tres", "muy", "sehr", "muito"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def asks_for_human(text: str) -> bool:
    """An explicit request to talk to a person, in any language the assistant routes."""
    return _HUMAN_REQUEST.search(text) is not None


def sentiment(text: str) -> float:
    """A score in [-1, 1]: below about -0.5 the customer is clearly upset.

    Negation flips the next polar word ("not happy"), an intensifier strengthens it,
    shouting (mostly capitals) and repeated "!" add anger to a negative message.
    """
    words = _WORDS.findall(_fold(text))
    total = 0.0
    hits = 0
    for index, word in enumerate(words):
        weight = _LEXICON.get(word)
        if weight is None:
            continue
        before = words[max(0, index - 2) : index]
        if any(w in _NEGATIONS for w in before):
            weight = -weight * 0.8
        if any(w in _INTENSIFIERS for w in before):
            weight *= 1.3
        total += weight
        hits += 1
    if hits == 0:
        return 0.0
    score = total / max(1.0, math.sqrt(hits))
    letters = [char for char in text if char.isalpha()]
    shouting = len(letters) >= 12 and sum(char.isupper() for char in letters) > 0.7 * len(letters)
    if score < 0 and (shouting or "!!" in text):
        score -= 0.3
    return max(-1.0, min(1.0, score))
