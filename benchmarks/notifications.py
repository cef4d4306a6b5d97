"""What notifications cost: an announcement's send against the number of accounts (it writes the
same few items whether 10 or 5,000 learners exist), and a learner's inbox reads at 0, 100 and
10,000 notifications (one page: the read does not grow with the inbox)."""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Api, Measured

PASSWORD = "Bench-Password-2026"


def _row(label: str, measured: Measured) -> str:
    ops = ", ".join(f"{op} x{n}" for op, n in sorted(measured.operations.items())) or "none"
    return f"| {label} | {measured.status} | {ops} | {measured.rcu:g} | {measured.wcu:g} |"


def _accounts(count: int, start: int) -> None:
    """Accounts written directly (profile with its directory entry, and inbox), as registration would."""
    from chalicelib.accounts import data as accounts
    from chalicelib.accounts.data import UserItem
    from chalicelib.core import clock
    from chalicelib.core.db import TableItem
    from chalicelib.notifications import data as notifications

    with TableItem.batch_write() as batch:
        for n in range(start, start + count):
            user = UserItem(
                user_id=f"bench-user-{n:06d}",
                email=f"bench{n}@example.com",
                password_hash="-",
                display_name=f"Learner {n}",
                created_at=1_700_000_000_000 + n,
                updated_at=1_700_000_000_000 + n,
            )
            _, user = accounts.new_user_items(user)
            batch.save(user)
            batch.save(notifications.new_inbox(user.user_id, clock.iso_ms_from_ms(int(user.created_at))))


def _fill_inbox(user_id: str, count: int, have: int) -> None:
    from chalicelib.core import clock
    from chalicelib.core.db import TableItem
    from chalicelib.notifications import data

    with TableItem.batch_write() as batch:
        for n in range(have, count):
            batch.save(
                data.new_notification(
                    user_id,
                    f"{n:012x}{'0' * 20}",
                    title=f"Note {n}",
                    body="A notification body of realistic length, a sentence or two of text.",
                    kind="exam",
                    created_at=clock.iso_ms(clock.now()),
                    read=n % 2 == 0,
                )
            )


def notification_costs(api: Api) -> list[str]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.cache import reset_all_caches
    from chalicelib.core.security import Role

    provision_user("bench-admin@example.com", PASSWORD, "Admin", Role.ADMIN)
    admin = api.call("POST", "/auth/login", {"email": "bench-admin@example.com", "password": PASSWORD}).body["access"]
    learner = api.call(
        "POST", "/auth/register", {"email": "inbox@example.com", "password": PASSWORD, "display_name": "Inbox"}
    ).body
    token, user_id = learner["access"], learner["user"]["id"]
    lines = ["| step | status | DynamoDB operations | RCU | WCU |", "|---|---|---|---|---|"]
    have_accounts = 0
    for accounts in (10, 5000):
        _accounts(accounts - have_accounts, have_accounts)
        have_accounts = accounts
        body: dict[str, Any] = {"title": f"To {accounts}", "body": "Three new papers.", "audience": {"all": True}}
        lines.append(
            _row(
                f"POST /admin/notifications (everyone: {accounts} accounts)",
                api.call("POST", "/admin/notifications", body, admin),
            )
        )
    reset_all_caches()  # as a container that has not seen the sends yet
    lines.append(_row("GET /me (2 announcements to merge in)", api.call("GET", "/me", token=token)))
    lines.append(_row("GET /me (nothing new)", api.call("GET", "/me", token=token)))
    have = 0
    for size in (0, 100, 10_000):
        _fill_inbox(user_id, size, have)
        have = max(have, size)
        page = api.call("GET", "/notifications?limit=20", token=token)
        lines.append(_row(f"GET /notifications?limit=20 ({size + 2} notifications)", page))
        lines.append(_row(f"GET /me ({size + 2} notifications)", api.call("GET", "/me", token=token)))
    first = api.call("GET", "/notifications?limit=1", token=token).body["items"][0]["id"]
    lines.append(_row("POST /notifications/{id}/read", api.call("POST", f"/notifications/{first}/read", token=token)))
    lines.append(
        _row("POST /notifications/read-all (10,002)", api.call("POST", "/notifications/read-all", token=token))
    )
    return lines
