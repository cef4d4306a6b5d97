"""Practice Mode through HTTP: drawing sessions, judging answers, completing, and the rules."""

from __future__ import annotations

import json

import pytest

from tests.support.accounts import register
from tests.support.practice import answer, answers_by_id, right, small_bank, start, wrong


@pytest.fixture
def bank(client):
    return small_bank(client)


@pytest.fixture
def learner(client):
    return register(client)


class TestStarting:
    def test_draws_published_questions_from_the_chosen_categories_without_answers(self, client, bank, learner):
        session = start(client, learner["access"], categories=["anatomy"], question_count=4)
        anatomy_ids = {q["id"] for q in bank["anatomy"]}
        assert len(session["question_ids"]) == 4 and set(session["question_ids"]) <= anatomy_ids
        assert [q["id"] for q in session["questions"]] == session["question_ids"]
        text = json.dumps(session)
        assert '"is_correct"' not in text and '"explanation"' not in text  # nothing answered, nothing revealed
        assert all(set(o) == {"id", "text"} for q in session["questions"] for o in q["options"])
        assert session["progress"] == {"answered": 0, "correct": 0, "total": 4}

    def test_subcategory_filter(self, client, bank, learner):
        session = start(client, learner["access"], categories=["anatomy"], subcategories=["thorax"], question_count=10)
        thorax = {q["id"] for q in bank["anatomy"] if q["subcategory"] == "thorax"}
        assert set(session["question_ids"]) == thorax
        assert session["shortfall_message"] and session["question_count"] == 3 and session["requested"] == 10

    def test_all_categories_when_none_given(self, client, bank, learner):
        session = start(client, learner["access"], question_count=100)
        assert len(session["question_ids"]) == 18

    def test_selection_is_random_but_stored(self, client, bank, learner):
        token = learner["access"]
        first = start(client, token, question_count=5)
        again = client.get(f"/practice/sessions/{first['id']}", token=token).json
        assert again["question_ids"] == first["question_ids"]
        orders = {tuple(start(client, token, question_count=5)["question_ids"]) for _ in range(4)}
        assert len(orders) > 1

    def test_no_matching_questions_is_422(self, client, bank, learner):
        response = client.post("/practice/sessions", {"pool": "flagged"}, token=learner["access"])
        assert response.status == 422 and "No published questions" in response.json["error"]["message"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"question_count": 0}, "question_count"),
            ({"question_count": 101}, "question_count"),
            ({"categories": ["nope"]}, "categories.0"),
            ({"subcategories": ["nope"]}, "subcategories.0"),
            ({"pool": "random"}, "pool"),
        ],
    )
    def test_bad_requests(self, client, bank, learner, body, field):
        response = client.post("/practice/sessions", body, token=learner["access"])
        assert response.status == 422 and response.json["error"]["details"][0]["field"] == field


class TestAnswering:
    def test_feedback_with_and_without_explanations(self, client, bank, learner):
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, categories=["pathology"], question_count=2)
        first, second = session["question_ids"]
        good = answer(client, token, session["id"], first, right(bank_ids[first]))
        assert good.status == 200
        options = [o["id"] for o in bank_ids[first]["options"]]
        assert good.json == {
            "is_correct": True,
            "correct_option_ids": right(bank_ids[first]),
            "explanation": bank_ids[first]["explanation"],
            # nobody had answered it before: everyone's statistics are empty (they grow via the stream)
            "statistics": {
                "answered": 0,
                "percent_correct": 0.0,
                "options": [{"option_id": o, "percent": 0.0} for o in options],
                "median_time_sec": None,
            },
        }
        bad = answer(client, token, session["id"], second, wrong(bank_ids[second])).json
        assert bad["is_correct"] is False and bad["correct_option_ids"] == right(bank_ids[second])
        quiet = start(client, token, categories=["pathology"], question_count=1, include_explanations=False)
        qid = quiet["question_ids"][0]
        assert answer(client, token, quiet["id"], qid, right(bank_ids[qid])).json["explanation"] is None

    def test_multi_is_judged_by_set_equality(self, client, bank, learner):
        token, multi = learner["access"], bank["physiology"][0]
        session = start(client, token, categories=["physiology"], question_count=6)
        correct = right(multi)
        assert answer(client, token, session["id"], multi["id"], correct[:1]).json["is_correct"] is False
        again = start(client, token, categories=["physiology"], question_count=6)
        assert answer(client, token, again["id"], multi["id"], list(reversed(correct))).json["is_correct"] is True

    def test_rejections(self, client, bank, learner):
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, categories=["pathology"], question_count=2)
        sid, qid = session["id"], session["question_ids"][0]
        outsider = bank["anatomy"][0]["id"]
        other_question_option = right(bank["anatomy"][0])
        options = [o["id"] for o in bank_ids[qid]["options"]]
        cases = [
            (answer(client, token, sid, outsider, right(bank["anatomy"][0])), 422, "question_id"),
            (answer(client, token, sid, qid, other_question_option), 422, "selected_option_ids"),
            (answer(client, token, sid, qid, []), 422, "selected_option_ids"),
            (answer(client, token, sid, qid, options[:2]), 422, "selected_option_ids"),
            (answer(client, token, sid, qid, [options[0], options[0]]), 422, "selected_option_ids"),
            (answer(client, token, sid, qid, right(bank_ids[qid]), seconds=3601), 422, "time_spent_sec"),
            (answer(client, token, sid, qid, right(bank_ids[qid]), seconds=-1), 422, "time_spent_sec"),
        ]
        for response, status, field in cases:
            assert response.status == status, response
            assert response.json["error"]["details"][0]["field"] == field
        assert answer(client, token, sid, qid, right(bank_ids[qid])).status == 200
        twice = answer(client, token, sid, qid, wrong(bank_ids[qid]))
        assert twice.status == 409
        state = client.get(f"/practice/sessions/{sid}", token=token).json
        assert state["progress"]["answered"] == 1 and state["progress"]["correct"] == 1

    def test_completed_session_refuses_answers_and_completing_is_idempotent(self, client, bank, learner):
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, categories=["anatomy"], question_count=3)
        first, second, _ = session["question_ids"]
        answer(client, token, session["id"], first, right(bank_ids[first]), seconds=40)
        answer(client, token, session["id"], second, wrong(bank_ids[second]), seconds=20)
        summary = client.post(f"/practice/sessions/{session['id']}/complete", token=token)
        assert summary.status == 200
        body = summary.json
        assert (body["answered"], body["correct"], body["incorrect"], body["unanswered"]) == (2, 1, 1, 1)
        assert body["score_percent"] == 50.0 and body["time_spent_sec"] == 60 and body["categories"] == ["Anatomy"]
        assert client.post(f"/practice/sessions/{session['id']}/complete", token=token).json == body
        late = answer(
            client, token, session["id"], session["question_ids"][2], right(bank_ids[session["question_ids"][2]])
        )
        assert late.status == 409

    def test_session_view_shows_my_answers(self, client, bank, learner):
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, categories=["anatomy"], question_count=2)
        qid = session["question_ids"][0]
        answer(client, token, session["id"], qid, wrong(bank_ids[qid]))
        view = client.get(f"/practice/sessions/{session['id']}", token=token).json
        assert [a["question_id"] for a in view["answers"]] == [qid]
        assert view["answers"][0]["correct_option_ids"] == right(bank_ids[qid])
        unanswered = view["question_ids"][1]
        assert unanswered not in json.dumps(view["answers"])  # nothing revealed for unanswered questions

    def test_another_users_session_is_404_everywhere(self, client, bank, learner):
        token = learner["access"]
        session = start(client, token, categories=["anatomy"], question_count=2)
        intruder = register(client)["access"]
        qid = session["question_ids"][0]
        sid = session["id"]
        assert client.get(f"/practice/sessions/{sid}", token=intruder).status == 404
        assert answer(client, intruder, sid, qid, right(answers_by_id(bank)[qid])).status == 404
        assert client.post(f"/practice/sessions/{sid}/complete", token=intruder).status == 404
        assert client.post(f"/practice/sessions/{sid}/flags", {"question_id": qid}, token=intruder).status == 404
        assert client.get("/practice/sessions", token=intruder).json["items"] == []

    def test_history_newest_first_with_scores(self, client, bank, learner):
        token, bank_ids = learner["access"], answers_by_id(bank)
        ids = []
        for _ in range(3):
            session = start(client, token, categories=["pathology"], question_count=1)
            qid = session["question_ids"][0]
            answer(client, token, session["id"], qid, right(bank_ids[qid]))
            client.post(f"/practice/sessions/{session['id']}/complete", token=token)
            ids.append(session["id"])
        page = client.get("/practice/sessions?limit=2", token=token).json
        assert [s["id"] for s in page["items"]] == ids[::-1][:2]
        assert page["items"][0]["score_percent"] == 100.0
        rest = client.get(f"/practice/sessions?limit=2&cursor={page['next_cursor']}", token=token).json
        assert [s["id"] for s in rest["items"]] == [ids[0]]


class TestPools:
    def test_unseen_incorrect_and_flagged(self, client, bank, learner, stream):
        token, bank_ids = learner["access"], answers_by_id(bank)
        session = start(client, token, categories=["pathology"], question_count=3)
        got_right, got_wrong, flagged = session["question_ids"]
        answer(client, token, session["id"], got_right, right(bank_ids[got_right]))
        answer(client, token, session["id"], got_wrong, wrong(bank_ids[got_wrong]))
        flag = client.post(f"/practice/sessions/{session['id']}/flags", {"question_id": flagged}, token=token)
        assert flag.status == 200 and flag.json == {"question_id": flagged, "flagged": True}
        stream.poll_once()
        unseen = start(client, token, categories=["pathology"], pool="unseen", question_count=10)
        assert set(unseen["question_ids"]) == {q["id"] for q in bank["pathology"]} - {got_right, got_wrong}
        incorrect = start(client, token, categories=["pathology"], pool="incorrect", question_count=10)
        assert incorrect["question_ids"] == [got_wrong]
        assert start(client, token, pool="flagged", question_count=10)["question_ids"] == [flagged]
        client.post(
            f"/practice/sessions/{session['id']}/flags", {"question_id": flagged, "flagged": False}, token=token
        )
        assert client.post("/practice/sessions", {"pool": "flagged"}, token=token).status == 422
