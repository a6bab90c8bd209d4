from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from onethread.integrations.models import DeliveryStatus


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives POSTs.")
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(
        min_length=1, max_length=20, description="Public event names (docs/webhooks.md)."
    )
    active: bool = True


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=20)
    active: bool | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret, shown once.")


class WebhookSecret(BaseModel):
    secret: str = Field(description="The new signing secret, shown once.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    event_id: int | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    response_ms: int | None
    last_error: str | None
    request_body: str | None = Field(description="The JSON sent (rendered at the first attempt).")
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None = Field(description="Pass as ?before= for the next (older) page.")
