"""Item factories for pipeline tests: accounts, practice sessions and answers written through the
practice domain's own write (so every answer carries its sequence number, as in production)."""

from __future__ import annotations

from chalicelib.accounts import data as accounts_data
from chalicelib.accounts.data import UserItem
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
        selected_option_ids=["o_a"],
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
