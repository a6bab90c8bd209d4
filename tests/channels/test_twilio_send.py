"""Sending through Twilio's REST API and fetching inbound media (REFERENCE.md §5.3), against
the fake Twilio API on loopback: real HTTP, Twilio's error bodies. No database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from onethread.channels.base import (
    DeliveryReceipt,
    Outbound,
    Recipient,
    SendFailed,
    WebhookRequest,
)
from onethread.channels.twilio_messaging import TwilioSmsAdapter, TwilioWhatsAppAdapter
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import TwilioConfig, TwilioWhatsAppConfig
from tests.fakes.twilio_api import FakeTwilioApi, twilio_error

SMS = TwilioSmsAdapter()
WHATSAPP = TwilioWhatsAppAdapter()
CUSTOMER = "+14017122661"
CONTENT_SID = "HX" + "b" * 32


@pytest.fixture
def api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2) as client:
        yield client


def sms_config(api: FakeTwilioApi, **changes: Any) -> TwilioConfig:
    return TwilioConfig.model_validate(
        {
            "account_sid": api.account_sid,
            "auth_token": api.auth_token,
            "sender": "+15558675310",
            "api_base_url": api.base_url,
            **changes,
        }
    )


def whatsapp_config(api: FakeTwilioApi) -> TwilioWhatsAppConfig:
    return TwilioWhatsAppConfig.model_validate(
        {
            "account_sid": api.account_sid,
            "auth_token": api.auth_token,
            "sender": "+14155238886",
            "api_base_url": api.base_url,
            "templates": [{"name": CONTENT_SID, "body": "Hi {{1}}, order {{2}} shipped"}],
        }
    )


def outbound(text: str = "Your order has shipped.", **interactive: Any) -> Outbound:
    return Outbound(
        message_id=7,
        recipient=Recipient(external_id=CUSTOMER, phone=CUSTOMER),
        text=text,
        interactive=interactive or None,
    )


# --- success ----------------------------------------------------------------------------


async def test_sms_send(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    receipt = await SMS.send(sms_config(api), outbound(), http)
    [sent] = api.sent
    assert sent.path == f"/2010-04-01/Accounts/{api.account_sid}/Messages.json"
    assert sent.basic_auth == (api.account_sid, api.auth_token)
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.form == {"From": "+15558675310", "To": CUSTOMER, "Body": "Your order has shipped."}
    assert receipt == DeliveryReceipt(external_id=receipt.external_id, status=DeliveryStatus.SENT)
    assert receipt.external_id.startswith("SM")
    assert len(receipt.external_id) == 34


async def test_whatsapp_send_uses_prefixed_addresses(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    await WHATSAPP.send(whatsapp_config(api), outbound("¿Algo más? 🙂"), http)
    assert api.sent[0].form == {
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+14017122661",
        "Body": "¿Algo más? 🙂",
    }


async def test_recipient_without_phone_is_reached_by_its_id(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    message = Outbound(message_id=1, recipient=Recipient(external_id=CUSTOMER), text="Hi")
    await WHATSAPP.send(whatsapp_config(api), message, http)
    assert api.sent[0].form["To"] == "whatsapp:+14017122661"


async def test_buttons_degrade_to_numbered_text(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    buttons = [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]
    await WHATSAPP.send(whatsapp_config(api), outbound("Confirm?", buttons=buttons), http)
    assert api.sent[0].form["Body"] == "Confirm?\n\n1. Yes\n2. No"


async def test_whatsapp_template_goes_by_content_sid(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    template = {"name": CONTENT_SID, "language": "en_US", "parameters": ["Ana", "#1234"]}
    message = outbound("Hi Ana, order #1234 shipped", template=template)
    await WHATSAPP.send(whatsapp_config(api), message, http)
    form = api.sent[0].form
    assert "Body" not in form
    assert form["ContentSid"] == CONTENT_SID
    assert json.loads(form["ContentVariables"]) == {"1": "Ana", "2": "#1234"}


async def test_template_without_parameters(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    await WHATSAPP.send(
        whatsapp_config(api), outbound("Hello", template={"name": CONTENT_SID}), http
    )
    assert set(api.sent[0].form) == {"From", "To", "ContentSid"}


async def test_template_named_otherwise_is_refused_before_sending(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    message = outbound("Hi", template={"name": "order_shipped", "parameters": []})
    with pytest.raises(SendFailed, match="Content SID") as failure:
        await WHATSAPP.send(whatsapp_config(api), message, http)
    assert (failure.value.code, failure.value.transient) == ("template_not_content_sid", False)
    assert api.requests == []


async def test_sms_has_no_templates_and_sends_the_text(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    message = outbound("Hi Ana, order #1234 shipped", template={"name": CONTENT_SID})
    await SMS.send(sms_config(api), message, http)
    assert api.sent[0].form["Body"] == "Hi Ana, order #1234 shipped"


@dataclass
class OutboundWithCallback(Outbound):
    status_callback_url: str | None = None


async def test_status_callback_url_is_passed_on(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    callback = "https://inbox.example.com/webhooks/twilio_sms/3"
    message = OutboundWithCallback(
        message_id=1,
        recipient=Recipient(external_id=CUSTOMER),
        text="Hi",
        status_callback_url=callback,
    )
    await SMS.send(sms_config(api), message, http)
    assert api.sent[0].form["StatusCallback"] == callback


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_transient(
    api: FakeTwilioApi, http: httpx.AsyncClient, status: int
) -> None:
    api.script(status=status)
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound(), http)
    assert failure.value.transient
    assert failure.value.http_status == status


async def test_twilio_error_is_final_with_its_code_and_words(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    api.script(status=400, body=twilio_error(400, 21211, "Invalid 'To' Phone Number: +1401712266"))
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound(), http)
    error = failure.value
    assert (error.code, error.transient, error.http_status) == ("21211", False, 400)
    assert error.reason == "The recipient's phone number is not valid (Twilio 21211)"


async def test_window_error_says_to_send_a_template(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    api.script(status=400, body=twilio_error(400, 63016, "Outside messaging window"))
    with pytest.raises(SendFailed) as failure:
        await WHATSAPP.send(whatsapp_config(api), outbound(), http)
    assert failure.value.code == "63016"
    assert "24-hour" in failure.value.reason
    assert "template" in failure.value.reason


async def test_unknown_error_keeps_twilio_words(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    api.script(status=400, body=twilio_error(400, 21999, "Something new"))
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound(), http)
    assert (failure.value.code, failure.value.reason) == ("21999", "Something new (Twilio 21999)")


async def test_error_without_json_body(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    api.script(status=502, body=b"<html>Bad gateway</html>")
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound(), http)
    assert (failure.value.code, failure.value.transient) == ("http_502", True)


async def test_timeout_is_transient(api: FakeTwilioApi) -> None:
    api.script(delay=2)
    async with httpx.AsyncClient(timeout=0.2) as http:
        with pytest.raises(SendFailed) as failure:
            await SMS.send(sms_config(api), outbound(), http)
    assert (failure.value.code, failure.value.transient) == ("timeout", True)


async def test_unreachable_api_is_transient(http: httpx.AsyncClient) -> None:
    with FakeTwilioApi() as stopped:
        config = sms_config(stopped)
    with pytest.raises(SendFailed) as failure:
        await SMS.send(config, outbound(), http)
    assert (failure.value.code, failure.value.transient) == ("network", True)


async def test_wrong_credentials_are_final(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api, auth_token="not-the-token"), outbound(), http)
    assert (failure.value.code, failure.value.transient, failure.value.http_status) == (
        "20003",
        False,
        401,
    )


async def test_missing_fields_are_refused_by_twilio(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    message = Outbound(message_id=1, recipient=Recipient(external_id=""), text="Hi")
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), message, http)
    assert failure.value.code == "21604"


async def test_no_auth_token_fails_without_calling(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api, auth_token=None), outbound(), http)
    assert (failure.value.code, failure.value.transient) == ("no_auth_token", False)
    assert api.requests == []


async def test_empty_text_fails_without_calling(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound("  "), http)
    assert failure.value.code == "empty_message"
    assert api.requests == []


async def test_answer_without_sid_is_a_failure(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    api.script(status=201, body={"status": "queued"})
    with pytest.raises(SendFailed) as failure:
        await SMS.send(sms_config(api), outbound(), http)
    assert failure.value.code == "no_sid"


# --- inbound media -----------------------------------------------------------------------


def received_mms(api: FakeTwilioApi) -> InboundMessage:
    """An inbound MMS whose MediaUrl points at the fake, parsed as the webhook would be."""
    url = api.add_media(b"\x89PNG fake image", "image/png", message_sid="MM" + "1" * 32)
    fields = {
        "MessageSid": "MM" + "1" * 32,
        "From": CUSTOMER,
        "To": "+15558675310",
        "Body": "",
        "NumMedia": "1",
        "MediaContentType0": "image/png",
        "MediaUrl0": url,
    }
    webhook = WebhookRequest(
        method="POST", url="https://x/", headers={}, query={}, body=urlencode(fields).encode()
    )
    [message] = SMS.parse(sms_config(api), webhook)
    assert isinstance(message, InboundMessage)
    return message


async def test_fetch_media_follows_twilio_redirect(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    [attachment] = received_mms(api).attachments
    media = await SMS.fetch_media(sms_config(api), attachment, http)
    assert (media.content, media.mime_type) == (b"\x89PNG fake image", "image/png")
    first, redirected = api.requests
    assert first.basic_auth == (api.account_sid, api.auth_token)
    assert redirected.path.startswith("/media-content/")


async def test_missing_media_is_a_final_failure(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    attachment = {"type": "image", "url": api.media_url("MM" + "1" * 32, "ME" + "0" * 32)}
    with pytest.raises(SendFailed) as failure:
        await SMS.fetch_media(sms_config(api), attachment, http)
    assert (failure.value.code, failure.value.transient) == ("20404", False)


async def test_media_elsewhere_is_never_fetched_with_our_credentials(
    api: FakeTwilioApi, http: httpx.AsyncClient
) -> None:
    attachment = {"type": "image", "url": "https://attacker.example/steal"}
    with pytest.raises(SendFailed) as failure:
        await SMS.fetch_media(sms_config(api), attachment, http)
    assert failure.value.code == "untrusted_media_host"
    assert api.requests == []


async def test_location_has_no_media(api: FakeTwilioApi, http: httpx.AsyncClient) -> None:
    with pytest.raises(SendFailed) as failure:
        await SMS.fetch_media(sms_config(api), {"type": "location", "latitude": 1.0}, http)
    assert failure.value.code == "no_media_url"
