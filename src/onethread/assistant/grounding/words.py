"""Content words: what a sentence is about, minus grammar and courtesy.

Words are lower-cased, stripped of accents and cut to their first five letters, a crude
stem that works across English, French, Spanish, German and Portuguese ("refund",
"refunds", "refunded" -> "refun"; "remboursement", "rembourser" -> "rembo"). Numbers are
left out: they are facts, checked exactly by ``check_grounding``.
"""

from __future__ import annotations

import re
import unicodedata

STEM_LENGTH = 5
MIN_WORD_LENGTH = 3

_WORD = re.compile(r"[^\W\d_]+")
_NOT_CONTRACTION = re.compile(r"n['\u2019]t\b", re.IGNORECASE)  # "don't" -> "do not"

_GRAMMAR = {
    "en": """a an the and or but if then than so of to in on at by for from with without within
        into onto about as is are was were be been being am do does did done have has had having
        will would shall should can could may might must not no nor never don doesn didn isn aren
        wasn weren won wouldn can't cannot couldn shouldn hasn haven hadn this that these those it
        its it's i me my mine we us our ours you your yours he him his she her hers they them
        their theirs who whom whose which what when where why how all any both each every some
        such only own same too very just also there here out up down over under again once more
        most other yet still now let lets get got via per""",
    "fr": """le la les un une des du de d l au aux et ou mais donc or ni car ce cet cette ces
        il elle ils elles on nous vous je tu me te se moi toi lui leur leurs mon ma mes ton ta
        tes son sa ses notre nos votre vos qui que quoi dont où est sont été être avoir ai as a
        avons avez ont pour par sur sous dans avec sans en y ne pas plus jamais très aussi
        bien tout tous toute toutes cela ça ici""",
    "es": """el la los las un una unos unas de del al y o pero si no ni que quien cual cuando
        donde como este esta estos estas ese esa eso esto es son ser estar está están fue ha
        han hemos he haber para por con sin sobre en entre mi mis tu tus su sus nuestro
        nuestra nuestros vuestro lo le les se me te nos muy también más nunca todo todos aquí""",
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber wenn dann
        als ob dass ist sind war waren sein haben hat hatte wird werden wurde kann können soll
        sollen muss müssen für von mit ohne bei zu zum zur auf aus in im an am um über unter
        ich du er sie es wir ihr mich dich sich uns euch mein meine dein deine ihre ihren unser
        unsere nicht kein keine keinen nie sehr auch noch nur hier alle alles""",
    "pt": """o a os as um uma uns umas de do da dos das no na nos nas ao aos e ou mas se não
        nem que quem qual quando onde como este esta estes estas esse essa isso isto é são ser
        estar está estão foi tem têm ter para por pelo pela com sem sobre em entre meu minha
        seu sua seus suas nosso nossa lhe lhes me te muito também mais nunca todo todos aqui""",
}
# Courtesy and filler: a reply may add them around grounded content without claiming anything.
_COURTESY = """hi hello hey dear thanks thank thx please sorry apologies apologise apologize
    glad happy help helps helping assist welcome great good kind regards best cheers wonderful
    sure certainly course absolutely okay let know need anything else feel free question
    questions reach reaching reached contact contacting touch hope understand understanding
    patience note bonjour merci désolé désolée cordialement bonne journée hola gracias
    disculpa disculpe saludos buen día hallo danke bitte entschuldigung grüße gruss
    freundlichen olá obrigado obrigada desculpe abraço"""


def _fold(word: str) -> str:
    """Lower case without accents: "Désolé" -> "desole"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


STOPWORDS = frozenset(
    _fold(word) for text in (*_GRAMMAR.values(), _COURTESY) for word in text.split()
)

_NEGATION_WORDS = """not no never cannot neither nor non ne pas jamais aucun aucune nunca nada
    ningún ninguna nicht kein keine keinen keiner nie niemals não nenhum nenhuma"""
NEGATIONS = frozenset(_fold(word) for word in _NEGATION_WORDS.split())


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return [_fold(word) for word in _WORD.findall(_NOT_CONTRACTION.sub(" not", text))]


def content_words(text: str) -> frozenset[str]:
    """The stems of the words of ``text`` that carry meaning."""
    return content_stems(words(text))


def content_stems(folded: list[str]) -> frozenset[str]:
    """``content_words`` of text already split by ``words``."""
    return frozenset(
        word[:STEM_LENGTH]
        for word in folded
        if len(word) >= MIN_WORD_LENGTH and word not in STOPWORDS
    )


def is_negative(text: str) -> bool:
    """Whether ``text`` negates something ("we do not refund", "ne ... pas", "kein")."""
    return negates(words(text))


def negates(folded: list[str]) -> bool:
    """``is_negative`` of text already split by ``words``."""
    return any(word in NEGATIONS for word in folded)
