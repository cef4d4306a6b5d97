"""Exam Mode through HTTP, with time controlled: fair, resumable, and impossible to game."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import time_machine

from chalicelib.core import clock
from chalicelib.core.jobs import run_job
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.practice import answers_by_id, right, small_bank, wrong
from tests.support.replicas import lag_every_replica

SPEC_FIELDS = {"id", "name", "paper", "duration_minutes", "total_questions", "description", "pass_mark_percent"}


@pytest.fixture
def bank(client):
    return small_bank(client)


@pytest.fixture
def examiner(client):
    return staff(client, Role.EXAMINER)


def blueprint_template(client, examiner, **overrides):
    body = {
        "name": "Quick Mock",
        "paper": "Paper 1",
        "duration_minutes": 10,
        "total_questions": 5,
        "blueprint": {"anatomy": 3, "pathology": 2},
        "pass_mark_percent": 60,
        **overrides,
    }
    response = client.post("/exams/templates", body, token=examiner["access"])
    assert response.status == 201, response
    return response.json


def start(client, token, template_id):
    response = client.post("/exams/sessions", {"template_id": template_id}, token=token)
    assert response.status == 201, response
    return response.json


def save(client, token, session_id, answers):
    return client.put(f"/exams/sessions/{session_id}/answers", {"answers": answers}, token=token)


class TestTemplates:
    def test_learners_see_active_templates_in_the_spec_shape(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        learner = register(client)
        listed = client.get("/exams/templates", token=learner["access"]).json
        assert len(listed) == 1
        assert {k for k, v in listed[0].items() if v is not None} == SPEC_FIELDS
        client.patch(f"/exams/templates/{template['id']}", {"status": "retired"}, token=examiner["access"])
        assert client.get("/exams/templates", token=learner["access"]).json == []
        assert client.get("/exams/templates", token=examiner["access"]).json[0]["status"] == "retired"

    def test_fixed_paper(self, client, bank, examiner):
        ids = [q["id"] for q in bank["physiology"][:4]]
        body = {
            "name": "Fixed",
            "paper": "Paper 2",
            "duration_minutes": 5,
            "total_questions": 4,
            "question_ids": ids,
            "shuffle_questions": False,
        }
        template = client.post("/exams/templates", body, token=examiner["access"]).json
        session = start(client, register(client)["access"], template["id"])
        assert [q["id"] for q in session["questions"]] == ids

    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"total_questions": 6}, "add up to 5"),
            ({"blueprint": {"anatomy": 99}, "total_questions": 99}, "anatomy"),
            ({"blueprint": None}, "either"),
            ({"question_ids": ["x"], "total_questions": 5}, "either"),
            ({"duration_minutes": 0}, "duration_minutes"),
        ],
    )
    def test_validation(self, client, bank, examiner, change, needle):
        body = {
            "name": "Bad",
            "paper": "Paper 1",
            "duration_minutes": 10,
            "total_questions": 5,
            "blueprint": {"anatomy": 3, "pathology": 2},
            **change,
        }
        response = client.post("/exams/templates", body, token=examiner["access"])
        assert response.status == 422 and needle in json.dumps(response.json["error"])

    def test_unpublished_questions_are_refused(self, client, bank, examiner):
        draft = staff(client, Role.EDITOR)
        from tests.support.content import question

        hidden = question(client, draft, "anatomy", status="draft")
        body = {"name": "F", "paper": "P", "duration_minutes": 5, "total_questions": 1, "question_ids": [hidden["id"]]}
        assert client.post("/exams/templates", body, token=examiner["access"]).status == 422

    def test_a_template_with_sessions_is_retired_not_deleted(self, client, bank, examiner):
        used, unused = blueprint_template(client, examiner), blueprint_template(client, examiner, name="Spare")
        start(client, register(client)["access"], used["id"])
        assert client.delete(f"/exams/templates/{used['id']}", token=examiner["access"]).status == 409
        assert client.delete(f"/exams/templates/{unused['id']}", token=examiner["access"]).status == 204

    @pytest.mark.parametrize("role", [Role.USER, Role.EDITOR])
    def test_only_examiners_and_admins_manage_templates(self, client, bank, examiner, role):
        template = blueprint_template(client, examiner)
        actor = register(client) if role == Role.USER else staff(client, role)
        body = {"name": "X", "paper": "P", "duration_minutes": 5, "total_questions": 2, "blueprint": {"anatomy": 2}}
        assert client.post("/exams/templates", body, token=actor["access"]).status == 403
        assert client.patch(f"/exams/templates/{template['id']}", {"name": "Y"}, token=actor["access"]).status == 403
        assert client.delete(f"/exams/templates/{template['id']}", token=actor["access"]).status == 403
        admin = staff(client, Role.ADMIN)
        assert client.patch(f"/exams/templates/{template['id']}", {"name": "Y"}, token=admin["access"]).status == 200


class TestTakingAnExam:
    def test_full_exam_taken_changed_submitted_and_reviewed(self, client, bank, examiner, stream):
        template = blueprint_template(client, examiner)
        learner = register(client)
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, template["id"])
        assert len(session["questions"]) == 5 and session["status"] == "in_progress"
        assert "is_correct" not in json.dumps(session) and "explanation" not in json.dumps(session)
        assert 595 <= session["remaining_sec"] <= 600
        qids = [q["id"] for q in session["questions"]]
        first = save(
            client,
            token,
            session["id"],
            [{"question_id": q, "selected_option_ids": wrong(bank_ids[q])} for q in qids[:4]],
        )
        assert first.status == 200 and first.json["saved"] == 4
        assert "is_correct" not in json.dumps(first.json)  # saving never says whether an answer is right
        changed = save(
            client,
            token,
            session["id"],
            [
                {"question_id": qids[0], "selected_option_ids": right(bank_ids[qids[0]]), "flagged": True},
                {"question_id": qids[1], "selected_option_ids": right(bank_ids[qids[1]])},
            ],
        )
        assert changed.status == 200 and set(changed.json) == {"saved", "remaining_sec"}
        resumed = client.get(f"/exams/sessions/{session['id']}", token=token).json
        saved = {a["question_id"]: a for a in resumed["answers"]}
        assert saved[qids[0]] == {
            "question_id": qids[0],
            "selected_option_ids": right(bank_ids[qids[0]]),
            "time_spent_sec": 0,
            "flagged": True,
        }
        assert client.get(f"/exams/sessions/{session['id']}/review", token=token).status == 409
        result = client.post(f"/exams/sessions/{session['id']}/submit", token=token)
        assert result.status == 200
        assert (result.json["correct"], result.json["answered"], result.json["total"]) == (2, 4, 5)
        assert result.json["score_percent"] == 40.0 and result.json["passed"] is False
        assert client.post(f"/exams/sessions/{session['id']}/submit", token=token).status == 409
        assert save(client, token, session["id"], [{"question_id": qids[4], "selected_option_ids": []}]).status == 409
        review = client.get(f"/exams/sessions/{session['id']}/review", token=token).json
        assert review["score_percent"] == 40.0 and review["template"] == {"name": "Quick Mock"}
        attempts = {a["question_id"]: a for a in review["attempts"]}
        assert attempts[qids[0]]["is_correct"] and attempts[qids[0]]["correct_option_ids"] == right(bank_ids[qids[0]])
        assert attempts[qids[4]]["selected_option_ids"] == [] and attempts[qids[4]]["is_correct"] is False
        assert attempts[qids[0]]["explanation"] == bank_ids[qids[0]]["explanation"]
        assert {c["category"]: c["total"] for c in review["categories"]} == {"Anatomy": 3, "Pathology": 2}
        history = client.get("/exams/sessions", token=token).json["items"]
        assert [(h["id"], h["score_percent"], h["passed"]) for h in history] == [(session["id"], 40.0, False)]
        stream.poll_once()
        last = client.get("/dashboard", token=token).json["recent_activity"]["last_exam"]
        assert last == {"days_ago": 0, "exam": "Quick Mock", "score_percent": 40.0, "time_spent_min": 0, "answered": 4}
        assert client.get("/dashboard", token=token).json["performance"]["correct"] == 2

    def test_bad_answers_are_refused(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        token = register(client)["access"]
        session = start(client, token, template["id"])
        qid = session["questions"][0]["id"]
        options = [o["id"] for o in session["questions"][0]["options"]]
        outsider = bank["physiology"][0]["id"]
        for answers in (
            [{"question_id": outsider, "selected_option_ids": []}],
            [{"question_id": qid, "selected_option_ids": ["o_nothere000"]}],
            [{"question_id": qid, "selected_option_ids": options[:2]}],
            [{"question_id": qid, "selected_option_ids": []}, {"question_id": qid, "selected_option_ids": []}],
        ):
            assert save(client, token, session["id"], answers).status == 422
        assert client.put(f"/exams/sessions/{session['id']}/answers", {"answers": []}, token=token).status == 422

    def test_concurrent_double_submit_scores_once(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        token = register(client)["access"]
        session = start(client, token, template["id"])
        statuses: list[int] = []

        def submit():
            statuses.append(client.post(f"/exams/sessions/{session['id']}/submit", token=token).status)

        threads = [threading.Thread(target=submit) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 409, 409, 409, 409]

    def test_order_is_stable_and_options_can_be_shuffled(self, client, bank, examiner):
        template = blueprint_template(client, examiner, shuffle_options=True)
        token = register(client)["access"]
        session = start(client, token, template["id"])
        again = client.get(f"/exams/sessions/{session['id']}", token=token).json
        assert [q["id"] for q in again["questions"]] == [q["id"] for q in session["questions"]]
        assert [[o["id"] for o in q["options"]] for q in again["questions"]] == [
            [o["id"] for o in q["options"]] for q in session["questions"]
        ]
        orders = {
            tuple(o["id"] for o in start(client, token, template["id"])["questions"][0]["options"]) for _ in range(6)
        }
        assert len(orders) > 1

    def test_another_users_session_is_404_everywhere(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        session = start(client, register(client)["access"], template["id"])
        intruder = register(client)["access"]
        sid = session["id"]
        assert client.get(f"/exams/sessions/{sid}", token=intruder).status == 404
        assert save(client, intruder, sid, [{"question_id": session["questions"][0]["id"]}]).status == 404
        assert client.post(f"/exams/sessions/{sid}/submit", token=intruder).status == 404
        assert client.get(f"/exams/sessions/{sid}/review", token=intruder).status == 404


class TestThePaperIsFixedAtStart:
    def test_an_edit_made_during_the_exam_changes_nothing_in_it(self, client, bank, examiner):
        """The learner sits, is scored on and reviews the questions as they were drawn."""
        template = blueprint_template(client, examiner)
        token, bank_ids = register(client)["access"], answers_by_id(bank)
        session = start(client, token, template["id"])
        edited = session["questions"][0]
        before = bank_ids[edited["id"]]
        flipped = [
            {"id": o["id"], "text": o["text"], "is_correct": not o["is_correct"] and o["id"] == wrong(before)[0]}
            for o in before["options"]
        ]
        editor = staff(client, Role.EDITOR)
        patch = {"stem": "A rewritten stem?", "explanation": "A new explanation.", "options": flipped}
        assert client.patch(f"/questions/{edited['id']}", patch, token=editor["access"]).status == 200
        resumed = client.get(f"/exams/sessions/{session['id']}", token=token).json
        assert resumed["questions"][0] == edited  # the stem and options the learner started with
        answer = [{"question_id": edited["id"], "selected_option_ids": right(before)}]
        assert save(client, token, session["id"], answer).status == 200
        result = client.post(f"/exams/sessions/{session['id']}/submit", token=token).json
        assert result["correct"] == 1  # scored by the key drawn at start, not the edited one
        review = client.get(f"/exams/sessions/{session['id']}/review", token=token).json
        attempt = next(a for a in review["attempts"] if a["question_id"] == edited["id"])
        assert attempt["correct_option_ids"] == right(before) and attempt["explanation"] == before["explanation"]

    def test_a_save_keeps_what_it_leaves_out_and_unflags_on_request(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        token, bank_ids = register(client)["access"], answers_by_id(bank)
        session = start(client, token, template["id"])
        qid = session["questions"][2]["id"]
        first = {"question_id": qid, "selected_option_ids": wrong(bank_ids[qid]), "time_spent_sec": 40, "flagged": True}
        assert save(client, token, session["id"], [first]).status == 200
        assert save(client, token, session["id"], [{"question_id": qid, "selected_option_ids": []}]).status == 200
        saved = client.get(f"/exams/sessions/{session['id']}", token=token).json["answers"]
        assert saved == [{"question_id": qid, "selected_option_ids": [], "time_spent_sec": 40, "flagged": True}]
        unflag = {"question_id": qid, "selected_option_ids": right(bank_ids[qid]), "flagged": False}
        assert save(client, token, session["id"], [unflag]).status == 200
        saved = client.get(f"/exams/sessions/{session['id']}", token=token).json["answers"]
        assert saved == [
            {"question_id": qid, "selected_option_ids": right(bank_ids[qid]), "time_spent_sec": 40, "flagged": False}
        ]

    def test_every_step_works_while_replicas_lag_behind_the_start(self, client, bank, examiner, monkeypatch):
        """The paper is read eventually consistently; a replica that has not seen it yet falls back
        to a consistent read instead of answering 404 or an empty exam."""
        template = blueprint_template(client, examiner)
        token, bank_ids = register(client)["access"], answers_by_id(bank)
        session = start(client, token, template["id"])
        lag_every_replica(monkeypatch)  # from here on, no replica has seen the start
        resumed = client.get(f"/exams/sessions/{session['id']}", token=token)
        assert resumed.status == 200 and resumed.json["questions"] == session["questions"]
        qid = session["questions"][0]["id"]
        assert (
            save(
                client, token, session["id"], [{"question_id": qid, "selected_option_ids": right(bank_ids[qid])}]
            ).status
            == 200
        )
        assert client.post(f"/exams/sessions/{session['id']}/submit", token=token).json["correct"] == 1
        review = client.get(f"/exams/sessions/{session['id']}/review", token=token)
        assert review.status == 200 and len(review.json["attempts"]) == 5


class TestTheClock:
    def test_answers_after_the_deadline_are_refused_and_the_exam_is_submitted(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        with time_machine.travel(clock.now(), tick=False) as traveller:
            token = register(client)["access"]
            session = start(client, token, template["id"])
            qid = session["questions"][0]["id"]
            traveller.shift(timedelta(minutes=10, seconds=20))  # past the deadline, within the grace
            claimed = [{"question_id": qid, "selected_option_ids": [], "time_spent_sec": 900}]
            assert save(client, token, session["id"], claimed).status == 200
            traveller.shift(timedelta(seconds=15))  # beyond the grace
            late = save(client, token, session["id"], [{"question_id": qid, "selected_option_ids": []}])
            assert late.status == 409
            resumed = client.get(f"/exams/sessions/{session['id']}", token=token).json
            assert resumed["status"] == "submitted" and resumed["remaining_sec"] == 0
            result = client.get("/exams/sessions", token=token).json["items"][0]
            assert result["time_spent_sec"] == 600  # 900 s claimed, but the paper lasts 10 minutes

    def test_the_expiry_job_submits_abandoned_sessions(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        with time_machine.travel(clock.now(), tick=False) as traveller:
            token = register(client)["access"]
            abandoned = start(client, token, template["id"])
            traveller.shift(timedelta(minutes=5))
            still_running = start(client, token, template["id"])
            traveller.shift(timedelta(minutes=6))
            assert run_job("expire_exam_sessions") == {"submitted": 1}
            assert run_job("expire_exam_sessions") == {"submitted": 0}
            items = {h["id"]: h for h in client.get("/exams/sessions", token=token).json["items"]}
            assert items[abandoned["id"]]["status"] == "submitted"
            assert items[still_running["id"]]["status"] == "in_progress"
            assert client.get(f"/exams/sessions/{abandoned['id']}/review", token=token).status == 200
            notes = client.get("/notifications", token=token).json
            assert [(n["kind"], n["title"], n["link"]) for n in notes["items"]] == [
                ("exam", "Your exam was submitted", f"/exams/{abandoned['id']}/review")
            ]
            assert notes["unread_count"] == 1

    def test_extra_time_extends_the_deadline(self, client, bank, examiner):
        template = blueprint_template(client, examiner)
        learner = register(client)
        admin = staff(client, Role.ADMIN)
        assert client.get("/me", token=learner["access"]).json["unread_notifications"] == 0
        granted = client.put(
            f"/admin/users/{learner['user']['id']}/accommodations", {"extra_time_percent": 50}, token=admin["access"]
        )
        assert granted.status == 200
        assert (
            client.put(
                f"/admin/users/{learner['user']['id']}/accommodations",
                {"extra_time_percent": 50},
                token=examiner["access"],
            ).status
            == 403
        )
        session = start(client, learner["access"], template["id"])
        assert 895 <= session["remaining_sec"] <= 900
        notes = client.get("/notifications", token=learner["access"]).json["items"]
        assert [(n["kind"], n["body"]) for n in notes] == [("account", "Your mock exams now allow 50% extra time.")]
