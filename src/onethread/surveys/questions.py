"""What a survey question says, in the conversation's language (English, French, Spanish)."""

from __future__ import annotations

from onethread.surveys.models import SCALES, SurveyKind
from onethread.surveys.parsing import button_id

_QUESTIONS: dict[str, dict[SurveyKind, str]] = {
    "en": {
        SurveyKind.CSAT: "How satisfied are you with the help you received?",
        SurveyKind.NPS: "How likely are you to recommend us to a friend or colleague?",
    },
    "fr": {
        SurveyKind.CSAT: "Êtes-vous satisfait(e) de l'aide reçue ?",
        SurveyKind.NPS: "Quelle est la probabilité que vous nous recommandiez à un proche ?",
    },
    "es": {
        SurveyKind.CSAT: "¿Qué tan satisfecho(a) está con la ayuda recibida?",
        SurveyKind.NPS: "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
    },
}
# {low} and {high} are the scale's ends; the example shows where a comment goes.
_HOW_TO_ANSWER = {
    "en": "Reply with a number from {low} to {high}, and a comment if you like ({high} - great).",
    "fr": "Répondez par un chiffre de {low} à {high}, et un commentaire si vous voulez "
    "({high} - parfait).",
    "es": "Responda con un número del {low} al {high}, y un comentario si quiere "
    "({high} - excelente).",
}


def _language(language: str | None) -> str:
    base = (language or "en").split("-")[0].split("_")[0].lower()
    return base if base in _QUESTIONS else "en"


def question_text(kind: SurveyKind, language: str | None) -> str:
    lang = _language(language)
    low, high = SCALES[kind]
    return f"{_QUESTIONS[lang][kind]}\n{_HOW_TO_ANSWER[lang].format(low=low, high=high)}"


def question_buttons(kind: SurveyKind) -> list[dict[str, str]]:
    """One button per score, titled with the number itself (what the web chat sends back)."""
    low, high = SCALES[kind]
    return [{"id": button_id(kind, score), "title": str(score)} for score in range(low, high + 1)]
