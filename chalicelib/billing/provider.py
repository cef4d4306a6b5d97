"""Payment providers: Stripe (the `stripe` library) on deployed stages, and a local one for the local
stack and tests, whose checkout page completes by sending the app a correctly signed webhook (the
same verification path as Stripe's)."""

from __future__ import annotations

import secrets
from typing import Any, Protocol

from chalicelib.billing import data
from chalicelib.core import clock
from chalicelib.core.config import get_settings

LOCAL_CHECKOUT_TTL_SEC = 3600


class Provider(Protocol):
    def checkout_url(
        self, *, user_id: str, email: str, plan_code: str, price_id: str | None, customer: str | None
    ) -> str: ...

    def portal_url(self, *, customer: str) -> str: ...


class StripeProvider:
    """Checkout and the customer portal through Stripe's API (the key from Secrets Manager)."""

    def _client(self) -> Any:
        import stripe  # loaded only by the billing routes that need it (cold start)

        return stripe.StripeClient(get_settings().billing_api_key)

    def checkout_url(
        self, *, user_id: str, email: str, plan_code: str, price_id: str | None, customer: str | None
    ) -> str:
        settings = get_settings()
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": price_id, "quantity": 1}],
            "client_reference_id": user_id,
            "metadata": {"user_id": user_id, "plan": plan_code},
            "subscription_data": {"metadata": {"user_id": user_id, "plan": plan_code}},
            "success_url": f"{settings.public_app_url}/billing/done",
            "cancel_url": f"{settings.public_app_url}/billing",
        }
        if customer:
            params["customer"] = customer
        else:
            params["customer_email"] = email
        session = self._client().v1.checkout.sessions.create(params=params)
        return str(session.url)

    def portal_url(self, *, customer: str) -> str:
        settings = get_settings()
        params = {"customer": customer, "return_url": f"{settings.public_app_url}/billing"}
        return str(self._client().v1.billing_portal.sessions.create(params=params).url)


class LocalProvider:
    """No network: the checkout URL is this API's own page, which completes the payment."""

    def checkout_url(
        self, *, user_id: str, email: str, plan_code: str, price_id: str | None, customer: str | None
    ) -> str:
        token = secrets.token_urlsafe(16)
        data.local_checkout(token, user_id, plan_code, clock.epoch() + LOCAL_CHECKOUT_TTL_SEC).save()
        return f"{get_settings().public_api_url}/billing/local/checkout/{token}"

    def portal_url(self, *, customer: str) -> str:
        return f"{get_settings().public_app_url}/billing?local_portal={customer}"


def provider() -> Provider:
    return StripeProvider() if get_settings().billing_provider == "stripe" else LocalProvider()
