"""What an entitlement check adds to a practice answer: the same request with the paywall off, on for
a learner on a paid plan (the effective plan cached in the container, and not), and on for a learner
on the free plan (the day's allowance counter)."""

from __future__ import annotations

import json
import os

from benchmarks.harness import Api, Measured, create_categories, signed_in

HEADER = ["| answer | DynamoDB operations | RCU | WCU | added to the paywall-off answer |", "|---|---|---|---|---|"]


def _row(label: str, measured: Measured, base: Measured | None) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items()))
    added = "-" if base is None else f"{measured.rcu - base.rcu:+g} RCU, {measured.wcu - base.wcu:+g} WCU"
    return f"| {label} | {ops} | {measured.rcu:g} | {measured.wcu:g} | {added} |"


def _paywall(on: bool) -> None:
    from chalicelib.core.config import get_settings

    os.environ["FEATURE_FLAGS"] = json.dumps({"paywall": on})
    get_settings.cache_clear()


def _subscribe(user_id: str) -> None:
    """A paid subscription, as a webhook would leave it (the webhook path is tested, not measured here)."""
    from chalicelib.billing import data

    item = data.subscription_ref(user_id)
    item.plan, item.status, item.event_time = "monthly", "active", 1
    item.save()


def entitlement_costs(api: Api) -> list[str]:
    from chalicelib.core.cache import reset_all_caches
    from seeds.loader import load_plans

    load_plans()
    admin = signed_in(api, "bench-billing-admin@example.com", "admin")
    create_categories(api, admin, ("anatomy",))
    for n in range(12):
        body = {
            "stem": f"Bench question {n} about the brachial plexus?",
            "type": "single",
            "category": "anatomy",
            "difficulty": 3,
            "options": [{"text": f"Option {k}", "is_correct": k == 0} for k in range(5)],
            "explanation": "Because.",
            "status": "published",
        }
        api.call("POST", "/questions", body, admin)

    def answer(token: str) -> Measured:
        session = api.call("POST", "/practice/sessions", {"categories": ["anatomy"], "question_count": 1}, token).body
        question = session["questions"][0]
        body = {
            "question_id": question["id"],
            "selected_option_ids": [question["options"][0]["id"]],
            "time_spent_sec": 30,
        }
        return api.call("POST", f"/practice/sessions/{session['id']}/attempts", body, token)

    def learner(name: str) -> tuple[str, str]:
        token = signed_in(api, f"bench-billing-{name}@example.com", "user")
        return token, str(api.call("GET", "/me", token=token).body["id"])

    lines = list(HEADER)
    try:
        _paywall(False)
        token, _ = learner("off")
        answer(token)  # warm the container's caches
        base = answer(token)
        lines.append(_row("paywall off", base, None))
        _paywall(True)
        paid, paid_id = learner("paid")
        _subscribe(paid_id)
        reset_all_caches()
        lines.append(_row("paywall on, paid plan, first answer in this container (plan read)", answer(paid), base))
        lines.append(_row("paywall on, paid plan, plan cached (the common path)", answer(paid), base))
        free, _ = learner("free")
        answer(free)
        lines.append(_row("paywall on, free plan (the day's allowance counted)", answer(free), base))
    finally:
        os.environ.pop("FEATURE_FLAGS", None)
        _paywall_reset()
    return lines


def _paywall_reset() -> None:
    from chalicelib.core.config import get_settings

    get_settings.cache_clear()
