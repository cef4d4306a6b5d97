"""Study reminders, weekly summaries and announcement mail, with an injected clock: each learner on
their own calendar, exactly once per period however often (or however partly) a job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
import time_machine

from chalicelib.analytics import data as analytics
from chalicelib.core.cache import reset_all_caches
from chalicelib.core.email import OutboxEmailSender
from chalicelib.core.jobs import run_job
from chalicelib.core.security import Role
from chalicelib.core.tasks import run_pending
from tests.support.accounts import PASSWORD, register, staff

TUESDAY_1700_UTC = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 18:00 in London (GMT in November)


def learner(client, zone="Europe/London", **preferences) -> dict[str, Any]:
    account = register(client)
    body: dict[str, Any] = {"timezone": zone}
    if preferences:
        body["email_preferences"] = preferences
    assert client.patch("/me", body, token=account["access"]).status == 200
    return account


def studied(account, *days: date, answered=0, correct=0, seconds=0) -> None:
    """What the answer pipeline leaves behind: active-day markers and the day's figures."""
    user_id = account["user"]["id"]
    for day in days:
        analytics.active_marker(user_id, day.isoformat(), expires_at=2_000_000_000).save()
        if answered or seconds:
            stat = analytics.day_ref(user_id, day.isoformat())
            stat.date, stat.answered, stat.correct, stat.attempt_time_sec = day.isoformat(), answered, correct, seconds
            stat.save()


def mails_to(outbox, account) -> list[dict[str, Any]]:
    """The optional mail an account got (not the verification mail every registration sends)."""
    mine = [m for m in outbox.messages() if m["to"] == account["user"]["email"]]
    return [m for m in mine if not m["subject"].startswith("Confirm your")]


def notes(client, account) -> list[dict[str, Any]]:
    tokens = client.post("/auth/login", {"email": account["user"]["email"], "password": PASSWORD}).json
    return list(client.get("/notifications", token=tokens["access"]).json["items"])


class TestStudyReminders:
    def test_due_learners_get_one_at_their_evening_at_most_once_per_three_days(self, client, outbox):
        with time_machine.travel(TUESDAY_1700_UTC - timedelta(hours=1), tick=False) as clock:
            lapsed = learner(client, reminders=True)
            quiet = learner(client)  # reminders by email are opt-in: in-app only
            recent = learner(client, reminders=True)
            elsewhere = learner(client, "America/Los_Angeles", reminders=True)
            today = TUESDAY_1700_UTC.date()
            studied(lapsed, today - timedelta(days=4))
            studied(quiet, today - timedelta(days=5))
            studied(recent, today - timedelta(days=1))
            studied(elsewhere, today - timedelta(days=6))
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 0}  # 17:00 in London
            clock.move_to(TUESDAY_1700_UTC)
            assert run_job("send_study_reminders") == {"notified": 2, "emailed": 1}
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 0}  # twice: nothing more
            assert [n["kind"] for n in notes(client, lapsed)] == ["reminder"]
            assert [n["kind"] for n in notes(client, quiet)] == ["reminder"]
            assert notes(client, recent) == [] and notes(client, elsewhere) == []
            reminder = mails_to(outbox, lapsed)[0]
            assert "4 days ago" in reminder["body"] and "4 days ago" in reminder["html"]
            assert mails_to(outbox, quiet) == []
            clock.move_to(TUESDAY_1700_UTC + timedelta(hours=8))  # 18:00 in Los Angeles
            assert run_job("send_study_reminders") == {"notified": 1, "emailed": 1}
            clock.move_to(TUESDAY_1700_UTC + timedelta(days=2))  # too soon for the others' second one
            assert run_job("send_study_reminders") == {"notified": 1, "emailed": 1}  # `recent`: 3 days now
            assert [n["kind"] for n in notes(client, recent)] == ["reminder"]
            clock.move_to(TUESDAY_1700_UTC + timedelta(days=3))
            assert run_job("send_study_reminders")["notified"] == 2  # lapsed and quiet, still away: one more

    def test_a_failed_send_is_retried_by_the_next_run_once(self, client, outbox, monkeypatch):
        with time_machine.travel(TUESDAY_1700_UTC, tick=False):
            lapsed = learner(client, reminders=True)
            studied(lapsed, TUESDAY_1700_UTC.date() - timedelta(days=4))
            original = OutboxEmailSender.send

            def down(self: OutboxEmailSender, email: Any) -> None:
                raise ConnectionError("mail service unreachable")

            monkeypatch.setattr(OutboxEmailSender, "send", down)
            with pytest.raises(ConnectionError):
                run_job("send_study_reminders")
            monkeypatch.setattr(OutboxEmailSender, "send", original)
            assert len(notes(client, lapsed)) == 1 and mails_to(outbox, lapsed) == []
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 1}
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 0}
            assert len(notes(client, lapsed)) == 1 and len(mails_to(outbox, lapsed)) == 1

    def test_a_run_that_died_while_sending_is_retaken_after_the_lease(self, client, outbox, monkeypatch):
        """A process killed between taking a mail and marking it sent (a Lambda timeout) leaves
        it taken; the next runs leave it alone for 10 minutes, then send it."""
        from chalicelib.engagement import data as claims

        with time_machine.travel(TUESDAY_1700_UTC, tick=False):
            lapsed = learner(client, reminders=True)
            studied(lapsed, TUESDAY_1700_UTC.date() - timedelta(days=4))

            def killed(self: OutboxEmailSender, email: Any) -> None:
                raise SystemExit("the Lambda timed out")  # not an error the run can clean up after

            monkeypatch.setattr(claims, "release_email", lambda claim: None)  # a dead process releases nothing
            monkeypatch.setattr(OutboxEmailSender, "send", killed)
            with pytest.raises(SystemExit):
                run_job("send_study_reminders")
            monkeypatch.undo()
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 0}  # within the lease
        with time_machine.travel(TUESDAY_1700_UTC + timedelta(minutes=11), tick=False):
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 1}
            assert run_job("send_study_reminders") == {"notified": 0, "emailed": 0}
            assert len(notes(client, lapsed)) == 1 and len(mails_to(outbox, lapsed)) == 1


class TestWeeklySummary:
    # Monday 30 November 2026, 08:00: Sunday 19:00 UTC in Auckland (NZDT), Monday 16:00 UTC in Los Angeles.
    AUCKLAND_MONDAY = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    LOS_ANGELES_MONDAY = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)

    def test_each_learner_gets_it_on_their_own_monday_morning(self, client, outbox):
        with time_machine.travel(self.AUCKLAND_MONDAY - timedelta(hours=1), tick=False) as clock:
            kiwi = learner(client, "Pacific/Auckland")
            angeleno = learner(client, "America/Los_Angeles")
            for account in (kiwi, angeleno):
                studied(account, date(2026, 11, 24), answered=20, correct=15, seconds=3600)  # last week
                studied(account, date(2026, 11, 17), answered=5, correct=5, seconds=1800)  # the week before
            assert run_job("send_weekly_summaries") == {"notified": 0, "emailed": 0}
            clock.move_to(self.AUCKLAND_MONDAY)
            assert run_job("send_weekly_summaries") == {"notified": 1, "emailed": 1}
            assert run_job("send_weekly_summaries") == {"notified": 0, "emailed": 0}
            assert [n["title"] for n in notes(client, kiwi)] == ["Your week (2026-W48)"]
            assert notes(client, angeleno) == []
            clock.move_to(self.LOS_ANGELES_MONDAY)
            assert run_job("send_weekly_summaries") == {"notified": 1, "emailed": 1}
            mail = mails_to(outbox, angeleno)[0]
        assert "Questions answered: 20, 75% correct" in mail["body"]
        assert "1.0 h (+0.5 h against the week before)" in mail["body"]
        assert "<li>Questions answered: 20, 75% correct</li>" in mail["html"]
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail["headers"]["List-Unsubscribe"].startswith("<http") and "unsubscribe?token=" in mail["body"]

    def test_a_run_that_crashes_part_way_is_finished_by_the_next_once(self, client, outbox, monkeypatch):
        """Several learners due at once; the run dies on a write after the first learner's claim.
        The next run finishes the rest and repeats nothing."""
        from botocore.client import BaseClient

        with time_machine.travel(self.LOS_ANGELES_MONDAY, tick=False):
            learners = [learner(client, "America/Los_Angeles") for _ in range(3)]
            for account in learners:
                studied(account, date(2026, 11, 24), answered=4, correct=2, seconds=600)
            original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private: not in the stubs
            writes = {"count": 0}

            def crash_on_the_third_transaction(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
                if operation == "TransactWriteItems":
                    writes["count"] += 1
                    if writes["count"] == 3:
                        raise RuntimeError("the job's Lambda timed out")
                return original(self, operation, params)

            monkeypatch.setattr(BaseClient, "_make_api_call", crash_on_the_third_transaction)
            with pytest.raises(RuntimeError):
                run_job("send_weekly_summaries")
            monkeypatch.undo()
            assert run_job("send_weekly_summaries") == {"notified": 1, "emailed": 1}
            assert run_job("send_weekly_summaries") == {"notified": 0, "emailed": 0}
            for account in learners:
                assert len(notes(client, account)) == 1 and len(mails_to(outbox, account)) == 1


class TestUnsubscribe:
    @pytest.fixture(autouse=True)
    def monday(self):
        with time_machine.travel(TestWeeklySummary.LOS_ANGELES_MONDAY, tick=False) as traveller:
            yield traveller

    def _link(self, client, outbox) -> tuple[dict[str, Any], str]:
        account = learner(client, "America/Los_Angeles")
        studied(account, date(2026, 11, 24), answered=3, correct=1, seconds=300)
        run_job("send_weekly_summaries")
        header = mails_to(outbox, account)[0]["headers"]["List-Unsubscribe"].strip("<>")
        return account, f"/unsubscribe?{urlparse(header).query}"

    def test_one_click_turns_that_kind_off_without_login(self, client, outbox):
        account, path = self._link(client, outbox)
        page = client.get(path)
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.body.decode() and "<script" not in page.body.decode()
        me = client.get("/me", token=account["access"]).json
        assert me["email_preferences"]["weekly_summary"] is True  # a GET changes nothing
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        done = client.request("POST", path, raw=b"List-Unsubscribe=One-Click", headers=form)
        assert done.status == 200 and done.json == {"unsubscribed": "weekly_summary"}
        again = client.request("POST", path, raw=b"List-Unsubscribe=One-Click", headers=form)
        assert again.status == 200
        me = client.get("/me", token=account["access"]).json
        assert me["email_preferences"] == {"reminders": False, "weekly_summary": False, "announcements": True}

    def test_a_forged_or_foreign_token_is_refused(self, client, outbox):
        account, path = self._link(client, outbox)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        tampered = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
        for bad in (tampered, f"/unsubscribe?token={account['access']}", "/unsubscribe?token=" + "x" * 30):
            response = client.request("POST", bad, raw=b"List-Unsubscribe=One-Click", headers=form)
            assert response.status == 400 and response.json["error"]["code"] == "invalid_link", bad
        assert client.request("POST", "/unsubscribe", raw=b"", headers=form).status == 422


class TestAnnouncementMail:
    def test_everyone_who_allows_it_gets_one_mail_the_rest_none(self, client, outbox):
        admin = staff(client, Role.ADMIN)
        readers = [learner(client) for _ in range(3)]
        declined = learner(client, announcements=False)
        body = {"title": "New papers", "body": "Three <b>new</b> papers.", "audience": {"all": True}, "email": True}
        sent = client.post("/admin/notifications", body, token=admin["access"]).json
        late = learner(client)
        assert run_pending() == 16  # one page per directory shard
        assert run_pending() == 0
        assert all(len(mails_to(outbox, r)) == 1 for r in readers)
        assert mails_to(outbox, declined) == [] and mails_to(outbox, late) == []
        html = mails_to(outbox, readers[0])[0]["html"]
        assert "Three &lt;b&gt;new&lt;/b&gt; papers." in html  # staff text is escaped, never HTML
        listed = client.get("/admin/notifications", token=admin["access"]).json["items"]
        assert next(b for b in listed if b["id"] == sent["id"])["emailed"] >= 3  # staff account too

    def test_a_segment_reaches_the_inactive_only(self, client, outbox):
        admin = staff(client, Role.ADMIN)
        active, inactive = learner(client), learner(client)
        studied(active, datetime.now(UTC).date() - timedelta(days=1))
        reset_all_caches()
        body = {"title": "We miss you", "body": "Come back.", "audience": {"inactive_days": 7}, "email": True}
        assert client.post("/admin/notifications", body, token=admin["access"]).status == 201
        while run_pending():
            pass
        assert [n["title"] for n in notes(client, inactive)] == ["We miss you"]
        assert notes(client, active) == []
        assert len(mails_to(outbox, inactive)) == 1 and mails_to(outbox, active) == []
        while run_pending():  # a page delivered twice changes nothing
            pass
        assert len(notes(client, inactive)) == 1


class TestSecurityMail:
    """Sent whatever the email preferences say, with no unsubscribe link."""

    def test_a_sign_in_from_a_new_device_is_mailed_a_known_one_is_not(self, client, outbox):
        account = learner(client, reminders=False, weekly_summary=False, announcements=False)
        credentials = {"email": account["user"]["email"], "password": PASSWORD}
        assert client.post("/auth/login", credentials).status == 200  # the device it registered from
        laptop = {"User-Agent": "Firefox on a new laptop"}
        assert client.post("/auth/login", credentials, headers=laptop).status == 200
        assert client.post("/auth/login", credentials, headers=laptop).status == 200
        alerts = [m for m in mails_to(outbox, account) if m["subject"] == "New sign-in to your OpenMRCS account"]
        assert len(alerts) == 1 and "Firefox on a new laptop" in alerts[0]["body"]
        assert alerts[0]["headers"] == {} and "Unsubscribe" not in alerts[0]["body"]

    def test_two_factor_changes_are_mailed(self, client, outbox):
        import pyotp

        account = learner(client, reminders=False, weekly_summary=False, announcements=False)
        token = account["access"]
        secret = client.post("/me/2fa/setup", token=token).json["secret"]
        assert client.post("/me/2fa/confirm", {"code": pyotp.TOTP(secret).now()}, token=token).status == 200
        assert client.request("DELETE", "/me/2fa", {"password": PASSWORD}, token=token).status == 204
        subjects = [m["subject"] for m in mails_to(outbox, account)]
        assert subjects == ["Two-factor sign-in turned on", "Two-factor sign-in turned off"]


@pytest.mark.allow_scan
def test_accounts_made_before_the_directory_are_filed_once(client, outbox):
    from chalicelib.accounts import data as accounts

    old = learner(client)
    user = accounts.get_user(old["user"]["id"])
    assert user is not None
    user.update(actions=[accounts.UserItem.GSI2PK.remove(), accounts.UserItem.GSI2SK.remove()])  # as before
    admin = staff(client, Role.ADMIN)
    assert run_job("index_user_directory") == {"filed": 1}
    assert run_job("index_user_directory") == {"filed": 0}
    body = {"title": "Hello all", "body": "Body.", "audience": {"all": True}, "email": True}
    assert client.post("/admin/notifications", body, token=admin["access"]).status == 201
    while run_pending():
        pass
    assert [m["subject"] for m in mails_to(outbox, old)] == ["Hello all"]


def test_the_reminder_hour_and_gap_are_settings(client, monkeypatch):
    from chalicelib.core.config import get_settings

    monkeypatch.setenv("REMINDER_AFTER_DAYS", "7")
    monkeypatch.setenv("REMINDER_HOUR", "9")
    get_settings.cache_clear()
    try:
        nine = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        with time_machine.travel(nine, tick=False):
            away_five, away_eight = learner(client), learner(client)
            studied(away_five, nine.date() - timedelta(days=5))
            studied(away_eight, nine.date() - timedelta(days=8))
            assert run_job("send_study_reminders")["notified"] == 1
            assert notes(client, away_five) == [] and len(notes(client, away_eight)) == 1
    finally:
        monkeypatch.undo()  # the environment first, then forget the settings built from it
        get_settings.cache_clear()


def test_with_notification_email_off_the_reminder_stays_in_app(client, outbox, monkeypatch):
    """The stage's `notification_email` flag: in-app notifications go on, their mail does not."""
    from chalicelib.core.config import get_settings

    monkeypatch.setenv("FEATURE_FLAGS", '{"notification_email": false}')
    get_settings.cache_clear()
    try:
        with time_machine.travel(TUESDAY_1700_UTC, tick=False):
            lapsed = learner(client, reminders=True)
            studied(lapsed, TUESDAY_1700_UTC.date() - timedelta(days=4))
            assert run_job("send_study_reminders") == {"notified": 1, "emailed": 0}
            assert [n["kind"] for n in notes(client, lapsed)] == ["reminder"]
            assert mails_to(outbox, lapsed) == []
    finally:
        monkeypatch.delenv("FEATURE_FLAGS")
        get_settings.cache_clear()
