"""HTTP routes of billing (the `billing` flag: off, every one of them answers 404)."""

from __future__ import annotations

from chalicelib.billing import service
from chalicelib.billing.schemas import (
    CheckoutIn,
    CheckoutOut,
    LocalCheckoutOut,
    PlanIn,
    PlanOut,
    PlanPatch,
    SubscriptionOut,
    WebhookOut,
)
from chalicelib.core.http import Call, endpoint
from chalicelib.core.security import Role

TAGS = ("billing",)
ADMINS = (Role.ADMIN,)


@endpoint(
    "/billing/plans", "GET", summary="Plans on offer", tags=TAGS, response=list[PlanOut], auth="public", errors=(404,)
)
def list_plans(call: Call) -> list[PlanOut]:
    return service.list_plans(call.principal)


@endpoint(
    "/billing/plans",
    "POST",
    summary="Add a plan (admins; audited)",
    tags=TAGS,
    roles=ADMINS,
    body=PlanIn,
    response=PlanOut,
    status=201,
    errors=(401, 403, 404, 409, 422),
)
def create_plan(call: Call) -> PlanOut:
    return service.create_plan(call.user, call.body)


@endpoint(
    "/billing/plans/{code}",
    "PATCH",
    summary="Change a plan: price, features, daily allowance (admins; audited)",
    tags=TAGS,
    roles=ADMINS,
    body=PlanPatch,
    response=PlanOut,
    errors=(401, 403, 404, 409, 422),
)
def update_plan(call: Call) -> PlanOut:
    return service.update_plan(call.user, call.params["code"], call.body)


@endpoint(
    "/billing/subscription",
    "GET",
    summary="The learner's plan, status, period end and cancellation",
    tags=TAGS,
    response=SubscriptionOut,
    errors=(401, 404),
)
def subscription(call: Call) -> SubscriptionOut:
    return service.subscription(call.user)


@endpoint(
    "/billing/checkout",
    "POST",
    summary="Start a checkout for a plan: the provider's page to pay on",
    tags=TAGS,
    body=CheckoutIn,
    response=CheckoutOut,
    errors=(401, 404, 409, 422),
)
def checkout(call: Call) -> CheckoutOut:
    return service.checkout(call.user, call.body.plan)


@endpoint(
    "/billing/portal",
    "POST",
    summary="A link to the provider's customer portal (invoices, card, cancellation)",
    tags=TAGS,
    response=CheckoutOut,
    errors=(401, 404, 409),
)
def portal(call: Call) -> CheckoutOut:
    return service.portal(call.user)


@endpoint(
    "/billing/webhooks/stripe",
    "POST",
    summary="Stripe's events (signature checked on the raw body; each event applied once, in any order)",
    tags=TAGS,
    auth="public",
    response=WebhookOut,
    errors=(400, 404, 409),
)
def stripe_webhook(call: Call) -> WebhookOut:
    return service.handle_webhook(call.raw_body, call.header("Stripe-Signature"))


@endpoint(
    "/billing/local/checkout/{token}",
    "GET",
    summary="The local provider's checkout page (local stack, tests): pays, and sends Stripe's events signed",
    tags=TAGS,
    auth="public",
    response=LocalCheckoutOut,
    errors=(404,),
)
def local_checkout(call: Call) -> LocalCheckoutOut:
    return service.complete_local_checkout(call.params["token"])
