"""Defects found by trying the API as a new user and an attacker would: each answered with the
right 4xx (never a 500), and the spec's payloads accepted as a frontend written from it sends them."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chalicelib.core.security import Role
from local_stack.meter import metering
from tests.integration.test_exams import blueprint_template
from tests.integration.test_exams import start as start_exam
from tests.integration.test_resources_pages_audit import resource_body
from tests.support.accounts import PASSWORD, register, staff
from tests.support.practice import answer, answers_by_id, right, small_bank, start, wrong


@pytest.fixture
def bank(client):
    return small_bank(client)


@pytest.fixture
def editor(client):
    return staff(client, Role.EDITOR)


class TestBadInputNeverA500:
    @pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/practice/sessions", "/questions"])
    def test_json_nested_a_thousand_levels_is_a_400(self, client, path):
        deep = ("[" * 1000 + "]" * 1000).encode()
        response = client.post(path, raw=deep)
        assert response.status in (400, 401), response  # 401 where the route needs a login first
        assert response.status == 400 or response.error_code == "unauthorized"
        if path.startswith("/auth"):
            assert response.status == 400 and response.error_code == "malformed_request"

    def test_deep_json_is_refused_before_login_checks_too(self, client):
        token = register(client)["access"]
        deep = ('{"a":' * 1000 + "1" + "}" * 1000).encode()
        response = client.post("/practice/sessions", raw=deep, token=token)
        assert response.status == 400 and response.error_code == "malformed_request"

    def test_brackets_inside_strings_are_not_nesting(self, client):
        response = client.post("/auth/login", {"email": "a@example.com", "password": "[{" * 20 + "x"})
        assert response.status == 401

    @pytest.mark.parametrize("body", [{}, {"name": None}, {"order": None}, {"description": None}])
    def test_category_patch_with_nothing_or_nulls_is_a_422(self, client, bank, editor, body):
        response = client.patch("/categories/anatomy", body, token=editor["access"])
        assert response.status == 422, response
        assert response.error_code == "validation_error"
        sub = client.patch("/categories/anatomy/subcategories/thorax", body, token=editor["access"])
        assert sub.status == 422, sub

    def test_resource_patch_with_a_null_required_field_is_a_422_and_clearing_optional_works(self, client, editor):
        created = client.post("/resources", resource_body(category=None), token=editor["access"]).json
        nulled = client.patch(f"/resources/{created['id']}", {"title": None}, token=editor["access"])
        assert nulled.status == 422 and nulled.json["error"]["details"][0]["field"] == "title"
        cleared = client.patch(f"/resources/{created['id']}", {"thumbnail_url": None}, token=editor["access"])
        assert cleared.status == 200 and cleared.json["thumbnail_url"] is None

    def test_an_unchanged_template_patch_writes_no_audit_event(self, client, bank):
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        assert client.patch(f"/exams/templates/{template['id']}", {}, token=examiner["access"]).status == 422
        same = client.patch(f"/exams/templates/{template['id']}", {"name": template["name"]}, token=examiner["access"])
        assert same.status == 200
        admin = staff(client, Role.ADMIN)
        events = client.get(f"/admin/audit?entity=exam_template:{template['id']}", token=admin["access"]).json["items"]
        assert [e["action"] for e in events] == ["exam_template.created"]

    @pytest.mark.parametrize("flag", [0, 1, "true", "yes"])
    def test_booleans_must_be_json_booleans(self, client, bank, flag):
        token = register(client)["access"]
        body = {"categories": ["anatomy"], "question_count": 2, "include_explanations": flag}
        response = client.post("/practice/sessions", body, token=token)
        assert response.status == 422
        assert response.json["error"]["details"][0]["field"] == "include_explanations"

    def test_numbers_must_be_json_numbers(self, client, bank):
        token = register(client)["access"]
        response = client.post("/practice/sessions", {"categories": ["anatomy"], "question_count": "2"}, token=token)
        assert response.status == 422


class TestParallelFailedLogins:
    def test_parallel_wrong_passwords_are_all_401_or_429_and_each_one_counts(self, client):
        email = "target@example.com"
        register(client, email)
        statuses: list[int] = []

        def guess(i: int) -> None:
            statuses.append(client.post("/auth/login", {"email": email, "password": f"wrong-guess-{i}"}).status)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(statuses) == 12 and set(statuses) <= {401, 429}, statuses
        assert statuses.count(401) <= 5  # at most the limit of guesses ever reach the password check
        locked = client.post("/auth/login", {"email": email, "password": PASSWORD})
        assert locked.status == 429 and int(locked.headers["retry-after"]) > 0  # the lockout landed


class TestTheSpecsPayloads:
    def test_patch_me_accepts_avatar_and_shows_both_names(self, client):
        token = register(client)["access"]
        url = "https://cdn.example.com/a.png"
        updated = client.patch("/me", {"avatar": url}, token=token)
        assert updated.status == 200 and updated.json["avatar"] == url == updated.json["avatar_url"]
        cleared = client.patch("/me", {"avatar": None}, token=token).json
        assert cleared["avatar"] is None and cleared["avatar_url"] is None
        assert client.patch("/me", {"timezone": None}, token=token).status == 422

    def test_exam_attempts_one_at_a_time_or_batched_and_time_spent_is_their_sum(self, client, bank):
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        by_id = answers_by_id(bank)
        token = register(client)["access"]
        with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
            session = start_exam(client, token, template["id"])
            sid, qids = session["id"], [q["id"] for q in session["questions"]]
            one = {"question_id": qids[0], "selected_option_ids": right(by_id[qids[0]]), "time_spent_sec": 40}
            assert client.post(f"/exams/sessions/{sid}/attempts", one, token=token).status == 200
            batch = {
                "attempts": [
                    {"question_id": qids[1], "selected_option_ids": wrong(by_id[qids[1]]), "time_spent_sec": 25},
                    {"question_id": qids[2], "selected_option_ids": right(by_id[qids[2]]), "time_spent_sec": 35},
                ]
            }
            assert client.post(f"/exams/sessions/{sid}/attempts", batch, token=token).status == 200
            traveller.shift(timedelta(minutes=5))
            result = client.post(f"/exams/sessions/{sid}/submit", token=token).json
        assert (result["answered"], result["correct"], result["time_spent_sec"]) == (3, 2, 100)
        review = client.get(f"/exams/sessions/{sid}/review", token=token).json
        times = {a["question_id"]: a["time_spent_sec"] for a in review["attempts"]}
        assert (times[qids[0]], times[qids[1]], times[qids[2]], times[qids[3]]) == (40, 25, 35, 0)

    def test_a_bad_exam_attempt_is_a_422(self, client, bank):
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        token = register(client)["access"]
        session = start_exam(client, token, template["id"])
        qid = session["questions"][0]["id"]
        bad = {"question_id": qid, "selected_option_ids": ["o_nope"], "time_spent_sec": 3}
        response = client.post(f"/exams/sessions/{session['id']}/attempts", bad, token=token)
        assert response.status == 422 and response.json["error"]["details"][0]["type"] == "unknown_option"

    def test_practice_never_reveals_the_answers_of_a_running_exam(self, client, bank):
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner, blueprint={"pathology": 5}, total_questions=5)
        by_id = answers_by_id(bank)
        token = register(client)["access"]
        before = start(client, token, categories=["pathology"], question_count=6)  # drawn before the exam
        exam = start_exam(client, token, template["id"])
        in_exam = {q["id"] for q in exam["questions"]}
        during = start(client, token, categories=["pathology"], question_count=6)
        assert not in_exam & set(during["question_ids"])
        assert len(during["question_ids"]) == 1  # 6 pathology questions, 5 are in the exam
        overlap = next(q for q in before["question_ids"] if q in in_exam)
        refused = answer(client, token, before["id"], overlap, right(by_id[overlap]))
        assert refused.status == 409 and "correct_option_ids" not in refused.body.decode()
        client.post(f"/exams/sessions/{exam['id']}/submit", token=token)
        after = start(client, token, categories=["pathology"], question_count=6)
        assert set(after["question_ids"]) >= in_exam  # the exam is over: its questions come back
        assert answer(client, token, before["id"], overlap, right(by_id[overlap])).status == 200


class TestOneTimeZone:
    def test_study_days_follow_the_profile_zone_at_once_after_a_change(self, client, bank, stream):
        by_id = answers_by_id(bank)
        # 23:30 UTC on a Monday is already Tuesday in Auckland.
        with time_machine.travel(datetime(2026, 11, 23, 23, 30, tzinfo=UTC), tick=False):
            token = register(client)["access"]
            client.patch("/me", {"timezone": "Pacific/Auckland"}, token=token)
            session = start(client, token, categories=["anatomy"], question_count=1)
            qid = session["question_ids"][0]
            answer(client, token, session["id"], qid, right(by_id[qid]), seconds=120)
            stream.poll_once()
            days = client.get("/analytics/study-time?range=week", token=token).json["days"]
            assert days[-1]["date"] == "2026-11-24" and days[-1]["answered"] == 1
            client.patch("/me", {"timezone": "America/Los_Angeles"}, token=token)  # same token, new zone
            days = client.get("/analytics/study-time?range=week", token=token).json["days"]
            assert days[-1]["date"] == "2026-11-23"  # today in Los Angeles
            stream.poll_once()  # the zone change rebuilds the dashboard in the new zone
            assert client.get("/dashboard", token=token).json["study_time"]["hours_this_week"] >= 0
        claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
        assert "tz" not in claims  # the token carries no second copy of the zone


class TestExamReadsAndErrors:
    def test_lazy_expiry_never_reads_the_questions(self, client, bank):
        """Resuming an overdue exam submits it from the paper kept with the session: the key once
        (for the score), the learner's view once (for the answer), no question item."""
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        token = register(client)["access"]
        with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
            session = start_exam(client, token, template["id"])
            traveller.shift(timedelta(minutes=11))
            client.get("/me", token=token)  # the session check (every 30 s) is not what is measured
            with metering(capacity=False) as meter:
                resumed = client.get(f"/exams/sessions/{session['id']}", token=token)
        assert resumed.status == 200 and resumed.json["status"] == "submitted"
        assert "BatchGetItem" not in meter.operations and meter.operations["Query"] == 2, meter.summary()

    def test_domain_refusals_carry_their_own_codes(self, client, bank):
        examiner = staff(client, Role.EXAMINER)
        template = blueprint_template(client, examiner)
        token = register(client)["access"]
        session = start_exam(client, token, template["id"])
        early = client.get(f"/exams/sessions/{session['id']}/review", token=token)
        assert early.status == 409 and early.error_code == "review_not_open"
        client.post(f"/exams/sessions/{session['id']}/submit", token=token)
        twice = client.post(f"/exams/sessions/{session['id']}/submit", token=token)
        assert twice.status == 409 and twice.error_code == "already_submitted"
        missing = client.get("/exams/sessions/nope", token=token)
        assert missing.status == 404 and missing.error_code == "exam_not_found"


class TestStaffWritesThatRace:
    def test_a_page_edited_meanwhile_is_a_409_not_a_silent_overwrite(self, client, monkeypatch):
        admin = staff(client, Role.ADMIN)
        page = {"title": "Privacy", "body": "# Privacy", "status": "draft"}
        assert client.put("/pages/privacy", page, token=admin["access"]).status == 201
        from chalicelib.pages import data as pages_data

        stale = pages_data.get_page("privacy")
        edited = client.put("/pages/privacy", {**page, "body": "# Privacy v2"}, token=admin["access"])
        assert edited.status == 200  # in the same second as the read: a timestamp could not tell them apart
        monkeypatch.setattr(pages_data, "get_page", lambda slug: stale)  # a request that read before the edit
        lost = client.put("/pages/privacy", {**page, "body": "# Privacy v3"}, token=admin["access"])
        assert lost.status == 409 and lost.error_code == "conflict"
        monkeypatch.undo()
        assert client.get("/pages/privacy", token=admin["access"]).json["body"] == "# Privacy v2"
