"""How everyone answered, through HTTP: practice feedback and a seen question show the share
choosing each option, the % correct and the median time (never before the learner has answered);
the exam review adds them per question and the learner's percentile among every sitting of the
template; staff see the item analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.jobs import run_job
from chalicelib.core.security import Role
from tests.support.accounts import register, staff
from tests.support.pipeline import roll_up
from tests.support.practice import answers_by_id, right, small_bank, start, wrong


@pytest.fixture
def bank(client):
    return small_bank(client)


def one_question_session(client: Any, token: str, question_id: str) -> str:
    """A practice session of every anatomy question: the test answers the one it is about."""
    session = start(client, token, categories=["anatomy"], question_count=6)
    assert question_id in session["question_ids"]
    return str(session["id"])


def attempt(client: Any, token: str, session_id: str, question: dict[str, Any], options: list[str], seconds: int):
    body = {"question_id": question["id"], "selected_option_ids": options, "time_spent_sec": seconds}
    response = client.post(f"/practice/sessions/{session_id}/attempts", body, token=token)
    assert response.status == 200, response
    return response.json


def shares(stats: dict[str, Any]) -> dict[str, float]:
    return {o["option_id"]: o["percent"] for o in stats["options"]}


def test_practice_feedback_shows_how_everyone_answered_before(client, bank, stream):
    question = bank["anatomy"][0]
    key, other = right(question), wrong(question)
    learners = [register(client)["access"] for _ in range(4)]
    picks: list[tuple[list[str], int]] = [(key, 20), (key, 40), (other, 70), (key, 50)]
    feedback = []
    for token, (options, seconds) in zip(learners, picks, strict=True):
        feedback.append(
            attempt(client, token, one_question_session(client, token, question["id"]), question, options, seconds)
        )
        stream.poll_once()
        roll_up()

    assert feedback[0]["statistics"]["answered"] == 0  # the first learner is the first
    last = feedback[3]["statistics"]  # what the fourth saw: the first three's answers
    assert last["answered"] == 3
    assert last["percent_correct"] == pytest.approx(66.7)
    assert shares(last)[key[0]] == pytest.approx(66.7) and shares(last)[other[0]] == pytest.approx(33.3)
    assert [o["option_id"] for o in last["options"]] == [o["id"] for o in question["options"]]
    # 20, 40 and 70 s: the middle answer falls in the 40-50 s bucket, interpolated to its middle
    assert last["median_time_sec"] == 45


def test_a_question_shows_statistics_only_after_the_learner_answered_it(client, bank, stream):
    question = bank["anatomy"][0]
    first, second = register(client)["access"], register(client)["access"]
    attempt(client, first, one_question_session(client, first, question["id"]), question, right(question), 30)
    stream.poll_once()
    roll_up()

    unseen = client.get(f"/questions/{question['id']}", token=second)
    assert unseen.status == 200 and unseen.json["statistics"] is None  # no peeking before answering
    assert client.get(f"/questions/{question['id']}").json.get("statistics") is None  # nor anonymously

    seen = client.get(f"/questions/{question['id']}", token=first).json["statistics"]
    assert (seen["answered"], seen["percent_correct"]) == (1, 100.0)

    editor = staff(client, Role.EDITOR)["access"]
    for_staff = client.get(f"/questions/{question['id']}", token=editor).json
    assert for_staff["statistics"]["answered"] == 1
    assert for_staff["item_analysis"] is None  # no exam answers yet


def exam_template(client: Any, examiner: str, question_ids: list[str]) -> dict[str, Any]:
    body = {
        "name": "Fixed Mock",
        "paper": "Paper 1",
        "duration_minutes": 30,
        "total_questions": len(question_ids),
        "question_ids": question_ids,
        "shuffle_questions": False,
        "pass_mark_percent": 50,
    }
    response = client.post("/exams/templates", body, token=examiner)
    assert response.status == 201, response
    return dict(response.json)


def sit(client: Any, token: str, template_id: str, choose: Callable[[dict[str, Any]], list[str]]) -> str:
    session = client.post("/exams/sessions", {"template_id": template_id}, token=token).json
    answers = [{"question_id": q["id"], "selected_option_ids": choose(q)} for q in session["questions"]]
    assert client.put(f"/exams/sessions/{session['id']}/answers", {"answers": answers}, token=token).status == 200
    assert client.post(f"/exams/sessions/{session['id']}/submit", token=token).status == 200
    return str(session["id"])


def _first_right(by_id: dict[str, Any], right_ones: set[str]) -> Callable[[dict[str, Any]], list[str]]:
    """A sitting's choices: the key for the questions in `right_ones`, a wrong option otherwise."""

    def choose(q: dict[str, Any]) -> list[str]:
        return right(by_id[q["id"]]) if q["id"] in right_ones else wrong(by_id[q["id"]])

    return choose


def test_the_exam_review_shows_the_percentile_and_each_questions_statistics(client, bank, stream):
    by_id = answers_by_id(bank)
    paper = [q["id"] for q in bank["anatomy"][:4]]
    template = exam_template(client, staff(client, Role.EXAMINER)["access"], paper)
    # four sittings scoring 25, 50, 75 and 100%: each learner gets the first k questions right
    sittings = []
    for k in range(1, 5):
        token = register(client)["access"]
        right_ones = set(paper[:k])
        session_id = sit(client, token, template["id"], _first_right(by_id, right_ones))
        sittings.append((token, session_id))
    stream.poll_once()
    roll_up()

    token, session_id = sittings[2]  # 75%: two below, itself, one above
    review = client.get(f"/exams/sessions/{session_id}/review", token=token).json
    assert review["score_percent"] == 75.0
    assert review["standing"] == {"percentile": 62.5, "sat": 4}  # (2 below + half of 1) / 4
    stats = {a["question_id"]: a["statistics"] for a in review["attempts"]}
    assert [stats[q]["percent_correct"] for q in paper] == [100.0, 75.0, 50.0, 25.0]
    assert all(stats[q]["answered"] == 4 for q in paper)
    last = by_id[paper[3]]
    assert shares(stats[paper[3]])[right(last)[0]] == 25.0 and shares(stats[paper[3]])[wrong(last)[0]] == 75.0

    lowest_token, lowest_session = sittings[0]
    lowest = client.get(f"/exams/sessions/{lowest_session}/review", token=lowest_token).json
    assert lowest["standing"]["percentile"] == 12.5


def test_the_review_shows_the_statistics_as_soon_as_the_pipeline_counts_the_sitting(client, bank, stream):
    """No minute's wait for a paper (the pipeline rolls it up at once), and until then no statistic
    rather than a read of every question's."""
    by_id = answers_by_id(bank)
    paper = [q["id"] for q in bank["anatomy"][:4]]
    template = exam_template(client, staff(client, Role.EXAMINER)["access"], paper)
    token = register(client)["access"]
    session_id = sit(client, token, template["id"], lambda q: right(by_id[q["id"]]))

    early = client.get(f"/exams/sessions/{session_id}/review", token=token).json
    assert [a["statistics"] for a in early["attempts"]] == [None] * 4
    assert early["standing"] == {"percentile": None, "sat": 0}

    stream.poll_once()  # the pipeline counts the sitting; no roll_up() here
    review = client.get(f"/exams/sessions/{session_id}/review", token=token).json
    assert [(a["statistics"]["answered"], a["statistics"]["percent_correct"]) for a in review["attempts"]] == [
        (1, 100.0)
    ] * 4
    assert review["standing"] == {"percentile": 50.0, "sat": 1}


def test_item_analysis_reaches_staff_once_enough_learners_sat_the_paper(client, bank, stream):
    """A question whose key strong learners avoid shows a negative discrimination."""
    by_id = answers_by_id(bank)
    paper = [q["id"] for q in bank["anatomy"][:5]]
    suspect = paper[4]
    template = exam_template(client, staff(client, Role.EXAMINER)["access"], paper)
    for n in range(30):
        strong = n % 2 == 0

        def choose(q: dict[str, Any], strong: bool = strong) -> list[str]:
            if q["id"] == suspect:  # the strong pick the "wrong" option, the weak the key
                return wrong(by_id[q["id"]]) if strong else right(by_id[q["id"]])
            return right(by_id[q["id"]]) if strong else wrong(by_id[q["id"]])

        sit(client, register(client)["access"], template["id"], choose)
        if n % 10 == 9:
            stream.poll_once()
            roll_up()
    editor = staff(client, Role.EDITOR)["access"]
    analysis = client.get(f"/questions/{suspect}", token=editor).json["item_analysis"]
    assert analysis["exam_answered"] == 30 and analysis["difficulty"] == 0.5
    assert analysis["discrimination"] == -1.0
    assert "negative_discrimination" in analysis["flags"] and "distractor_attracts_strong" in analysis["flags"]
    good = client.get(f"/questions/{paper[0]}", token=editor).json["item_analysis"]
    assert good["discrimination"] == 1.0 and good["flags"] == []

    # the nightly job puts it in the editors' queue once, with the figures; a good item stays out
    assert run_job("flag_questions_by_item_analysis") == {"checked": 18, "analysed": 5, "flagged": 1}
    queue = client.get("/questions/reports?status=open", token=editor).json["reports"]
    assert [(r["question_id"], r["raised_by"], r["reason"]) for r in queue] == [(suspect, "item_analysis", "wrong_key")]
    assert "30 exam answers" in queue[0]["comment"] and "discrimination -1.00" in queue[0]["comment"]
    assert run_job("flag_questions_by_item_analysis")["flagged"] == 0  # not twice
    closed = client.patch(
        f"/questions/{suspect}/reports/{queue[0]['id']}", {"status": "rejected", "note": "Key checked."}, token=editor
    )
    assert closed.status == 200
    assert run_job("flag_questions_by_item_analysis")["flagged"] == 0  # a rejected flag is not raised again


def test_the_review_rating_compares_the_time_with_everyones_median(client, bank, stream):
    """Right, sure and 25 s: Easy while nobody else has answered (60 s assumed, half is 30 s), only
    Good once everyone's median is 17 s. The Easy card comes back later."""
    question = bank["anatomy"][0]

    def answer_as_new_learner(seconds: int) -> tuple[str, dict[str, Any]]:
        token = register(client)["access"]
        session_id = one_question_session(client, token, question["id"])
        body = {
            "question_id": question["id"],
            "selected_option_ids": right(question),
            "time_spent_sec": seconds,
            "confidence": "sure",
        }
        response = client.post(f"/practice/sessions/{session_id}/attempts", body, token=token)
        assert response.status == 200, response
        stream.poll_once()
        roll_up()
        return token, response.json

    first, _ = answer_as_new_learner(25)
    for _ in range(3):
        answer_as_new_learner(12)
    last, feedback = answer_as_new_learner(25)
    assert feedback["statistics"]["median_time_sec"] == 17  # 12, 12, 12 and 25 s: 10 + 2/3 of the 10-20 s bucket
    first_due = client.get(f"/questions/{question['id']}", token=first).json["review"]["due"]
    last_due = client.get(f"/questions/{question['id']}", token=last).json["review"]["due"]
    assert first_due > last_due
