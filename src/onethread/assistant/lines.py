# ruff: noqa: E501
"""The assistant's own lines, per language; a playbook's ``replies`` override any of them.

These lines carry no facts (no numbers, prices or dates), so the grounding check lets
them through as they are; facts only ever come from sources and action results.
"""

from __future__ import annotations

from onethread.playbook.schemas import Playbook, SlotKind

LINES: dict[str, dict[str, str]] = {
    "en": {
        "handoff_team": "For the rest, I've passed this to our {team} team, who will reply here.",
        "handoff": "I've passed your message to our team: a person will reply here shortly.",
        "handoff_topic": "About {topic}, I've passed this to our {team} team, who will reply here.",
        "ask_slot": "To check that, could you send me your {slots}?",
        "cite": "(from “{title}”)",
        "thanks": "You're welcome! Is there anything else I can help with?",
        "hello": "Hello! How can I help you today?",
        "team": "support",
    },
    "fr": {
        "handoff_team": "Pour le reste, j'ai transmis à notre équipe {team}, qui vous répondra ici.",
        "handoff": "J'ai transmis votre message à notre équipe : une personne va vous répondre ici.",
        "handoff_topic": "Pour {topic}, j'ai transmis à notre équipe {team}, qui vous répondra ici.",
        "ask_slot": "Pour vérifier, pourriez-vous m'envoyer votre {slots} ?",
        "cite": "(source : « {title} »)",
        "thanks": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "hello": "Bonjour ! Comment puis-je vous aider ?",
        "team": "support",
    },
    "es": {
        "handoff_team": "Para lo demás, lo he pasado a nuestro equipo de {team}, que te responderá aquí.",
        "handoff": "He pasado tu mensaje a nuestro equipo: una persona te responderá aquí.",
        "handoff_topic": "Sobre {topic}, lo he pasado a nuestro equipo de {team}, que te responderá aquí.",
        "ask_slot": "Para comprobarlo, ¿podrías enviarme tu {slots}?",
        "cite": "(fuente: «{title}»)",
        "thanks": "¡De nada! ¿Puedo ayudarte en algo más?",
        "hello": "¡Hola! ¿En qué puedo ayudarte?",
        "team": "soporte",
    },
    "de": {
        "handoff_team": "Für den Rest habe ich unser {team}-Team informiert, das Ihnen hier antwortet.",
        "handoff": "Ich habe Ihre Nachricht an unser Team weitergegeben: jemand antwortet Ihnen hier.",
        "handoff_topic": "Zu {topic} habe ich unser {team}-Team informiert, das Ihnen hier antwortet.",
        "ask_slot": "Um das zu prüfen, schicken Sie mir bitte Ihre {slots}.",
        "cite": "(Quelle: „{title}“)",
        "thanks": "Gern geschehen! Kann ich sonst noch helfen?",
        "hello": "Hallo! Wie kann ich helfen?",
        "team": "Support",
    },
    "pt": {
        "handoff_team": "Quanto ao resto, encaminhei para a nossa equipe de {team}, que vai responder aqui.",
        "handoff": "Encaminhei a sua mensagem para a nossa equipe: uma pessoa vai responder aqui.",
        "handoff_topic": "Sobre {topic}, encaminhei para a nossa equipe de {team}, que vai responder aqui.",
        "ask_slot": "Para verificar, pode me enviar o seu {slots}?",
        "cite": "(fonte: “{title}”)",
        "thanks": "De nada! Posso ajudar em mais alguma coisa?",
        "hello": "Olá! Como posso ajudar?",
        "team": "suporte",
    },
}

SLOT_NAMES: dict[str, dict[SlotKind, str]] = {
    "en": {
        SlotKind.ORDER_NUMBER: "order number",
        SlotKind.INVOICE_NUMBER: "invoice number",
        SlotKind.EMAIL: "email address",
        SlotKind.PHONE: "phone number",
        SlotKind.DATE: "date",
        SlotKind.AMOUNT: "amount",
    },
    "fr": {
        SlotKind.ORDER_NUMBER: "numéro de commande",
        SlotKind.INVOICE_NUMBER: "numéro de facture",
        SlotKind.EMAIL: "adresse e-mail",
        SlotKind.PHONE: "numéro de téléphone",
        SlotKind.DATE: "date",
        SlotKind.AMOUNT: "montant",
    },
    "es": {
        SlotKind.ORDER_NUMBER: "número de pedido",
        SlotKind.INVOICE_NUMBER: "número de factura",
        SlotKind.EMAIL: "correo electrónico",
        SlotKind.PHONE: "teléfono",
        SlotKind.DATE: "fecha",
        SlotKind.AMOUNT: "importe",
    },
    "de": {
        SlotKind.ORDER_NUMBER: "Bestellnummer",
        SlotKind.INVOICE_NUMBER: "Rechnungsnummer",
        SlotKind.EMAIL: "E-Mail-Adresse",
        SlotKind.PHONE: "Telefonnummer",
        SlotKind.DATE: "Datum",
        SlotKind.AMOUNT: "Betrag",
    },
    "pt": {
        SlotKind.ORDER_NUMBER: "número do pedido",
        SlotKind.INVOICE_NUMBER: "número da fatura",
        SlotKind.EMAIL: "e-mail",
        SlotKind.PHONE: "telefone",
        SlotKind.DATE: "data",
        SlotKind.AMOUNT: "valor",
    },
}


class Lines:
    """The lines for one language, with the playbook's overrides applied."""

    def __init__(self, playbook: Playbook, language: str) -> None:
        fallback = playbook.settings.default_language
        self.language = language if language in LINES else fallback if fallback in LINES else "en"
        self._lines = {
            **LINES["en"],
            **LINES[self.language],
            **playbook.replies.get(fallback, {}),
            **playbook.replies.get(language, {}),
        }

    def get(self, key: str, **values: str) -> str:
        return self._lines[key].format(**values)

    def slot_names(self, slots: list[SlotKind]) -> str:
        names = SLOT_NAMES.get(self.language, SLOT_NAMES["en"])
        return " / ".join(names[slot] for slot in slots)

    def allowed(self) -> list[str]:
        """Every line as said in this language: the grounding check lets them through."""
        return list(self._lines.values())
