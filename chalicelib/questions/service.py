"""Question bank rules: coherent options, stable option ids, versions, no duplicates, no answer leaks."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pynamodb.transactions import TransactWrite

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.cohort import data as cohort_data
from chalicelib.cohort import service as cohort
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, NotFound, field_error, from_validation_error
from chalicelib.core.pagination import Page
from chalicelib.core.security import Principal, is_staff
from chalicelib.questions import data, rules, search
from chalicelib.questions.data import MediaMap, OptionMap, PostingFilter, Question, QuestionVersion, StemClaim
from chalicelib.questions.schemas import (
    MediaOut,
    OptionPublic,
    OptionStaff,
    QuestionForLearner,
    QuestionIn,
    QuestionPatch,
    QuestionPublic,
    QuestionQuery,
    QuestionStaff,
    VersionOut,
)
from chalicelib.review import service as review
from chalicelib.taxonomy import data as taxonomy

DUPLICATE = "A question with the same stem already exists."


# --- views ---------------------------------------------------------------------------------------


def _media(question: Question) -> list[MediaOut]:
    return [MediaOut(url=m.url, kind=m.kind, alt_text=m.alt_text, caption=m.caption) for m in question.media]


def to_public(question: Question) -> QuestionPublic:
    return QuestionPublic(
        id=question.question_id,
        stem=question.stem,
        type=question.question_type,
        options=[OptionPublic(id=o.id, text=o.text) for o in question.options],
        media=_media(question),
        category=question.category,
        subcategory=question.subcategory,
        difficulty=int(question.difficulty),
    )


def to_staff(question: Question) -> QuestionStaff:
    return QuestionStaff(
        id=question.question_id,
        stem=question.stem,
        type=question.question_type,
        options=[OptionStaff(id=o.id, text=o.text, is_correct=o.is_correct) for o in question.options],
        media=_media(question),
        category=question.category,
        subcategory=question.subcategory,
        difficulty=int(question.difficulty),
        explanation=question.explanation,
        reference=question.reference,
        status=question.status,
        version=int(question.version or 0),
        created_at=question.created_at,
        updated_at=question.updated_at,
    )


def correct_option_ids(question: Question) -> list[str]:
    return [o.id for o in question.options if o.is_correct]


# --- reads ---------------------------------------------------------------------------------------


def get_question(principal: Principal | None, question_id: str) -> QuestionForLearner | QuestionStaff:
    if is_staff(principal):
        read = data.get_question_with(question_id)
        if read.question is None:
            raise NotFound("No such question.")
        counts = cohort_data.counts_of(read.stat)
        staff = to_staff(read.question)
        staff.statistics = cohort.stats_out(counts, [o.id for o in read.question.options])
        staff.item_analysis = cohort.analysis_out(counts, correct_option_ids(read.question))
        staff.last_remark = dict(read.stat.last_remark) if read.stat and read.stat.last_remark else None
        return staff
    if principal is None:
        read = data.QuestionRead(data.get_question(question_id))
    else:  # the question, the learner's card and the cohort's statistics in one BatchGetItem
        read = data.get_question_with(question_id, principal.user_id)
    found = read.question
    if found is None or found.status != "published":
        raise NotFound("No such question.")
    if read.card is None:  # never before the learner has answered it
        return QuestionForLearner(**to_public(found).model_dump())
    return QuestionForLearner(
        **to_public(found).model_dump(),
        review=review.recall_of(read.card),
        statistics=cohort.stats_of(read.stat, [o.id for o in found.options]),
    )


def list_questions(principal: Principal | None, query: QuestionQuery) -> Page[Any]:
    staff = is_staff(principal)
    if query.status not in (None, "published") and not staff:
        raise Forbidden("Only staff can list unpublished questions.")
    view = to_staff if staff else to_public
    if query.q is not None:
        return _search_page(query, view)
    items, cursor = data.list_questions(
        status=query.status or "published",
        category=query.category,
        subcategory=query.subcategory,
        difficulty=query.difficulty,
        question_type=query.type,
        limit=query.limit,
        cursor=query.cursor,
        descending=query.order == "desc",
    )
    return Page[Any](items=[view(q) for q in items], next_cursor=cursor)


def _search_page(query: QuestionQuery, view: Callable[[Question], Any]) -> Page[Any]:
    """Text search (patterns Q12-Q14)."""
    if not rules.search_words(query.q or ""):
        raise field_error("q", "Search for at least one word of three letters or more that is not a common word.")
    facets = PostingFilter(
        status=query.status or "published",
        category=query.category,
        subcategory=query.subcategory,
        difficulty=query.difficulty,
        question_type=query.type,
    )
    found = search.search(
        query.q or "", facets, newest_first=query.order != "asc", limit=query.limit, cursor=query.cursor
    )
    return Page[Any](items=[view(q) for q in found.questions], next_cursor=found.next_cursor)


def list_versions(question_id: str) -> list[VersionOut]:
    found = data.versions(question_id)
    if not found:
        raise NotFound("No such question.")
    return [
        VersionOut(
            version=int(v.number),
            edited_by=v.edited_by,
            edited_at=v.edited_at,
            question=QuestionStaff.model_validate_json(v.snapshot),
        )
        for v in sorted(found, key=lambda v: int(v.number), reverse=True)
    ]


# --- writes --------------------------------------------------------------------------------------


def check_taxonomy(category: str, subcategory: str | None) -> None:
    node, subcategories = taxonomy.subtree(category)
    if node is None or node.status != "active":
        raise field_error("category", "No such active category.", "unknown_category")
    if subcategory and not any(s.slug == subcategory and s.status == "active" for s in subcategories):
        raise field_error("subcategory", "No such active subcategory in this category.", "unknown_subcategory")


def _new_option_id() -> str:
    return f"o_{secrets.token_hex(6)}"


def _options(request: QuestionIn, issued: list[str]) -> list[OptionMap]:
    """Keep known ids (so past attempts stay scoreable); refuse ids this question never issued."""
    options = []
    for index, option in enumerate(request.options):
        if option.id is not None and option.id not in issued:
            raise field_error(f"options.{index}.id", "This option id does not belong to this question.")
        options.append(OptionMap(id=option.id or _new_option_id(), text=option.text, is_correct=option.is_correct))  # type: ignore[no-untyped-call]
    return options


def build_question(actor_id: str, request: QuestionIn, question_id: str | None = None) -> Question:
    now = clock.iso(clock.now())
    question = Question(
        PK=data.question_pk(question_id or clock.new_id()),
        SK=data.CURRENT_SK,
        created_by=actor_id,
        created_at=now,
    )
    question.question_id = data.question_id_of(question.PK)
    _apply(question, request, [], actor_id, now)
    return question


def _apply(question: Question, request: QuestionIn, issued: list[str], actor_id: str, now: str) -> None:
    question.options = _options(request, issued)
    question.issued_option_ids = list(dict.fromkeys([*issued, *(o.id for o in question.options)]))
    question.stem, question.question_type = request.stem, request.type
    question.category, question.subcategory, question.difficulty = (
        request.category,
        request.subcategory,
        request.difficulty,
    )
    question.media = [MediaMap(**m.model_dump(mode="json")) for m in request.media]  # type: ignore[no-untyped-call]
    question.explanation, question.reference, question.status = request.explanation, request.reference, request.status
    question.ever_published = bool(question.ever_published) or request.status == "published"
    question.stem_hash = data.stem_hash(request.stem)
    question.updated_by, question.updated_at = actor_id, now
    question.index_keys()


def version_item(question: Question, number: int) -> QuestionVersion:
    snapshot = to_staff(question).model_copy(update={"version": number})
    return QuestionVersion(
        PK=question.PK,
        SK=data.version_sk(number),
        question_id=question.question_id,
        number=number,
        snapshot=snapshot.model_dump_json(),
        edited_by=question.updated_by,
        edited_at=question.updated_at,
    )


Placement = tuple[str, str | None, str]  # category, subcategory, status


def _placement(question: Question | None) -> Placement | None:
    return None if question is None else (question.category, question.subcategory, question.status)


Node = tuple[str, str | None]
Moves = list[tuple[Placement | None, Placement | None]]


def counter_deltas(moves: Moves) -> dict[Node, tuple[int, int]]:
    """(total, published) change per taxonomy node for questions moving from before to after."""
    deltas: dict[Node, tuple[int, int]] = {}
    for before, after in moves:
        for placement, sign in ((before, -1), (after, 1)):
            if placement is None:
                continue
            category, subcategory, status = placement
            nodes: list[Node] = [(category, None), (category, subcategory)] if subcategory else [(category, None)]
            for node in nodes:
                total, published = deltas.get(node, (0, 0))
                deltas[node] = (total + sign, published + (sign if status == "published" else 0))
    return {node: delta for node, delta in deltas.items() if any(delta)}


def add_node_updates(tx: TransactWrite, deltas: dict[Node, tuple[int, int]]) -> None:
    for (category, subcategory), (total, published) in deltas.items():
        ref = taxonomy.node_ref(category, subcategory)
        model = type(ref)
        tx.update(
            ref,
            actions=[model.question_total.add(total), model.published_count.add(published)],
            condition=model.PK.exists(),
        )


def add_counter_updates(tx: TransactWrite, moves: Moves) -> None:
    """Keep category/subcategory question counts exact, in the same transaction as the questions.
    Deltas are summed per node because a transaction may touch each item only once."""
    add_node_updates(tx, counter_deltas(moves))


def create_question(actor: Principal, request: QuestionIn) -> QuestionStaff:
    check_taxonomy(request.category, request.subcategory)
    question = build_question(actor.user_id, request)
    created = to_staff(question).model_copy(update={"version": 1})
    change = Change(
        actor.user_id, "question.created", "question", question.question_id, after=created.model_dump(mode="json")
    )
    with audited_transaction(change, refusals={1: Conflict(DUPLICATE)}) as tx:
        tx.save(question)  # pynamodb adds attribute_not_exists(version): a fresh item only
        tx.save(data.stem_claim(question.question_id, question.stem_hash), condition=StemClaim.PK.does_not_exist())
        tx.save(version_item(question, 1))
        add_counter_updates(tx, [(None, _placement(question))])
        data.add_id_list_updates(tx, data.id_list_changes([(None, data.listing_of(question))]))
    return created


def replace_question(actor: Principal, question_id: str, request: QuestionIn) -> QuestionStaff:
    current = data.get_question(question_id)
    if current is None:
        raise NotFound("No such question.")
    return _edit(actor, current, request)


def patch_question(actor: Principal, question_id: str, patch: QuestionPatch) -> QuestionStaff:
    current = data.get_question(question_id)
    if current is None:
        raise NotFound("No such question.")
    merged = {**to_staff(current).model_dump(mode="json"), **patch.model_dump(exclude_unset=True, mode="json")}
    fields = {name: merged[name] for name in QuestionIn.model_fields}
    try:
        request = QuestionIn.model_validate(fields)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    return _edit(actor, current, request)


def _edit(actor: Principal, question: Question, request: QuestionIn) -> QuestionStaff:
    current_version = int(question.version or 0)
    if request.version is not None and request.version != current_version:
        raise Conflict(
            f"The question was changed meanwhile (it is now at version {current_version}); reload it and redo "
            "your change.",
            details=[{"field": "version", "message": f"now {current_version}", "type": "stale_version"}],
        )
    check_taxonomy(request.category, request.subcategory)
    before_view = to_staff(question)
    before_placement, old_hash, number = _placement(question), question.stem_hash, int(question.version or 0) + 1
    before_listing = data.listing_of(question)
    _apply(question, request, list(question.issued_option_ids), actor.user_id, clock.iso(clock.now()))
    after = to_staff(question).model_dump(mode="json")
    change = Change(
        actor.user_id,
        "question.updated",
        "question",
        question.question_id,
        before=before_view.model_dump(mode="json"),
        after=after,
    )
    new_version = version_item(question, number)
    edited_meanwhile = Conflict("The question was edited meanwhile; reload and retry.")
    with audited_transaction(change, refusals={0: edited_meanwhile}, otherwise=Conflict(DUPLICATE)) as tx:
        tx.save(question)  # version-checked: a concurrent edit makes this one fail, not vanish
        if question.stem_hash != old_hash:
            tx.delete(data.stem_claim(question.question_id, old_hash))
            tx.save(data.stem_claim(question.question_id, question.stem_hash), condition=StemClaim.PK.does_not_exist())
        tx.save(new_version)
        add_counter_updates(tx, [(before_placement, _placement(question))])
        data.add_id_list_updates(tx, data.id_list_changes([(before_listing, data.listing_of(question))]))
    question.version = number
    return to_staff(question)


def delete_question(actor: Principal, question_id: str) -> QuestionStaff | None:
    """Never-published drafts are deleted; anything learners may have answered is archived instead."""
    question = data.get_question(question_id)
    if question is None:
        raise NotFound("No such question.")
    if question.ever_published:
        if question.status == "archived":
            return to_staff(question)
        request = QuestionIn.model_validate({**_as_input(question), "status": "archived"})
        return _edit(actor, question, request)
    change = Change(
        actor.user_id, "question.deleted", "question", question_id, before=to_staff(question).model_dump(mode="json")
    )
    with audited_transaction(change, otherwise=Conflict("The question was edited meanwhile; reload and retry.")) as tx:
        tx.delete(question)  # version-checked
        tx.delete(data.stem_claim(question_id, question.stem_hash))
        for version in data.versions(question_id):
            tx.delete(version)
        add_counter_updates(tx, [(_placement(question), None)])
        data.add_id_list_updates(tx, data.id_list_changes([(data.listing_of(question), None)]))
    return None


def _as_input(question: Question) -> dict[str, Any]:
    view = to_staff(question).model_dump(mode="json")
    return {name: view[name] for name in QuestionIn.model_fields}
