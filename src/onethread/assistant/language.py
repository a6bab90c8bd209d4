"""Which language a text is written in, from its function words (no model, no download).

Every language leans on a small set of very frequent words (articles, pronouns,
prepositions, auxiliaries); a handful of them identify a language even in a short
message. A word shared by several languages ("de", "la", "en") counts for each of them
in proportion, and letters that only some languages use (ñ, ß, ã) add a little
evidence. ``confidence`` is the winner's share of the evidence, scaled down when there
is little of it: a two-word message is a weak guess, and callers should fall back to a
known language (the contact's, the workspace's default) below a threshold.

``STOPWORDS`` doubles as the stopword lists of the knowledge index (BM25).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_APOSTROPHE = "\u2019"  # typographic apostrophe, as in "l\u2019export"
_WORD = re.compile(rf"[^\W\d_]+(?:['{_APOSTROPHE}][^\W\d_]+)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """a about after all also am an and any are as at be been before but by can could
        did do does doing don't for from had has have having he her here him his how i if
        in into is isn't it it's its just me more my no not now of off on once only or other
        our out over same she should so some such than that the their them then there these
        they this those through to too under until up very was we were what when where which
        while who why will with would you your yours i'm can't won't my please thanks
        """
    ),
    "fr": _words(
        """au aux avec ce ces cette dans de des du elle elles en est et être eux il ils je
        la le les leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par
        pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous
        c'est j'ai n'est d'un d'une l'on ai as avons avez ont suis es sommes êtes sont était
        comme aussi très peut faire fait bonjour merci comment quel quelle quels pourquoi
        quand puis
        """
    ),
    "es": _words(
        """a al algo ante como con contra cual cuando de del desde donde durante el ella
        ellas ellos en entre era es esa ese eso esta este esto estos estas fue ha han hay la
        las le les lo los me mi mis muy más nada ni no nos o otra otro para pero por porque
        qué que quien se ser si sin sobre su sus también te tiene tu tus un una uno unos y
        ya yo está están puedo puede hola gracias mí cómo dónde cuándo cuánto mi
        """
    ),
    "de": _words(
        """aber als am an auch auf aus bei bin bis bist da dann das dass dem den der des die
        dies diese dieser doch du durch ein eine einem einen einer er es für hat hatte haben
        ich ihr ihre im in ist ja kann kein keine mich mir mit muss nach nicht noch nur oder
        sein seine sich sie sind so um und uns unser vom von vor war waren was weil wenn wer
        wie wir wird wurde zu zum zur über hallo danke bitte meine mein warum wo wann
        kann
        """
    ),
    "pt": _words(
        """a ao aos as com como da das de do dos e ela elas ele eles em entre era essa esse
        esta este eu foi há isso isto já lhe mais mas me meu minha muito na nas não no nos
        nós num numa o os ou para pela pelas pelo pelos por qual quando que se sem ser seu
        sua são também te tem tenho um uma você vocês está estou obrigado obrigada olá
        posso pode onde quando porque
        """
    ),
    "it": _words(
        """a al alla alle agli ai anche che chi ci come con da dal dalla dei del della delle
        di e è gli ha hanno ho i il in io la le lei lo loro lui ma mi mia mio ne nel nella
        noi non o per perché più questa questo qui se si sono su sua suo sul sulla ti tu un
        una uno voi essere sei siamo siete ciao grazie posso può dove quando
        mio
        """
    ),
    "nl": _words(
        """aan al als bij dan dat de die dit doen door een en er geen had heb hebben heeft
        het hier hij hoe hun ik in is je jij kan kunnen maar me meer met mijn na naar niet
        nog nu of om ons onze ook op over te tot u uit van veel voor waar wat we wel wie wij
        wil worden wordt zal ze zelf zich zij zijn zo zou hallo bedankt alstublieft graag
        waarom wanneer
        """
    ),
}

SUPPORTED_LANGUAGES = tuple(STOPWORDS)

# Letters that few of the supported languages use, and the ones that do.
_LETTER_HINTS: dict[str, tuple[str, ...]] = {
    "ñ": ("es",),
    "¿": ("es",),
    "¡": ("es",),
    "ß": ("de",),
    "ä": ("de",),
    "ö": ("de",),
    "ü": ("de",),
    "ã": ("pt",),
    "õ": ("pt",),
    "ç": ("fr", "pt"),
    "œ": ("fr",),
    "è": ("fr", "it"),
    "ê": ("fr", "pt"),
    "â": ("fr", "pt"),
    "î": ("fr",),
    "û": ("fr",),
    "ù": ("fr", "it"),
    "ì": ("it",),
    "ò": ("it",),
    "ĳ": ("nl",),
}
_LETTER_WEIGHT = 0.5  # a telling letter is worth half a function word
_FULL_EVIDENCE = 4.0  # this much evidence (about four function words) earns full confidence


def _owners() -> dict[str, tuple[str, ...]]:
    owners: dict[str, list[str]] = {}
    for code, words in STOPWORDS.items():
        for word in words:
            owners.setdefault(_fold_quotes(word), []).append(code)
    return {word: tuple(codes) for word, codes in owners.items()}


def _fold_quotes(word: str) -> str:
    return word.replace(_APOSTROPHE, "'")


_WORD_OWNERS = _owners()


def words_of(text: str) -> list[str]:
    """Lower-cased words of ``text`` (letters only, elisions such as "l'on" kept whole)."""
    return _words_of_folded(_folded(text))


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _words_of_folded(folded: str) -> list[str]:
    return [_fold_quotes(word) for word in _WORD.findall(folded)]


def language_scores(text: str, candidates: Iterable[str] | None = None) -> dict[str, float]:
    """Evidence per candidate language: shared words split their weight between owners."""
    allowed = tuple(candidates) if candidates is not None else SUPPORTED_LANGUAGES
    unknown = [code for code in allowed if code not in STOPWORDS]
    if unknown:
        raise ValueError(f"no stopword list for {unknown}; supported: {SUPPORTED_LANGUAGES}")
    scores = dict.fromkeys(allowed, 0.0)
    folded = _folded(text)  # read once, for the words and for the letters
    for word in _words_of_folded(folded):
        owners = [code for code in _WORD_OWNERS.get(word, ()) if code in scores]
        for code in owners:
            scores[code] += 1.0 / len(owners)
        if "'" in word:  # elided forms: "l'export", "d'une"
            head = word.split("'", 1)[0] + "'"
            if head in {"l'", "d'", "j'", "n'", "qu'", "c'", "s'"} and "fr" in scores:
                scores["fr"] += 1.0
    for letter in folded:
        hinted = [code for code in _LETTER_HINTS.get(letter, ()) if code in scores]
        for code in hinted:
            scores[code] += _LETTER_WEIGHT / len(hinted)
    return scores


def detect_language(text: str, candidates: Iterable[str] | None = None) -> tuple[str, float]:
    """``(code, confidence)`` among ``candidates`` (default: every supported language).

    Confidence is in [0, 1]: the winner's share of the evidence times how much evidence
    there was (saturating at about four function words). Without any evidence the first
    candidate comes back with confidence 0.
    """
    scores = language_scores(text, candidates)
    if not scores:
        raise ValueError("no candidate languages")
    best = max(scores, key=lambda code: scores[code])
    total = sum(scores.values())
    if total == 0:
        return next(iter(scores)), 0.0
    share = scores[best] / total
    amount = min(1.0, total / _FULL_EVIDENCE)
    return best, round(share * amount, 4)
