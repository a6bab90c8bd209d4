"""The demo's Python action, registered as the ``demo_plan_quote`` entry point.

It shows what a Python action is for: a small computation over the business's own
data. It reads the customer's subscription and the price list from the demo billing API
(the customer id comes from the verified contact facts, never from the message) and
returns what the plan costs over a year, billed monthly and billed annually.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from onethread.assistant.action_python import ActionRequest

TOKEN_SECRET = "billing_api_token"


async def plan_quote(request: ActionRequest) -> dict[str, Any] | None:
    """The annual quote for the current plan, or None without an active subscription."""
    base = request.vars["billing_api"].rstrip("/")
    customer_id = quote(str(request.facts.attributes["customer_id"]), safe="")
    headers = {"Authorization": f"Bearer {request.secrets[TOKEN_SECRET]}"}
    subscription = await _get_json(request, f"{base}/customers/{customer_id}/subscription", headers)
    if subscription is None or subscription.get("status") != "active":
        return None
    price_list = await _get_json(request, f"{base}/plans", headers)
    plans = {plan["plan"]: plan for plan in (price_list or {}).get("plans", [])}
    plan = plans.get(subscription["plan"])
    if plan is None:
        return None
    monthly = Decimal(plan["monthly_price"])
    annual = Decimal(plan["annual_price"])
    return {
        "plan": plan["plan"],
        "currency": plan["currency"],
        "monthly_price": f"{monthly:.2f}",
        "yearly_if_monthly": f"{monthly * 12:.2f}",
        "annual_price": f"{annual:.2f}",
        "annual_saving": f"{monthly * 12 - annual:.2f}",
    }


async def _get_json(
    request: ActionRequest, url: str, headers: dict[str, str]
) -> dict[str, Any] | None:
    response = await request.http.get(url, headers=headers)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body
