"""X-Twilio-Signature (REFERENCE.md §5.1): the SDKs' known answers, every shared fixture,
the ways a request must be refused, and agreement with the official ``twilio`` package on
random requests. Pure unit tests: no database, no app."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from onethread.channels.base import SignatureInvalid, WebhookRequest
from onethread.channels.twilio import compute_signature, url_variants, verify_signature
from onethread.inboxes.channel_config import TwilioConfig
from tests.channels.conftest import FIXTURES

FIXTURE_TOKEN = "fixture_auth_token_00000000000000"
SIGNED_FIXTURES = sorted(
    path.stem
    for path in FIXTURES.glob("twilio_*.json")
    if "raw_body" in json.loads(path.read_text())
)

# The SDKs' shared vectors: twilio-python tests/unit/test_request_validator.py.
SDK_TOKEN = "12345"
SDK_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
SDK_PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}
SDK_JSON_BODY = b'{"property": "value", "boolean": true}'
SDK_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def config(token: str | None = SDK_TOKEN) -> TwilioConfig:
    return TwilioConfig.model_validate(
        {"account_sid": "AC" + "0" * 32, "auth_token": token, "sender": "+15005550006"}
    )


def form_request(
    url: str,
    params: Mapping[str, Sequence[str]],
    signature: str | None,
    *,
    extra_headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    body = urlencode([(name, value) for name, values in params.items() for value in values])
    headers = {"content-type": "application/x-www-form-urlencoded", **(extra_headers or {})}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return WebhookRequest(
        method="POST",
        url=url,
        headers=headers,
        query=dict(parse_qsl(urlsplit(url).query)),
        body=body.encode(),
    )


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def fixture_request(
    name: str, *, url: str | None = None, body: bytes | None = None
) -> WebhookRequest:
    case = fixture(name)
    return WebhookRequest(
        method=case["http"]["method"],
        url=url or case["http"]["url"],
        headers={key.lower(): value for key, value in case["http"]["headers"].items()},
        query={},
        body=case["raw_body"].encode() if body is None else body,
    )


# --- known answers -----------------------------------------------------------------------


def test_plain_vector() -> None:
    assert compute_signature(SDK_URL, SDK_PARAMS, SDK_TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    verify_signature(config(), form_request(SDK_URL, SDK_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="))


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # Twilio signed https with :443 added; we received it without a port.
        (SDK_URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        # http with a non-default port, signed as received.
        (
            SDK_URL.replace(".com", ".com:1234").replace("https", "http"),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        ),
        # Twilio signed http with :80 added.
        (SDK_URL.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        # Received with a port, signed without it.
        (SDK_URL.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
    ids=["https-443-added", "http-1234", "http-80-added", "port-removed"],
)
def test_port_vectors(url: str, signature: str) -> None:
    verify_signature(config(), form_request(url, SDK_PARAMS, signature))


def test_port_vectors_are_over_the_port_variant() -> None:
    with_443 = SDK_URL.replace(".com", ".com:443")
    assert compute_signature(with_443, SDK_PARAMS, SDK_TOKEN) == "kvajT1Ptam85bY51eRf/AJRuM3w="
    with_80 = SDK_URL.replace(".com", ".com:80").replace("https", "http")
    assert compute_signature(with_80, SDK_PARAMS, SDK_TOKEN) == "0ZXoZLH/DfblKGATFgpif+LLRf4="


def test_duplicate_values_vector() -> None:
    params = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234"]}
    assert compute_signature(SDK_URL, params, SDK_TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    # a repeated identical value counts once
    params["Digits"].append("1234")
    verify_signature(config(), form_request(SDK_URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU="))


def json_request(body: bytes, body_hash: str, signature: str | None) -> WebhookRequest:
    url = f"{SDK_URL}&bodySHA256={body_hash}"
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return WebhookRequest(
        method="POST",
        url=url,
        headers=headers,
        query=dict(parse_qsl(urlsplit(url).query)),
        body=body,
    )


def test_json_body_vector() -> None:
    assert hashlib.sha256(SDK_JSON_BODY).hexdigest() == SDK_BODY_HASH
    url = f"{SDK_URL}&bodySHA256={SDK_BODY_HASH}"
    assert compute_signature(url, {}, SDK_TOKEN) == "a9nBmqA0ju/hNViExpshrM61xv4="
    verify_signature(
        config(), json_request(SDK_JSON_BODY, SDK_BODY_HASH, "a9nBmqA0ju/hNViExpshrM61xv4=")
    )


def test_json_body_that_does_not_match_its_hash_is_refused() -> None:
    tampered = SDK_JSON_BODY.replace(b"true", b"false")
    request = json_request(tampered, SDK_BODY_HASH, "a9nBmqA0ju/hNViExpshrM61xv4=")
    with pytest.raises(SignatureInvalid, match="bodySHA256"):
        verify_signature(config(), request)


# --- the shared fixtures -----------------------------------------------------------------


def test_every_signed_twilio_fixture_is_covered() -> None:
    assert len(SIGNED_FIXTURES) == 11


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_fixture_signature_verifies(name: str) -> None:
    request = fixture_request(name)
    verify_signature(config(FIXTURE_TOKEN), request)
    # the raw body holds exactly the documented fields, empty ones included (§5.1 gotcha 3)
    assert request.form() == {key: [value] for key, value in fixture(name)["form_params"].items()}


@pytest.mark.parametrize("name", SIGNED_FIXTURES)
def test_fixture_with_a_tampered_body_is_refused(name: str) -> None:
    raw = fixture(name)["raw_body"]
    tampered = raw.replace("AccountSid=AC0", "AccountSid=AC1", 1)
    assert tampered != raw
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_signature(config(FIXTURE_TOKEN), fixture_request(name, body=tampered.encode()))


def test_dropping_an_empty_field_breaks_the_signature() -> None:
    raw = fixture("twilio_voice_incoming")["raw_body"].replace("&ToCity=", "")
    with pytest.raises(SignatureInvalid):
        verify_signature(
            config(FIXTURE_TOKEN), fixture_request("twilio_voice_incoming", body=raw.encode())
        )


def test_wrong_token_is_refused() -> None:
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_signature(config("another_token"), fixture_request("twilio_sms_inbound"))


def test_missing_header_is_refused() -> None:
    request = fixture_request("twilio_sms_inbound")
    unsigned = WebhookRequest(
        method=request.method,
        url=request.url,
        headers={"content-type": "application/x-www-form-urlencoded"},
        query={},
        body=request.body,
    )
    with pytest.raises(SignatureInvalid, match="missing X-Twilio-Signature"):
        verify_signature(config(FIXTURE_TOKEN), unsigned)


def test_inbox_without_auth_token_refuses_everything() -> None:
    with pytest.raises(SignatureInvalid, match="no Twilio auth token"):
        verify_signature(config(None), fixture_request("twilio_sms_inbound"))


@pytest.mark.parametrize(
    "url",
    [
        "http://inbox.example.com/twilio/sms",  # TLS proxy: the public URL is https (§5.1)
        "https://inbox.example.com/twilio/sms?extra=1",  # a query Twilio did not call
        "https://inbox.example.com/twilio/SMS",  # the path is signed as is
        "https://other.example.com/twilio/sms",
    ],
)
def test_another_url_is_refused(url: str) -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(config(FIXTURE_TOKEN), fixture_request("twilio_sms_inbound", url=url))


def test_get_requests_sign_the_url_only() -> None:
    url = "https://inbox.example.com/twilio/voice?CallSid=CA1&From=%2B14155550100"
    request = WebhookRequest(
        method="GET",
        url=url,
        headers={"x-twilio-signature": compute_signature(url, {}, FIXTURE_TOKEN)},
        query=dict(parse_qsl(urlsplit(url).query)),
        body=b"",
    )
    verify_signature(config(FIXTURE_TOKEN), request)


def test_shared_key_signatures_are_refused_with_a_reason() -> None:
    request = form_request(
        SDK_URL,
        SDK_PARAMS,
        "not-an-auth-token-signature=",
        extra_headers={"x-twilio-webhooks-signature-settings": "key=abc,algorithm=HMAC_SHA256"},
    )
    with pytest.raises(SignatureInvalid, match="shared key"):
        verify_signature(config(), request)


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        ("https://a.example/x?y=1", ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]),
        ("http://a.example:8080", ["http://a.example:8080", "http://a.example"]),
        ("http://a.example", ["http://a.example", "http://a.example:80"]),
        ("https://u:p@a.example:443/", ["https://u:p@a.example:443/", "https://u:p@a.example/"]),
        ("https://[::1]/x", ["https://[::1]/x", "https://[::1]:443/x"]),
        ("ftp://a.example/x", ["ftp://a.example/x"]),
    ],
)
def test_url_variants(url: str, variants: list[str]) -> None:
    assert url_variants(url) == variants


# --- agreement with the official SDK ------------------------------------------------------


class MultiValues(dict[str, list[str]]):
    """What the SDK reads repeated fields from (it calls ``getall``, as on a MultiDict)."""

    def getall(self, name: str) -> list[str]:
        return self[name]


any_text = st.characters(codec="utf-8")  # form bodies are UTF-8: no lone surrogates
field_names = st.text(any_text, min_size=1, max_size=12)
field_values = st.lists(st.text(any_text, max_size=16), min_size=1, max_size=3)
forms = st.dictionaries(field_names, field_values, max_size=8)
urls = st.builds(
    "{}://{}{}/{}{}".format,
    st.sampled_from(["https", "http"]),
    st.sampled_from(["inbox.example.com", "onethread.test", "127.0.0.1"]),
    st.sampled_from(["", ":443", ":80", ":8443"]),
    st.text(st.sampled_from("abcXYZ09-_/"), max_size=20),
    st.sampled_from(["", "?event=speech&turn=2", "?a=1&a=2&b=%C3%A9"]),
)
tokens = st.text(any_text, min_size=1, max_size=40)
SDK_SETTINGS = settings(max_examples=200, deadline=None, database=None)


@SDK_SETTINGS
@given(url=urls, params=forms, token=tokens)
def test_signature_matches_the_sdk(url: str, params: dict[str, list[str]], token: str) -> None:
    expected = RequestValidator(token).compute_signature(url, MultiValues(params))
    assert compute_signature(url, params, token) == expected


@SDK_SETTINGS
@given(
    url=urls,
    params=forms,
    token=tokens,
    signed_url=st.sampled_from(["as-received", "with-port", "without-port", "other"]),
)
def test_verification_agrees_with_the_sdk(
    url: str, params: dict[str, list[str]], token: str, signed_url: str
) -> None:
    parsed = urlsplit(url)
    host = parsed.hostname or ""
    default_port = 443 if parsed.scheme == "https" else 80
    signing_url = {
        "as-received": url,
        "with-port": url.replace(parsed.netloc, f"{host}:{parsed.port or default_port}", 1),
        "without-port": url.replace(parsed.netloc, host, 1),
        "other": url.replace(parsed.netloc, "elsewhere.example", 1),
    }[signed_url]
    signature = compute_signature(signing_url, params, token)
    sdk_accepts = RequestValidator(token).validate(url, MultiValues(params), signature)
    try:
        verify_signature(config(token), form_request(url, params, signature))
        accepted = True
    except SignatureInvalid:
        accepted = False
    assert accepted == sdk_accepts
    assert accepted == (signed_url != "other")


def test_a_body_that_is_no_utf8_form_is_refused_as_unsigned() -> None:
    request = fixture_request("twilio_sms_inbound", body=b"Body=\xff\xfe")
    with pytest.raises(SignatureInvalid, match="not UTF-8"):
        verify_signature(config(FIXTURE_TOKEN), request)
