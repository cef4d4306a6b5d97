"""Item factories for pipeline tests: accounts, practice sessions and answers written through the
practice domain's own write (so every answer carries its sequence number, as in production)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.accounts import data as accounts_data
from chalicelib.accounts.data import UserItem
from chalicelib.core.db import TableItem
from chalicelib.exams import data as exams_data
from chalicelib.exams import rules as exam_rules
from chalicelib.practice import data as practice
from chalicelib.practice.data import PracticeSession


def account(user_id: str) -> str:
    """A real account (dashboards are built only for those), written directly."""
    pk, sk = accounts_data.profile_key(user_id)
    UserItem(
        PK=pk,
        SK=sk,
        user_id=user_id,
        email=f"{user_id}@example.com",
        password_hash="-",
        display_name=user_id,
        created_at=0,
        updated_at=0,
    ).save()
    return user_id


def open_session(user_id: str, session_id: str, question_ids: list[str], *, started_at: str) -> None:
    practice.new_session(
        user_id,
        session_id,
        pool="all",
        requested=len(question_ids),
        question_ids=question_ids,
        include_explanations=True,
        seed=1,
        status="active",
        started_at=started_at,
        category_names=["Anatomy", "Physiology"],
    ).save()


def answer(
    user_id: str,
    session_id: str,
    question_id: str,
    *,
    correct: bool,
    at: str,
    category: str = "anatomy",
    subcategory: str | None = None,
    seconds: int = 20,
) -> None:
    """One answer, as POST .../attempts records it (answer item and session update together)."""
    session = practice.get_session(user_id, session_id)
    assert session is not None
    item = practice.new_answer(
        session_id,
        question_id,
        user_id=user_id,
        question_version=1,
        category=category,
        subcategory=subcategory,
        selected_option_ids=["o_a"] if correct else ["o_b"],
        correct_option_ids=["o_a"],
        is_correct=correct,
        time_spent_sec=seconds,
        answered_at=at,
        local_date=at[:10],
    )
    assert practice.record_answer(session, item) is practice.Recorded.OK


def complete(user_id: str, session_id: str, at: str) -> None:
    session = practice.get_session(user_id, session_id)
    assert session is not None
    session.update(actions=[PracticeSession.status.set("completed"), PracticeSession.completed_at.set(at)])


ExamQuestion = tuple[str, str, str, bool, int]  # question id, category, picks, right, seconds


def submitted_exam_record(
    user_id: str, session_id: str, questions: list[ExamQuestion], *, time_spent_sec: int, submitted_at: str
) -> dict[str, Any]:
    """A submitted exam as the pipeline meets it: its answer key and result written through the
    exams domain, and the stream record of its session's flip to submitted."""
    key = [
        exam_rules.KeyEntry(qid, category, None, "single", ["a", "b"], [0]).as_json() for qid, category, *_ in questions
    ]
    parts = exams_data.part_items(session_id, exams_data.KEY, key)
    marks = [exam_rules.Mark(picks, right, seconds).as_json() for _, _, picks, right, seconds in questions]
    with TableItem.batch_write() as batch:
        for item in [*parts, exams_data.result_item(session_id, marks)]:
            batch.save(item)
    pk, sk = exams_data.session_key(user_id, session_id)
    image = {
        "PK": {"S": pk},
        "SK": {"S": sk},
        "type": {"S": "ExamSession"},
        "user_id": {"S": user_id},
        "session_id": {"S": session_id},
        "status": {"S": "submitted"},
        "submitted_at": {"S": submitted_at},
        "template_id": {"S": "tpl-mock"},
        "template_name": {"S": "Mock"},
        "score_percent": {"N": str(round(100 * sum(q[3] for q in questions) / max(1, len(questions)), 1))},
        "time_spent_sec": {"N": str(time_spent_sec)},
        "parts": {"S": json.dumps({exams_data.KEY: len(parts)})},
    }
    return {
        "eventID": f"exam-{session_id}",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"SequenceNumber": "1", "NewImage": image, "OldImage": {**image, "status": {"S": "in_progress"}}},
    }


def roll_up() -> dict[str, int]:
    """The job AWS runs every minute: the cohort's ledger joins the questions' statistics."""
    import app
    from chalicelib.core.jobs import run_job

    app.load_jobs()
    return run_job("roll_up_question_statistics")
