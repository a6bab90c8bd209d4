"""The grounding check: facts read the same way in every language the demo speaks, and a
reply that invents a price, a date, a percentage or a policy is caught."""

from __future__ import annotations

import pytest

from onethread.assistant.encoder import LexicalEncoder, MiniLMEncoder
from onethread.assistant.grounding import (
    Evidence,
    check_grounding,
    extract_facts,
    sentence_support,
    split_sentences,
    unsupported_sentences,
)
from onethread.assistant.minilm import EncoderUnavailable


def facts_of(text: str, language: str | None = None) -> list[tuple[str, str]]:
    return [(fact.kind, fact.value) for fact in extract_facts(text, language)]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # money, with or without a symbol or code, before or after, decimal point or comma
        ("It costs $12.50.", "en", [("money", "$ 12.5")]),
        ("It costs 12,50 €.", "fr", [("money", "EUR 12.5")]),
        ("It costs EUR 12.50", None, [("money", "EUR 12.5")]),
        ("It costs 12.5 dollars", "en", [("money", "$ 12.5")]),
        ("Total: US$1,234.50", "en", [("money", "USD 1234.5")]),
        ("Montant : 1 234,56 €", "fr", [("money", "EUR 1234.56")]),
        ("Betrag: 1.234,50 EUR", "de", [("money", "EUR 1234.5")]),
        ("Importe: 49,90 €", "es", [("money", "EUR 49.9")]),
        ("Valor: R$ 49,90", "pt-BR", [("money", "BRL 49.9")]),
        ("£9.99 per month", "en-GB", [("money", "GBP 9.99")]),
        # percentages
        ("a 15% discount", "en", [("percent", "15")]),
        ("a 15 percent discount", "en", [("percent", "15")]),
        ("une remise de 12,5 %", "fr", [("percent", "12.5")]),
        ("un 10 por ciento", "es", [("percent", "10")]),
        ("20 Prozent Rabatt", "de", [("percent", "20")]),
        ("10 por cento", "pt", [("percent", "10")]),
        # dates
        ("on 2026-11-03", None, [("date", "2026-11-03")]),
        ("on 3 November 2026", "en", [("date", "2026-11-03")]),
        ("on November 3rd, 2026", "en", [("date", "2026-11-03")]),
        ("on Nov 3", "en", [("date", "--11-03")]),
        ("le 3 novembre 2026", "fr", [("date", "2026-11-03")]),
        ("el 3 de noviembre de 2026", "es", [("date", "2026-11-03")]),
        ("am 3. November 2026", "de", [("date", "2026-11-03")]),
        ("em 3 de novembro de 2026", "pt", [("date", "2026-11-03")]),
        ("in November 2026", "en", [("date", "2026-11")]),
        ("on 03/11/2026", "fr", [("date", "2026-11-03")]),
        ("on 03/11/2026", "en-US", [("date", "2026-03-11")]),
        ("on 03/11/2026", "en", [("date", "2026-03-11 | 2026-11-03")]),  # kept ambiguous
        ("on 25/11/2026", "en", [("date", "2026-11-25")]),  # only one reading exists
        ("am 03.11.2026", None, [("date", "2026-11-03")]),
        ("on Tuesday, 3 November 2026", "en", [("date", "2026-11-03")]),  # the right weekday
        ("on Monday, 3 November 2026", "en", [("date", "2026-11-03"), ("weekday", "monday")]),
        ("we will call you on Friday", "en", [("weekday", "friday")]),
        # times
        ("at 14:30", None, [("time", "14:30")]),
        ("at 2:30 pm", "en", [("time", "14:30")]),
        ("at 9am", "en", [("time", "09:00")]),
        ("à 14h30", "fr", [("time", "14:30")]),
        ("à 14h", "fr", [("time", "14:00")]),
        ("um 14 Uhr", "de", [("time", "14:00")]),
        # durations
        ("within 30 days", "en", [("duration", "30 day")]),
        ("a 30-day window", "en", [("duration", "30 day")]),
        ("within 2 weeks", "en", [("duration", "14 day")]),
        ("within two weeks", "en", [("duration", "14 day")]),
        ("in 5 business days", "en", [("duration", "5 business_day")]),
        ("sous 5 jours ouvrés", "fr", [("duration", "5 business_day")]),
        ("en tres días hábiles", "es", [("duration", "3 business_day")]),
        ("in zwei Wochen", "de", [("duration", "14 day")]),
        ("em 7 dias úteis", "pt", [("duration", "7 business_day")]),
        ("within 48h", "en", [("duration", "172800 s")]),
        # identifiers and other references
        ("invoice INV-1042", "en", [("identifier", "INV-1042")]),
        ("order #A1234", "en", [("identifier", "A1234")]),
        ("order #1042", "en", [("identifier", "1042")]),
        ("see https://help.example.com/a/42.", "en", [("url", "https://help.example.com/a/42")]),
        ("write to Billing@Example.com", "en", [("email", "billing@example.com")]),
        ("call +1 555 010 0100", "en", [("phone", "+15550100100")]),
        # plain numbers, and layout that is not a fact
        ("you have 3 seats", "en", [("number", "3")]),
        ("1. Open Settings\n2. Click Export", "en", []),
        ("#general is a channel", "en", []),
    ],
)
def test_extract_facts(text: str, language: str | None, expected: list[tuple[str, str]]) -> None:
    assert facts_of(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "values"),
    [
        ("1,234", "en", {"1234"}),
        ("1,234", "de", {"1.234"}),
        ("1.234", "de", {"1234"}),
        ("1.234", "en", {"1.234"}),
        ("1,234", None, {"1234", "1.234"}),  # unknown language: both readings
        ("12,50", None, {"12.5"}),  # two decimals can only be a decimal comma
        ("0,500", None, {"0.5"}),
        ("1,234,567.89", None, {"1234567.89"}),
        ("1.234.567,89", None, {"1234567.89"}),
    ],
)
def test_numbers_read_by_language(text: str, language: str | None, values: set[str]) -> None:
    (fact,) = extract_facts(text, language)
    assert fact.candidates == values


def test_fact_keeps_its_surface_text_and_position() -> None:
    text = "Refund of €12.50 on 3 November."
    money, date = extract_facts(text, "en")
    assert (money.text, text[money.start : money.end]) == ("€12.50", "€12.50")
    assert date.text == "3 November"


BILLING_SOURCES = [
    "Invoice INV-1042: two charges of $49.00 on 3 November 2026 (card ending 4242).",
    "A duplicate charge is refunded automatically within 5 business days.",
]


@pytest.mark.parametrize(
    "reply",
    [
        "You were charged $49 twice on Nov 3; the duplicate comes back within 5 business days.",
        "Invoice #1042 shows a duplicate charge of 49.00 USD from 3 November 2026.",
        "The second charge of $49.00 on invoice INV-1042 is refunded automatically.",
        "It was charged on a Tuesday, 3 November.",  # the weekday follows from the date
        "Nothing to check here, a teammate will reply.",
    ],
)
def test_a_faithful_reply_is_supported(reply: str) -> None:
    report = check_grounding(reply, BILLING_SOURCES, language="en")
    assert report.supported, [fact.text for fact in report.unsupported]


@pytest.mark.parametrize(
    ("reply", "invented"),
    [
        ("You were charged $59 twice.", "$59"),  # a price
        ("You were charged €49.00 twice.", "€49.00"),  # the right amount, another currency
        ("The charges were made on 4 November 2026.", "4 November 2026"),  # a date
        ("The charges were made on 3 November 2025.", "3 November 2025"),
        ("We refunded 15% of the charge.", "15%"),  # a percentage
        ("The refund takes 10 business days.", "10 business days"),  # a duration
        ("It was charged on Monday, 3 November 2026.", "Monday"),  # a wrong weekday
        ("See invoice INV-1043.", "INV-1043"),  # an identifier
        ("Details at https://billing.example.com/refunds", "https://billing.example.com/refunds"),
        ("Call us at +1 555 010 0199.", "+1 555 010 0199"),
        ("You were charged at 14:30.", "14:30"),
    ],
)
def test_an_invented_fact_is_unsupported(reply: str, invented: str) -> None:
    report = check_grounding(reply, BILLING_SOURCES, language="en")
    assert not report.supported
    assert [fact.text for fact in report.unsupported] == [invented]


def test_a_date_keeps_its_ambiguity_when_the_language_does_not_settle_it() -> None:
    written = ["Renewal date: 03/11/2026"]  # March 11 or 3 November
    assert check_grounding("It renews on 03/11/2026.", written).supported
    assert not check_grounding("It renews on 3 November 2026.", written, language="en").supported
    assert not check_grounding("It renews on March 11, 2026.", written, language="en").supported
    settled = [Evidence("Renewal date: 03/11/2026", "fr")]
    assert check_grounding("It renews on 3 November 2026.", settled, language="en").supported
    assert not check_grounding("Il se renouvelle le 3/11/2026.", written, language="fr").supported


def test_a_reply_may_leave_out_the_year_but_not_add_one() -> None:
    assert check_grounding("Charged on Nov 3.", ["Charged on 2026-11-03."]).supported
    assert not check_grounding("Charged on 3 Nov 2026.", ["Charged on Nov 3."]).supported


def test_money_matches_a_bare_amount_when_the_source_names_the_currency() -> None:
    action_result = ["amount: 49.00\ncurrency: USD\nstatus: paid"]
    assert check_grounding("You paid $49.", action_result).supported
    assert not check_grounding("You paid €49.", action_result).supported


def test_non_english_replies_against_english_sources() -> None:
    sources = ["Refund of $1,234.50 issued on 3 November 2026, 15% of the annual plan."]
    french = "Un remboursement de 1 234,50 $ a été émis le 3 novembre 2026, soit 15 % du plan."
    german = "Am 3. November 2026 wurden 1.234,50 $ erstattet, 15 Prozent des Jahresplans."
    assert check_grounding(french, sources, language="fr", source_language="en").supported
    assert check_grounding(german, sources, language="de", source_language="en").supported
    wrong = "Un remboursement de 1 243,50 $ a été émis le 3 novembre 2026."
    report = check_grounding(wrong, sources, language="fr", source_language="en")
    assert [fact.text for fact in report.unsupported] == ["1 243,50 $"]


# --- sentences ---

REFUND_SOURCES = [
    "If you were charged twice, the duplicate charge is refunded automatically within "
    "5 business days. Refunds for annual plans are prorated.",
    "To export your data, open Settings, then Data, and click Export CSV.",
]
ALLOWED = ["I've passed this to our technical team, who will reply here."]


def test_an_invented_refund_policy_without_a_number_is_unsupported() -> None:
    reply = (
        "The duplicate charge is refunded automatically within 5 business days. "
        "We also offer full refunds on any purchase, no questions asked."
    )
    assert check_grounding(reply, REFUND_SOURCES).supported  # no invented number...
    assert unsupported_sentences(reply, REFUND_SOURCES) == [  # ...but an invented policy
        "We also offer full refunds on any purchase, no questions asked."
    ]


def test_a_faithful_paraphrase_is_supported() -> None:
    reply = (
        "Sorry about that! The duplicate charge will be refunded to you automatically within "
        "5 business days.\nTo export your data, go to Settings > Data and click Export CSV."
    )
    assert unsupported_sentences(reply, REFUND_SOURCES) == []


def test_a_negated_claim_is_unsupported() -> None:
    reply = "The duplicate charge is not refunded automatically."
    assert unsupported_sentences(reply, REFUND_SOURCES) == [reply]


def test_allowed_boilerplate_and_courtesy_are_not_judged() -> None:
    reply = (
        "Thanks for reaching out! I've passed this to our technical team, who will reply "
        "here. Happy to help."
    )
    assert unsupported_sentences(reply, REFUND_SOURCES, allowed=ALLOWED) == []
    assert unsupported_sentences(reply, REFUND_SOURCES) != []  # not allowed: judged


def test_boilerplate_does_not_carry_an_invented_claim() -> None:
    reply = "Our technical team will reply here and refund every customer in full."
    assert unsupported_sentences(reply, REFUND_SOURCES, allowed=ALLOWED) == [reply]


def test_split_sentences_keeps_abbreviations_and_numbers_whole() -> None:
    text = "Charged $12.50 on Nov. 3 at 9 a.m. today. Next step:\n- open Settings\n- click Export"
    assert split_sentences(text) == [
        "Charged $12.50 on Nov. 3 at 9 a.m. today.",
        "Next step:",
        "open Settings",
        "click Export",
    ]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    try:
        return MiniLMEncoder()
    except EncoderUnavailable as error:
        pytest.skip(f"all-MiniLM-L6-v2 is not installed: {error}")


def test_the_encoder_accepts_a_paraphrase_in_other_words(minilm: MiniLMEncoder) -> None:
    reply = "Refunds for yearly plans are calculated pro rata."
    (lexical_only,) = sentence_support(reply, REFUND_SOURCES)
    assert not lexical_only.supported  # too few shared words
    (semantic,) = sentence_support(reply, REFUND_SOURCES, minilm)
    assert semantic.supported
    assert semantic.semantic is not None
    assert semantic.semantic >= 0.75


@pytest.mark.parametrize(
    "invented",
    [
        "We offer full refunds within the first month for any reason.",
        "All refunds are processed manually by our billing team.",
        "Annual subscriptions can be cancelled at any time for a full refund.",
        "Exports are limited to a thousand rows on the free plan.",
        "The duplicate charge is not refunded automatically.",
    ],
)
def test_the_encoder_still_rejects_an_invented_policy(minilm: MiniLMEncoder, invented: str) -> None:
    assert unsupported_sentences(invented, REFUND_SOURCES, minilm) == [invented]


def test_the_lexical_fallback_encoder_is_no_looser_than_words() -> None:
    invented = "We offer full refunds within the first month for any reason."
    assert unsupported_sentences(invented, REFUND_SOURCES, LexicalEncoder()) == [invented]
