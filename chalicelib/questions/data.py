"""Question items and their keys. See docs/data-model.md, patterns Q1-Q9."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.core.db import TableItem
from chalicelib.core.pagination import collect, decode_cursor

CURRENT_SK = "CURRENT"
NO_SUBCATEGORY = "-"
PUBLISHED = "published"


def question_pk(question_id: str) -> str:
    return f"Q#{question_id}"


def version_sk(version: int) -> str:
    return f"V#{version:06d}"


def normalise_stem(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", stem.lower()).strip()


def stem_hash(stem: str) -> str:
    return hashlib.sha256(normalise_stem(stem).encode()).hexdigest()


class OptionMap(MapAttribute[str, Any]):
    id = UnicodeAttribute()
    text = UnicodeAttribute()
    is_correct = BooleanAttribute()


class MediaMap(MapAttribute[str, Any]):
    url = UnicodeAttribute()
    kind = UnicodeAttribute()
    alt_text = UnicodeAttribute(default="")
    caption = UnicodeAttribute(default="")


class Question(TableItem, discriminator="Question"):
    question_id = UnicodeAttribute()
    stem = UnicodeAttribute()
    question_type = UnicodeAttribute()  # single | multi ('type' is the discriminator)
    category = UnicodeAttribute()
    subcategory = UnicodeAttribute(null=True)
    difficulty = NumberAttribute()
    options = ListAttribute[OptionMap](of=OptionMap)
    media = ListAttribute[MediaMap](of=MediaMap, default=list)
    explanation = UnicodeAttribute(default="")
    reference = UnicodeAttribute(default="")
    status = UnicodeAttribute()  # draft | published | archived
    ever_published = BooleanAttribute(default=False)
    issued_option_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    stem_hash = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    def index_keys(self) -> None:
        """Place the question in the listing indexes for its status, category, subcategory, difficulty."""
        sub = self.subcategory or NO_SUBCATEGORY
        self.GSI1PK = f"QBANK#{self.status}#{self.category}"
        self.GSI1SK = f"{sub}#{int(self.difficulty)}#{self.question_id}"
        self.GSI2PK = f"QBANK#{self.status}"
        self.GSI2SK = f"{self.category}#{sub}#{self.question_id}"


class QuestionVersion(TableItem, discriminator="QuestionVersion"):
    question_id = UnicodeAttribute()
    number = NumberAttribute()
    snapshot = UnicodeAttribute()  # JSON of the staff view at that version
    edited_by = UnicodeAttribute()
    edited_at = UnicodeAttribute()


class StemClaim(TableItem, discriminator="StemClaim"):
    question_id = UnicodeAttribute()


def stem_claim(question_id: str, hashed: str) -> StemClaim:
    return StemClaim(PK=f"STEM#{hashed}", SK="STEM", question_id=question_id)


def question_key(question_id: str) -> tuple[str, str]:
    """The (PK, SK) of a question's current version, for a BatchGetItem with other items."""
    return question_pk(question_id), CURRENT_SK


def get_question(question_id: str) -> Question | None:
    try:
        return Question.get(question_pk(question_id), CURRENT_SK, consistent_read=True)
    except DoesNotExist:
        return None


def get_questions(question_ids: list[str]) -> dict[str, Question]:
    """Many questions by id: BatchGetItem, 100 keys per call."""
    keys = [(question_pk(qid), CURRENT_SK) for qid in dict.fromkeys(question_ids)]
    return {q.question_id: q for q in Question.batch_get(keys) if isinstance(q, Question)}


def get_stem_claims(hashes: list[str]) -> dict[str, str]:
    keys = [(f"STEM#{h}", "STEM") for h in dict.fromkeys(hashes)]
    return {claim.PK.removeprefix("STEM#"): claim.question_id for claim in StemClaim.batch_get(keys)}


def versions(question_id: str) -> list[QuestionVersion]:
    return list(QuestionVersion.query(question_pk(question_id), QuestionVersion.SK.startswith("V#")))


def list_questions(
    *,
    status: str,
    category: str | None,
    subcategory: str | None,
    difficulty: int | None,
    question_type: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Question], str | None]:
    """Published (or staff-chosen status) questions by the most selective index available."""
    scope = f"questions:{status}:{category}:{subcategory}:{difficulty}:{question_type}"
    start = decode_cursor(cursor, scope)
    filters: list[Condition] = []
    if question_type:
        filters.append(Question.question_type == question_type)
    if category:
        prefix = f"{subcategory}#" if subcategory else ""
        if subcategory and difficulty:
            prefix += f"{difficulty}#"
        elif difficulty:
            filters.append(Question.difficulty == difficulty)
        results = Question.gsi1.query(
            f"QBANK#{status}#{category}",
            Question.GSI1SK.startswith(prefix) if prefix else None,
            filter_condition=_all(filters),
            limit=limit,
            last_evaluated_key=start,
        )
    else:
        if difficulty:
            filters.append(Question.difficulty == difficulty)
        results = Question.gsi2.query(
            f"QBANK#{status}", filter_condition=_all(filters), limit=limit, last_evaluated_key=start
        )
    items, next_cursor = collect(results, scope)
    return [q for q in items if isinstance(q, Question)], next_cursor


def _all(conditions: list[Condition]) -> Condition | None:
    combined: Condition | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def published(category: str | None = None, subcategory: str | None = None) -> list[Question]:
    """Published questions of a category (and subcategory), or of the whole bank: one Query on an
    index. Its cost grows with the bank; issue 11 replaces it with compact id lists."""
    if category is None:
        found = Question.gsi2.query(f"QBANK#{PUBLISHED}")
    else:
        condition = Question.GSI1SK.startswith(f"{subcategory}#") if subcategory else None
        found = Question.gsi1.query(f"QBANK#{PUBLISHED}#{category}", condition)
    return sorted((q for q in found if isinstance(q, Question)), key=lambda q: q.question_id)
