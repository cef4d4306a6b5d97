"""Dashboard, analytics and recommendations: what a learner sees change after practising."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from chalicelib.analytics import data as analytics_data
from chalicelib.analytics import snapshot
from chalicelib.core import clock, config
from chalicelib.core.cache import reset_all_caches
from chalicelib.core.db import user_pk
from chalicelib.core.security import Role
from local_stack.meter import metering
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import answer, answers_by_id, right, small_bank, start, wrong

SPEC_KEYS = {
    "overall_progress",
    "performance",
    "study_time",
    "recent_activity",
    "suggested_topics",
    "featured_resources",
}


@pytest.fixture
def rules(monkeypatch):
    """Small thresholds so a handful of answers can complete a category or make it a weak topic."""
    small = config.get_settings().model_copy(
        update={
            "progress_min_answered": 2,
            "progress_min_score": 50.0,
            "suggest_min_attempts": 2,
            "suggest_low_score": 75.0,
        }
    )
    monkeypatch.setattr("chalicelib.analytics.snapshot.get_settings", lambda: small)


@pytest.fixture
def bank(client):
    return small_bank(client)


def practise(client, token, bank, category, outcomes, seconds=60):
    """Answer len(outcomes) questions of a category (True = right) and complete the session."""
    bank_ids = answers_by_id(bank)
    session = start(client, token, categories=[category], question_count=len(outcomes))
    for qid, good in zip(session["question_ids"], outcomes, strict=True):
        response = answer(
            client, token, session["id"], qid, right(bank_ids[qid]) if good else wrong(bank_ids[qid]), seconds=seconds
        )
        assert response.status == 200
    client.post(f"/practice/sessions/{session['id']}/complete", token=token)
    return session


def test_dashboard_follows_practice(client, bank, stream, rules):
    editor = staff(client, Role.EDITOR)
    client.post(
        "/resources",
        {
            "kind": "video",
            "title": "Abdomen",
            "url": "https://v.example.com/a",
            "duration_sec": 750,
            "is_featured": True,
            "status": "published",
        },
        token=editor["access"],
    )
    learner = register(client)
    token = learner["access"]
    stream.poll_once()
    before = client.get("/dashboard", token=token).json
    assert set(before) == SPEC_KEYS
    assert before["performance"] == {"avg_score_percent": 0.0, "correct": 0, "incorrect": 0}
    assert before["overall_progress"] == {"completed": 0, "total": 3}
    assert [t["reason"] for t in before["suggested_topics"]] == ["Not Started"] * 3
    assert before["recent_activity"] == {"last_practice": None, "last_exam": None}

    practise(client, token, bank, "anatomy", [True, True, True, False], seconds=900)
    practise(client, token, bank, "pathology", [False, False])
    stream.poll_once()
    after = client.get("/dashboard", token=token).json
    assert after["performance"] == {"avg_score_percent": 50.0, "correct": 3, "incorrect": 3}
    assert after["overall_progress"] == {"completed": 1, "total": 3}  # anatomy: 4 answered at 75%
    assert after["study_time"]["hours_this_week"] == round((4 * 900 + 2 * 60) / 3600, 1)
    last = after["recent_activity"]["last_practice"]
    assert last == {"days_ago": 0, "score_percent": 0.0, "correct": 0, "incorrect": 2, "categories": ["Pathology"]}
    assert [(t["category"], t["reason"], t["score_percent"]) for t in after["suggested_topics"]] == [
        ("Pathology", "Low Score", 0.0),
        ("Physiology", "Not Started", None),
    ]
    assert [r["title"] for r in after["featured_resources"]] == ["Abdomen"]
    assert client.get("/recommendations/topics", token=token).json == after["suggested_topics"]


def test_dashboard_is_one_read_of_half_a_unit(client, bank, stream, rules):
    token = register(client)["access"]
    for _ in range(3):
        practise(client, token, bank, "anatomy", [True, False])
    stream.poll_once()
    client.get("/dashboard", token=token)  # warms the featured-resources cache
    with metering() as meter:
        response = client.get("/dashboard", token=token)
    assert response.status == 200
    assert dict(meter.operations) == {"GetItem": 1}
    assert meter.rcu <= 0.5


def test_days_ago_and_week_over_week_on_the_learners_calendar(client, bank, stream):
    with time_machine.travel("2026-11-16 10:00:00Z", tick=False) as traveller:  # a Monday
        learner = register(client)
        token = learner["access"]
        client.patch("/me", {"timezone": "Europe/London"}, token=token)
        token = client.post("/auth/login", {"email": learner["user"]["email"], "password": PASSWORD}).json["access"]
        practise(client, token, bank, "anatomy", [True, True], seconds=1800)  # 1 h last week
        stream.poll_once()
        traveller.shift(timedelta(days=8))  # Tuesday of the next week
        token = client.post("/auth/login", {"email": learner["user"]["email"], "password": PASSWORD}).json["access"]
        practise(client, token, bank, "pathology", [True, False, True], seconds=3600)  # 3 h this week
        stream.poll_once()
        traveller.shift(timedelta(days=2))
        token = client.post("/auth/login", {"email": learner["user"]["email"], "password": PASSWORD}).json["access"]
        board = client.get("/dashboard", token=token).json
    assert board["study_time"] == {"hours_this_week": 3.0, "delta_vs_last_week": 2.0}
    assert board["recent_activity"]["last_practice"]["days_ago"] == 2


def test_dismissing_a_topic_hides_it_for_fourteen_days(client, bank, stream):
    learner = register(client)
    stream.poll_once()
    token = learner["access"]
    assert [t["slug"] for t in client.get("/recommendations/topics", token=token).json] == [
        "anatomy",
        "physiology",
        "pathology",
    ]
    remaining = client.post("/recommendations/dismiss", {"category": "physiology"}, token=token)
    assert [t["slug"] for t in remaining.json] == ["anatomy", "pathology"]
    assert [t["slug"] for t in client.get("/recommendations/topics", token=token).json] == ["anatomy", "pathology"]
    stream.poll_once()
    assert "physiology" not in [t["slug"] for t in client.get("/dashboard", token=token).json["suggested_topics"]]
    assert client.post("/recommendations/dismiss", {"category": "nope"}, token=token).status == 422
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        snapshot.rebuild(learner["user"]["id"])
        token = client.post("/auth/login", {"email": learner["user"]["email"], "password": PASSWORD}).json["access"]
        assert "physiology" in [t["slug"] for t in client.get("/recommendations/topics", token=token).json]


def test_daily_job_rebuilds_active_learners(client, bank, stream):
    from chalicelib.analytics.data import DashboardSnapshot
    from chalicelib.core.jobs import run_job

    learner = register(client)
    practise(client, learner["access"], bank, "anatomy", [True])
    stream.poll_once()
    DashboardSnapshot(PK=user_pk(learner["user"]["id"]), SK=analytics_data.SNAPSHOT_SK).delete()
    assert run_job("recompute_suggestions") == {"users": 1}
    board = client.get("/dashboard", token=learner["access"]).json
    assert board["performance"]["correct"] == 1


def test_analytics_series(client, bank, stream):
    learner = register(client)
    token = learner["access"]
    practise(client, token, bank, "anatomy", [True, False, True], seconds=120)
    stream.poll_once()
    today = clock.now().date().isoformat()
    week = client.get("/analytics/study-time?range=week", token=token).json
    assert len(week["days"]) == 7 and week["days"][-1] == {"date": today, "minutes": 6.0, "answered": 3, "correct": 2}
    assert all(d["minutes"] == 0 for d in week["days"][:-1]) and week["total_minutes"] == 6.0
    assert len(client.get("/analytics/study-time?range=month", token=token).json["days"]) == 30
    assert client.get("/analytics/study-time?range=year", token=token).status == 422
    heatmap = client.get("/analytics/heatmap", token=token).json
    assert len(heatmap) == 365 and heatmap[-1] == {"date": today, "answered": 3}
    trends = client.get("/analytics/trends", token=token).json
    assert len(trends) == 12 and trends[-1]["score_percent"] == 66.67 and trends[0]["score_percent"] is None
    categories = client.get("/analytics/categories", token=token).json
    assert [(c["slug"], c["answered"], c["correct"]) for c in categories] == [("anatomy", 3, 2)]
    assert {s["slug"] for s in categories[0]["subcategories"]} <= {"thorax", "abdomen"}
    assert client.get("/practice/summary", token=token).json == categories
    overview = client.get("/analytics/overview", token=token).json
    assert (overview["answered"], overview["correct"], overview["categories_total"]) == (3, 2, 3)
    progress = {c["slug"]: c["progress"] for c in client.get("/categories", token=token).json}
    assert progress["anatomy"] == {"answered": 3, "correct": 2, "score_percent": 66.67}


def test_every_analytics_read_is_one_query_or_getitem(client, bank, stream):
    token = register(client)["access"]
    practise(client, token, bank, "anatomy", [True, False])
    stream.poll_once()
    client.get("/analytics/categories", token=token)  # warms the taxonomy name cache
    client.get("/analytics/heatmap", token=token)  # warms this learner's time zone (kept 30 s)
    for path in (
        "/analytics/overview",
        "/analytics/study-time?range=month",
        "/analytics/categories",
        "/analytics/heatmap",
        "/analytics/trends",
        "/recommendations/topics",
    ):
        with metering() as meter:
            assert client.get(path, token=token).status == 200
        assert sum(meter.operations.values()) == 1, (path, meter.summary())


def test_a_cold_container_checks_the_session_once_and_the_same_read_gives_the_time_zone(client, stream):
    token = register(client)["access"]
    reset_all_caches()  # another container: nothing of this learner cached
    with metering() as cold:
        client.get("/analytics/heatmap", token=token)
    assert cold.operations == {"BatchGetItem": 1, "Query": 1}  # profile + session, then the days
    with metering() as warm:
        client.get("/analytics/heatmap", token=token)
    assert warm.operations == {"Query": 1}


class TestHeartbeat:
    def test_counts_once_per_event_and_feeds_study_time(self, client, stream):
        token = register(client)["access"]
        body = {"event_id": "evt-000001", "seconds": 90}
        assert client.post("/analytics/heartbeat", body, token=token).json == {"counted": True, "reason": "counted"}
        assert client.post("/analytics/heartbeat", body, token=token).json == {"counted": False, "reason": "duplicate"}
        client.post("/analytics/heartbeat", {"event_id": "evt-000002", "seconds": 30}, token=token)
        assert client.get("/analytics/study-time", token=token).json["total_minutes"] == 2.0
        stream.poll_once()
        assert client.get("/analytics/overview", token=token).json["hours_last_14_days"] == round(120 / 3600, 1)

    def test_daily_cap(self, client, monkeypatch):
        capped = config.get_settings().model_copy(update={"heartbeat_daily_cap_sec": 100})
        monkeypatch.setattr("chalicelib.analytics.service.get_settings", lambda: capped)
        token = register(client)["access"]
        assert client.post("/analytics/heartbeat", {"event_id": "evt-a-0001", "seconds": 90}, token=token).json[
            "counted"
        ]
        over = client.post("/analytics/heartbeat", {"event_id": "evt-a-0002", "seconds": 20}, token=token).json
        assert over == {"counted": False, "reason": "daily_cap"}

    @pytest.mark.parametrize(
        "body",
        [
            {"event_id": "evt-000001", "seconds": 0},
            {"event_id": "evt-000001", "seconds": 121},
            {"event_id": "bad id!", "seconds": 10},
            {"seconds": 10},
        ],
    )
    def test_bounds(self, client, body):
        token = register(client)["access"]
        assert client.post("/analytics/heartbeat", body, token=token).status == 422


@pytest.mark.parametrize("path", ["/dashboard", "/analytics/overview", "/analytics/heatmap", "/recommendations/topics"])
def test_analytics_need_a_signed_in_learner(client, path):
    assert client.get(path).status == 401
