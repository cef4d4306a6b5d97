"""Dashboard rules: completion, suggestions, study-time windows in the learner's zone, series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.analytics import rules
from chalicelib.core.timeutil import iso, local_date, parse, week_start

ZONES = sorted(available_timezones() - {"Factory", "localtime"})
RULES = rules.Thresholds()
CATEGORIES = [rules.CategoryRef(f"c{i}", f"Category {i:02d}") for i in range(12)]

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC))


# --- time helpers --------------------------------------------------------------------------------


@given(moments)
def test_iso_round_trips(moment):
    assert parse(iso(moment)) == moment.replace(microsecond=0)


@given(moments, moments, st.sampled_from(ZONES))
def test_local_dates_never_run_backwards(a, b, zone):
    earlier, later = sorted([a, b])
    assert local_date(earlier, zone) <= local_date(later, zone)


@given(moments, st.sampled_from(ZONES))
def test_a_local_day_is_never_more_than_one_day_from_utc(moment, zone):
    assert abs((local_date(moment, zone) - moment.date()).days) <= 1


def test_zones_far_from_utc_and_across_dst_and_the_year_end():
    new_year_utc = datetime(2026, 12, 31, 12, 30, tzinfo=UTC)
    assert local_date(new_year_utc, "Pacific/Kiritimati") == date(2027, 1, 1)  # UTC+14
    assert local_date(new_year_utc, "Pacific/Pago_Pago") == date(2026, 12, 31)  # UTC-11
    # London leaves summer time at 01:00 UTC on 25 October 2026: 00:30 UTC is still the 25th locally.
    assert local_date(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/London") == date(2026, 10, 25)
    # Auckland (UTC+12) starts summer time (UTC+13) at 14:00 UTC on 26 September 2026.
    assert local_date(datetime(2026, 9, 26, 11, 30, tzinfo=UTC), "Pacific/Auckland") == date(2026, 9, 26)
    assert local_date(datetime(2026, 9, 26, 12, 30, tzinfo=UTC), "Pacific/Auckland") == date(2026, 9, 27)
    assert local_date(datetime(2026, 9, 27, 10, 30, tzinfo=UTC), "Pacific/Auckland") == date(2026, 9, 27)
    assert local_date(datetime(2026, 9, 27, 11, 30, tzinfo=UTC), "Pacific/Auckland") == date(2026, 9, 28)
    assert local_date("2026-03-08T10:30:00Z", "America/Los_Angeles") == date(2026, 3, 8)


# --- study-time windows --------------------------------------------------------------------------


@given(moments, st.sampled_from(ZONES), st.integers(1, 400))
@settings(max_examples=200)
def test_weeks_partition_days_with_no_overlap_and_no_gap(moment, zone, span):
    """Consecutive local days of any zone fall in Monday-start weeks that tile the calendar."""
    first = local_date(moment, zone)
    days = [first + timedelta(days=i) for i in range(span)]
    weeks: dict[date, list[date]] = {}
    for day in days:
        weeks.setdefault(week_start(day), []).append(day)
    starts = sorted(weeks)
    for start in starts:
        assert start.weekday() == 0
        assert all(start <= d < start + timedelta(days=7) for d in weeks[start])
    for earlier, later in pairwise(starts):
        assert later - earlier == timedelta(days=7)  # no gap between weeks
    assert sum(len(v) for v in weeks.values()) == len(days)  # no day in two weeks


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31)), st.integers(1, 400))
def test_last_days_is_exactly_count_days_ending_today(today, count):
    days = rules.last_days(today, count)
    assert len(days) == count and days[-1] == today
    assert all(b - a == timedelta(days=1) for a, b in pairwise(days))


def test_hours_in_the_last_14_days_count_14_days_not_15():
    today = date(2026, 11, 24)
    daily = {(today - timedelta(days=offset)).isoformat(): 3600 for offset in range(15)}
    assert rules.hours_last_days(daily, today) == 14.0


@given(
    st.dates(min_value=date(2000, 1, 3), max_value=date(2060, 1, 1)),
    st.dictionaries(st.integers(0, 20), st.integers(0, 20_000)),
)
def test_this_week_and_last_week_split_the_days_at_monday(today, offsets):
    daily = {(today - timedelta(days=o)).isoformat(): sec for o, sec in offsets.items()}
    monday = week_start(today)
    this_week = sum(s for d, s in daily.items() if monday <= date.fromisoformat(d) <= today)
    last_week = sum(s for d, s in daily.items() if monday - timedelta(days=7) <= date.fromisoformat(d) < monday)
    week = rules.week_hours(daily, today)
    assert week.hours_this_week == round(this_week / 3600, 1)
    assert week.delta_vs_last_week == round((this_week - last_week) / 3600, 1)


def test_the_snapshot_window_covers_last_week_and_the_last_14_days():
    for offset in range(7):  # every weekday
        today = date(2026, 11, 23) + timedelta(days=offset)
        first, last = rules.recent_window(today)
        assert last == today
        assert first <= week_start(today) - timedelta(days=7)
        assert first <= today - timedelta(days=13)


# --- completion and suggestions ------------------------------------------------------------------


@given(st.integers(0, 500), st.data())
def test_completion_is_monotone_in_correct_answers(answered, data):
    correct = data.draw(st.integers(0, answered))
    if rules.is_completed(rules.Totals(answered, correct), RULES) and correct < answered:
        assert rules.is_completed(rules.Totals(answered, correct + 1), RULES)


def test_completion_boundaries():
    assert rules.is_completed(rules.Totals(10, 7), RULES)  # 10 answers at 70%
    assert not rules.is_completed(rules.Totals(9, 9), RULES)  # too few answers
    assert not rules.is_completed(rules.Totals(10, 6), RULES)  # 60%


totals_maps = st.dictionaries(
    st.sampled_from([c.slug for c in CATEGORIES]),
    st.integers(0, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
)


@given(totals_maps, st.sets(st.sampled_from([c.slug for c in CATEGORIES])), st.integers(0, 12))
def test_suggestions_never_include_a_dismissed_or_completed_category(raw, dismissed, limit):
    totals = {slug: rules.Totals(a, c) for slug, (a, c) in raw.items()}
    thresholds = rules.Thresholds(suggest_max=limit)
    suggested = rules.suggestions(CATEGORIES, totals, dismissed, thresholds)
    assert len(suggested) <= limit
    for suggestion in suggested:
        assert suggestion.slug not in dismissed
        mine = totals.get(suggestion.slug)
        assert mine is None or not rules.is_completed(mine, thresholds)
        if suggestion.reason == "Not Started":
            assert mine is None or mine.answered == 0
        else:
            assert mine is not None and mine.answered >= thresholds.suggest_min_attempts
    low = [s.score_percent for s in suggested if s.reason == "Low Score"]
    scored = [score for score in low if score is not None]
    assert scored == low and scored == sorted(scored)  # every low score has one, weakest first
    reasons = [s.reason for s in suggested]
    assert reasons == sorted(reasons, key=lambda r: r != "Low Score")  # low scores before not started


def test_a_72_percent_category_is_completed_so_not_suggested():
    totals = {"c0": rules.Totals(50, 36)}  # 72%: completed (>= 70) although below the 75% "low" line
    assert all(s.slug != "c0" for s in rules.suggestions(CATEGORIES, totals, set(), RULES))


# --- series --------------------------------------------------------------------------------------


def test_weekly_series_are_monday_weeks_oldest_first():
    today = date(2026, 11, 25)  # a Wednesday
    stats = {"2026-11-23": rules.Day(4, 3, 60), "2026-11-22": rules.Day(2, 1, 60), "2026-08-01": rules.Day(9, 9, 0)}
    weeks = rules.weekly_series(today, 2, stats)
    assert [w.start for w in weeks] == [date(2026, 11, 16), date(2026, 11, 23)]
    assert [(w.answered, w.correct, w.score_percent) for w in weeks] == [(2, 1, 50.0), (4, 3, 75.0)]


def test_daily_series_fills_every_day():
    days = rules.last_days(date(2026, 11, 24), 3)
    series = rules.daily_series(days, {"2026-11-23": rules.Day(5, 4, 300)})
    assert [(d.isoformat(), s.answered) for d, s in series] == [("2026-11-22", 0), ("2026-11-23", 5), ("2026-11-24", 0)]
