"""Language detection from function words, as ingestion and the assistant use it."""

from __future__ import annotations

import pytest

from onethread.assistant.language import SUPPORTED_LANGUAGES, detect_language

SENTENCES = {
    "en": "How do I reset my password if the email does not arrive?",
    "fr": "Comment puis-je exporter mes données vers un fichier CSV ?",
    "es": "Hola, no puedo iniciar sesión en mi cuenta desde ayer.",
    "de": "Unser Dashboard zeigt seit heute Morgen einen Fehler, was kann ich tun?",
    "pt": "Não consigo entrar na minha conta, o que posso fazer?",
    "it": "Non riesco ad accedere al mio account, come posso fare?",
    "nl": "Ik kan niet inloggen op mijn account, wat moet ik doen?",
}


@pytest.mark.parametrize(("code", "text"), SENTENCES.items())
def test_each_supported_language_is_recognised(code: str, text: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == code
    assert confidence >= 0.4


def test_supported_languages() -> None:
    assert set(SUPPORTED_LANGUAGES) >= {"en", "fr", "es", "de", "pt", "it", "nl"}


def test_little_evidence_means_little_confidence() -> None:
    assert detect_language("refund policy") == ("en", 0.0)
    _, short = detect_language("la cuenta")
    _, long = detect_language(SENTENCES["es"])
    assert 0 < short < long


def test_candidates_restrict_the_choice() -> None:
    assert detect_language(SENTENCES["pt"], candidates=["en", "es"])[0] == "es"
    assert detect_language("", candidates=["fr", "en"]) == ("fr", 0.0)
    with pytest.raises(ValueError, match="no stopword list"):
        detect_language("hello", candidates=["xx"])
