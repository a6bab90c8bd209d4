"""The validated configuration of each channel kind; ``SecretStr`` fields are encrypted."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError

from onethread.errors import InvalidInput
from onethread.inboxes.models import ChannelKind
from onethread.inboxes.schemas import SurveySettings

META_GRAPH_URL = "https://graph.facebook.com/v25.0"
TWILIO_API_URL = "https://api.twilio.com"


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sandbox: bool = Field(
        default=False,
        description="Deliver replies to the local sandbox instead of the provider (demos, trials).",
    )
    surveys: SurveySettings = Field(default_factory=SurveySettings)

    @classmethod
    def secret_fields(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if _is_secret(field.annotation)]

    def public_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(self.secret_fields()))

    def secrets_dict(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in self.secret_fields():
            secret = getattr(self, name)
            if secret is not None:
                values[name] = secret.get_secret_value()
        return values


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or (
        getattr(annotation, "__args__", None) is not None and SecretStr in annotation.__args__
    )


class WhatsAppTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    language: str = "en_US"
    body: str = Field(default="", description="The approved text, with {{1}}-style parameters.")
    parameters: list[str] = Field(default_factory=list)


class MetaConfig(ChannelConfig):
    access_token: SecretStr | None = None
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    api_base_url: HttpUrl = HttpUrl(META_GRAPH_URL)


class WhatsAppConfig(MetaConfig):
    phone_number_id: str = Field(min_length=1)
    display_phone_number: str | None = None
    templates: list[WhatsAppTemplate] = Field(default_factory=list)


class InstagramConfig(MetaConfig):
    account_id: str = Field(min_length=1)


class MessengerConfig(MetaConfig):
    page_id: str = Field(min_length=1)


class TwilioConfig(ChannelConfig):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = None
    sender: str = Field(min_length=3, description="The Twilio number, E.164 (+15551234567).")
    api_base_url: HttpUrl = HttpUrl(TWILIO_API_URL)


class TwilioWhatsAppConfig(TwilioConfig):
    templates: list[WhatsAppTemplate] = Field(default_factory=list)


class TwilioVoiceConfig(TwilioConfig):
    voice_language: str = Field(default="en-US", description="Speech recognition and <Say>.")
    human_transfer_number: str | None = Field(
        default=None, description="Where a handoff on a call is dialled (E.164)."
    )
    greeting: str = "Hello! How can we help you today?"


class WebchatConfig(ChannelConfig):
    allowed_origins: list[str] = Field(default_factory=list)
    identity_secret: SecretStr | None = None
    color: str = Field(default="#4f46e5", pattern=r"^#[0-9a-fA-F]{6}$")
    greeting: str = "Hi! How can we help?"
    title: str = "Chat with us"


CONFIG_MODELS: dict[ChannelKind, type[ChannelConfig]] = {
    ChannelKind.WHATSAPP: WhatsAppConfig,
    ChannelKind.INSTAGRAM: InstagramConfig,
    ChannelKind.MESSENGER: MessengerConfig,
    ChannelKind.TWILIO_SMS: TwilioConfig,
    ChannelKind.TWILIO_WHATSAPP: TwilioWhatsAppConfig,
    ChannelKind.TWILIO_VOICE: TwilioVoiceConfig,
    ChannelKind.WEBCHAT: WebchatConfig,
}


def validate_config(channel: ChannelKind, raw: dict[str, Any]) -> ChannelConfig:
    try:
        return CONFIG_MODELS[channel].model_validate(raw)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(part) for part in error["loc"]), "reason": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput(f"invalid {channel.value} config", details=details) from exc
