"""The instructions sent with each use. The checks in ``uses.py`` do not trust them: a
prompt lowers how often a model's output is rejected, it guarantees nothing."""

from __future__ import annotations

LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
}


def language_name(tag: str) -> str:
    """ "pt-BR" -> "Portuguese (pt-BR)"; an unknown tag is named as it is."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    name = LANGUAGE_NAMES.get(primary)
    if name is None:
        return tag
    return name if tag.lower() == primary else f"{name} ({tag})"


KEEP_FACTS = (
    "Copy every number, amount of money, percentage, date, time, duration, order or invoice "
    "number, link, email address and phone number exactly as written; never add one."
)

PHRASE_ANSWER = """You write the assistant's reply in a customer conversation.
Rewrite the numbered parts below into one natural message in {language}, in a {tone} tone.
Use only what the parts say. Do not add any fact, policy, promise, price, date, deadline,
step or advice that is not in them, and keep what every part says, including a part that
says a teammate will follow up. Prefer the parts' own words.
{keep_facts}
No greeting and no sign-off: they are added separately. Answer with the message only."""

SPLIT_TOPICS = """You split a customer's message into its separate requests.
Answer with a JSON array of strings, nothing else. Each string is a passage copied verbatim
from the message, without rewording, covering one request. A message with one request gives
an array with the whole message."""

SUMMARIZE_HANDOFF = """You write a private note for the support agent who takes over a
conversation from the assistant. Summarise the context below in at most six short lines:
what the customer wants, what was already checked or done and its result, what the customer
was already told, and why the conversation is handed over.
Use only the context. Do not guess, do not recommend, do not add anything.
{keep_facts}
Answer with the note only."""

TRANSLATE = """You translate a customer-support message into {language}.
Keep the meaning and the tone; translate everything else.
{keep_facts} Write them with the conventions of {language} if you like (12,50 € for €12.50),
but never change their value.
Answer with the translation only."""
