"""Reading a score from a reply: buttons, digits, words in three languages, stars, comments."""

from __future__ import annotations

import pytest

from onethread.surveys.models import SurveyKind
from onethread.surveys.parsing import Answer, parse_answer
from onethread.surveys.questions import question_buttons, question_text

CSAT, NPS = SurveyKind.CSAT, SurveyKind.NPS


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (CSAT, "5", Answer(5, None)),
        (CSAT, " 4/5 ", Answer(4, None)),
        (CSAT, "4 de 5", Answer(4, None)),
        (CSAT, "4 - slow but solved", Answer(4, "slow but solved")),
        (CSAT, "4, slow", Answer(4, "slow")),
        (CSAT, "4\nslow but solved", Answer(4, "slow but solved")),
        (CSAT, "5!!!", Answer(5, None)),
        (CSAT, "5 :)", Answer(5, None)),
        (CSAT, "5 stars great", Answer(5, "great")),
        (CSAT, "5 ⭐", Answer(5, None)),
        (CSAT, "⭐⭐⭐⭐", Answer(4, None)),
        (CSAT, "⭐️⭐️⭐️ ok", Answer(3, "ok")),  # with emoji variation selectors
        (CSAT, "rating: 4", Answer(4, None)),
        (CSAT, "it's a 4, thanks", Answer(4, "thanks")),
        (CSAT, "cinq", Answer(5, None)),
        (CSAT, "One", Answer(1, None)),
        (CSAT, "una", Answer(1, None)),
        (CSAT, "peut-être 4", Answer(4, None)),
        (CSAT, "\uff14", Answer(4, None)),  # full-width digit
        (NPS, "0", Answer(0, None)),
        (NPS, "zéro", Answer(0, None)),
        (NPS, "ten", Answer(10, None)),
        (NPS, "TEN!", Answer(10, None)),
        (NPS, "diez", Answer(10, None)),
        (NPS, "I'd say 8", Answer(8, None)),
        (NPS, "I\u2019d give you guys a 10!", Answer(10, None)),  # curly apostrophe
        (NPS, "I would give it a 9 - great", Answer(9, "great")),
        (NPS, "8 out of 10", Answer(8, None)),
        (NPS, "8 sur 10, bien", Answer(8, "bien")),
        (NPS, "Je dirais sept", Answer(7, None)),
        (NPS, "Le doy un 8", Answer(8, None)),
        (NPS, "yo diría que 9", Answer(9, None)),
        (NPS, "10/10 would recommend", Answer(10, "would recommend")),
    ],
)
def test_answers_are_read(kind: SurveyKind, text: str, expected: Answer) -> None:
    assert parse_answer(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (CSAT, "Hello"),
        (CSAT, "2 questions about my bill"),
        (CSAT, "I have 2 kids"),
        (CSAT, "3pm works for me"),
        (CSAT, "1st time"),
        (CSAT, "4-slow"),
        (CSAT, "2-factor auth is broken"),
        (CSAT, "une question"),
        (CSAT, "a one-off problem"),
        (CSAT, "0"),  # out of range
        (CSAT, "6"),
        (CSAT, "8/10"),  # another scale
        (NPS, "11"),
        (NPS, "100"),
        (NPS, "5.5"),
        (NPS, "5/5"),
        (NPS, "⭐⭐⭐"),  # stars rate CSAT only
        (NPS, "+33 6 12 34 56 78"),
        (CSAT, ""),
    ],
)
def test_anything_else_is_not_an_answer(kind: SurveyKind, text: str) -> None:
    assert parse_answer(kind, text) is None


def test_a_buttons_id_wins_over_its_text_and_must_be_of_the_kind_asked() -> None:
    whatsapp_list = {"type": "list_reply", "id": "survey:csat:4", "title": "4"}
    quick_reply = {"type": "quick_reply", "payload": "survey:nps:9"}
    assert parse_answer(CSAT, "whatever", whatsapp_list) == Answer(4, None)
    assert parse_answer(NPS, "9", quick_reply) == Answer(9, None)
    assert parse_answer(NPS, "whatever", whatsapp_list) is None
    assert parse_answer(CSAT, "x", {"id": "survey:csat:9"}) is None  # out of range
    assert parse_answer(CSAT, "x", {"id": "priority_express"}) is None


def test_every_button_parses_back_to_its_score() -> None:
    for kind in (CSAT, NPS):
        for button in question_buttons(kind):
            score = int(button["title"])
            assert parse_answer(kind, button["title"]) == Answer(score, None)
            assert parse_answer(kind, "", {"id": button["id"]}) == Answer(score, None)


def test_questions_fall_back_to_english() -> None:
    assert question_text(CSAT, "es-MX").startswith("¿Qué tan satisfecho")
    assert question_text(NPS, "de").startswith("How likely")
    assert "from 1 to 5" in question_text(CSAT, None)
