"""The claim that makes re-marking a sitting happen once per key version. See docs/data-model.md,
pattern RM1-RM3.

`USER#<u>` / `REMARK#<session>#<question>#v<version>`: written in the transaction that re-marks the
sitting against that version of the question's key."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.db import TableItem, user_pk


class RemarkClaim(TableItem, discriminator="RemarkClaim"):
    question_id = UnicodeAttribute()
    session_id = UnicodeAttribute()
    version = NumberAttribute()
    score_before = NumberAttribute()
    score_after = NumberAttribute()


def claim(user_id: str, session_id: str, question_id: str, version: int, before: float, after: float) -> RemarkClaim:
    return RemarkClaim(
        PK=user_pk(user_id),
        SK=f"REMARK#{session_id}#{question_id}#v{version:06d}",
        question_id=question_id,
        session_id=session_id,
        version=version,
        score_before=before,
        score_after=after,
    )
