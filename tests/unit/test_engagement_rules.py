"""Who an announcement reaches, what counts as read, and when reminders and summaries fall due on
each learner's own clock: examples and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.engagement import rules
from chalicelib.notifications import rules as notify
from chalicelib.notifications.rules import Audience, Learner

SENT = "2026-11-24T12:00:00.000Z"
BEFORE, AFTER = "2026-11-01T00:00:00.000Z", "2026-11-25T00:00:00.000Z"
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
zones = st.sampled_from(["UTC", "Europe/London", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"])


class TestWhoAnAnnouncementReaches:
    def test_everyone_registered_when_sent_and_later_ones_only_if_standing(self):
        everyone = Audience(everyone=True)
        assert notify.reaches(everyone, False, SENT, Learner("u", "user", BEFORE))
        assert not notify.reaches(everyone, False, SENT, Learner("u", "user", AFTER))
        assert notify.reaches(everyone, True, SENT, Learner("u", "user", AFTER))

    def test_a_role_or_a_list(self):
        assert notify.reaches(Audience(role="editor"), False, SENT, Learner("u", "editor", BEFORE))
        assert not notify.reaches(Audience(role="editor"), False, SENT, Learner("u", "user", BEFORE))
        listed = Audience(user_ids=frozenset({"a"}))
        assert notify.reaches(listed, False, SENT, Learner("a", "user", AFTER))
        assert not notify.reaches(listed, False, SENT, Learner("b", "user", BEFORE))

    def test_a_segment_is_never_merged_on_read(self):
        segment = Audience.from_json({"inactive_days": 7})
        assert not notify.merged_on_read(segment)
        assert not notify.reaches(segment, False, SENT, Learner("u", "user", BEFORE))

    @given(st.sets(st.sampled_from(["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"])))
    def test_inactive_means_no_study_on_any_day_of_the_window(self, active):
        days = ["2026-11-22", "2026-11-23", "2026-11-24"]
        segment = Audience(inactive_days=3)
        expected = not (active & set(days))
        assert notify.in_segment(segment, SENT, Learner("u", "user", BEFORE), active, days) == expected
        assert not notify.in_segment(segment, SENT, Learner("u", "user", AFTER), set(), days)

    @given(st.text(alphabet="0123456789abcdef", min_size=4, max_size=4), st.booleans())
    def test_read_is_the_flag_or_below_the_read_all_marker(self, notification_id, flag):
        assert notify.is_read(notification_id, flag, "") == flag
        assert notify.is_read(notification_id, flag, "ffff") is True
        assert notify.is_read(notification_id, flag, notification_id) is True

    def test_editors_send_content_news_admins_anything(self):
        assert notify.may_send("content_news", "editor") and not notify.may_send("announcement", "editor")
        assert notify.may_send("announcement", "admin") and not notify.may_send("announcement", "user")


class TestReminders:
    @given(instants, zones, st.integers(min_value=0, max_value=40))
    def test_due_only_at_the_local_hour_and_after_enough_days(self, now, zone, away):
        local = rules.local_time(now, zone)
        last = (local.date() - timedelta(days=away)).isoformat()
        assert rules.reminder_due(last, local) == (local.hour == rules.REMINDER_HOUR and away >= 3)

    @given(instants, zones)
    def test_one_per_three_days(self, now, zone):
        local = rules.local_time(now, zone)
        cutoff = rules.reminder_cutoff(local)
        for gap in range(0, 6):
            previous = (local.date() - timedelta(days=gap)).isoformat()
            assert (previous <= cutoff) == (gap >= 3)

    def test_an_unknown_zone_counts_as_utc(self):
        now = datetime(2026, 11, 24, 18, tzinfo=UTC)
        assert rules.local_time(now, "Mars/Olympus_Mons").hour == 18


class TestWeeklySummary:
    @given(instants, zones)
    def test_due_on_the_local_monday_morning_only(self, now, zone):
        local = rules.local_time(now, zone)
        assert rules.summary_due(local) == (local.weekday() == 0 and local.hour == 8)

    @given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)))
    def test_last_week_is_the_monday_to_sunday_before(self, day):
        local = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        week = rules.last_week(local)
        assert week.monday.weekday() == 0 and len(week.days) == 7
        assert date.fromisoformat(week.days[-1]) < day - timedelta(days=day.weekday()) + timedelta(days=1)
        assert week.label == f"{week.monday.isocalendar()[0]}-W{week.monday.isocalendar()[1]:02d}"

    def test_figures_against_the_week_before(self):
        week = rules.week_of(date(2026, 11, 23))
        days = {
            "2026-11-24": rules.DayFigures(20, 15, 3600),
            "2026-11-17": rules.DayFigures(5, 5, 1800),
            "2026-11-30": rules.DayFigures(99, 99, 9999),  # the week after: not counted
        }
        summary = rules.weekly_summary(week, days, {"anatomy": (10, 4), "physiology": (10, 9), "pathology": (2, 0)})
        assert summary == rules.WeekSummary("2026-W48", 20, 75, 1.0, 0.5, "anatomy")

    @given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.tuples(st.integers(0, 50), st.integers(0, 50))))
    def test_the_weakest_has_enough_answers_and_the_lowest_accuracy(self, raw):
        categories = {slug: (answered, min(correct, answered)) for slug, (answered, correct) in raw.items()}
        weakest = rules.weakest_category(categories)
        eligible = {s: c / a for s, (a, c) in categories.items() if a >= rules.WEAKEST_MIN_ANSWERED}
        if not eligible:
            assert weakest is None
        else:
            assert weakest in eligible and eligible[weakest] == min(eligible.values())


class TestMailLease:
    @given(st.sampled_from(["none", "pending", "sending", "sent"]), st.integers(0, 2000))
    def test_a_mail_is_taken_when_pending_or_abandoned(self, state, age):
        now = 10_000
        takeable = rules.may_take_email(state, now - age, now)
        assert takeable == (state == "pending" or (state == "sending" and age >= rules.EMAIL_LEASE_SEC))
