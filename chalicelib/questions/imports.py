"""Bulk import of questions (JSON or CSV), validated row by row and run outside the request.

Each row is imported whole or not at all; bad rows are reported with their number and every error;
a duplicate stem (in the file or in the bank) is reported and skipped. The worker is resumable: rows
get deterministic ids and the job records its progress in the same transaction as the category
counters, so a retried worker rewrites the same items and counts nothing twice."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import TransactWriteError

from chalicelib.audit.data import Change, audited_transaction
from chalicelib.core import clock
from chalicelib.core.db import TableItem, cancelled_positions, is_condition_failure, transaction
from chalicelib.core.errors import MalformedRequest, NotFound, Unprocessable
from chalicelib.core.http import parse_json
from chalicelib.core.observability import logger
from chalicelib.core.tasks import enqueue, task
from chalicelib.limits import service as limits
from chalicelib.questions import data
from chalicelib.questions.data import ImportChunk, ImportCounted, ImportJob, ImportRowReport
from chalicelib.questions.schemas import QuestionIn
from chalicelib.questions.service import add_node_updates, build_question, counter_deltas, version_item
from chalicelib.taxonomy import data as taxonomy

MAX_ROWS = 5000
CHUNK_BYTES = 300_000  # raw rows are stored in items well under DynamoDB's 400 KB limit
NODES_PER_PART = 99  # a transaction holds 100 items: the part's claim and up to 99 counters
MAX_OPTIONS = 10
CSV_COLUMNS = (
    ["stem", "type", "category", "subcategory", "difficulty"]
    + [f"option_{i}" for i in range(1, MAX_OPTIONS + 1)]
    + ["correct", "explanation", "reference", "status", "media_url", "media_kind", "media_alt_text", "media_caption"]
)


# --- parsing the upload ----------------------------------------------------------------------------


def rows_from_json(document: Any) -> tuple[list[dict[str, Any]], bool]:
    if not isinstance(document, dict) or not isinstance(document.get("questions"), list):
        raise Unprocessable(
            'Send {"questions": [...], "dry_run": false}.',
            details=[{"field": "questions", "message": "a list of questions is required"}],
        )
    unknown = set(document) - {"questions", "dry_run"}
    if unknown:
        raise Unprocessable(
            "Unknown fields.", details=[{"field": f, "message": "not allowed"} for f in sorted(unknown)]
        )
    return [row if isinstance(row, dict) else {"_invalid": row} for row in document["questions"]], bool(
        document.get("dry_run", False)
    )


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"stem", "category", "option_1", "option_2", "correct"} - set(reader.fieldnames or [])
    if missing:
        raise Unprocessable(
            "The CSV header is missing required columns.",
            details=[{"field": c, "message": "missing column"} for c in sorted(missing)],
        )
    return [_csv_row(record) for record in reader]


def _csv_row(record: dict[str, str | None]) -> dict[str, Any]:
    def cell(name: str) -> str:
        return (record.get(name) or "").strip()

    texts = [cell(f"option_{i}") for i in range(1, MAX_OPTIONS + 1)]
    correct = {part.strip() for part in cell("correct").replace(",", ";").split(";") if part.strip()}
    options = [{"text": text, "is_correct": str(i) in correct} for i, text in enumerate(texts, start=1) if text]
    row: dict[str, Any] = {
        "stem": cell("stem"),
        "type": cell("type") or "single",
        "category": cell("category"),
        "subcategory": cell("subcategory") or None,
        "difficulty": cell("difficulty") or 3,
        "options": options,
        "explanation": cell("explanation"),
        "reference": cell("reference"),
        "status": cell("status") or "draft",
    }
    if cell("media_url"):
        row["media"] = [
            {
                "url": cell("media_url"),
                "kind": cell("media_kind") or "image",
                "alt_text": cell("media_alt_text"),
                "caption": cell("media_caption"),
            }
        ]
    return row


# --- the request: store the rows and queue the work ------------------------------------------------


def start_import(
    actor_id: str,
    rows: list[dict[str, Any]],
    *,
    dry_run: bool,
    source: str,
    job_id: str | None = None,
    run_now: bool = False,
) -> ImportJob:
    """Store the rows and queue the worker (or, for seed loading, run it here and now)."""
    limits.consume(limits.limit("imports"), actor_id, "Too many imports started; try later.")
    if not rows:
        raise Unprocessable("The import has no rows.", details=[{"field": "questions", "message": "empty"}])
    if len(rows) > MAX_ROWS:
        raise Unprocessable(
            f"At most {MAX_ROWS} rows per import.", details=[{"field": "questions", "message": "too many rows"}]
        )
    job = ImportJob(
        PK=data.job_pk(job_id or clock.new_id()),
        SK=data.JOB_SK,
        status="queued",
        dry_run=dry_run,
        source=source,
        total=len(rows),
        created_by=actor_id,
        created_at=clock.iso(clock.now()),
        expires_at=clock.epoch() + 90 * 86400,
    )
    job.job_id = data.job_id_of(job.PK)
    with ImportChunk.batch_write() as batch:
        for number, chunk in enumerate(_chunks(rows)):
            batch.save(data.import_chunk(job.PK, number, chunk, job.expires_at))
    job.save()
    if run_now:
        run_import({"job_id": job.job_id})
        return _load_job(job.job_id)
    enqueue("questions.import", {"job_id": job.job_id})
    return job


def _chunks(rows: list[dict[str, Any]]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for row in rows:
        encoded = json.dumps(row, default=str)
        if len(encoded) > CHUNK_BYTES:
            encoded = json.dumps({"_invalid": "row too large"})
        if current and size + len(encoded) > CHUNK_BYTES:
            chunks.append("[" + ",".join(current) + "]")
            current, size = [], 0
        current.append(encoded)
        size += len(encoded) + 1
    chunks.append("[" + ",".join(current) + "]")
    return chunks


def find_job(job_id: str) -> ImportJob | None:
    return data.get_import_job(job_id)


def get_report(job_id: str) -> tuple[ImportJob, list[ImportRowReport]]:
    job, rows = data.import_report(job_id)
    if job is None:
        raise NotFound("No such import job.")
    return job, rows


# --- the worker ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    valid: list[tuple[int, QuestionIn]] = field(default_factory=list)
    reports: list[ImportRowReport] = field(default_factory=list)


@task("questions.import")
def run_import(payload: dict[str, Any]) -> None:
    job = _load_job(str(payload["job_id"]))
    if job.status in ("completed", "failed"):
        return  # a redelivered invocation: the work is done
    job.update(actions=[ImportJob.status.set("running")])
    rows = [row for chunk in data.import_chunks(job.PK) for row in json.loads(chunk.rows)]
    outcome = _validate(rows, job.job_id)
    with ImportRowReport.batch_write() as batch:
        for report in outcome.reports:
            report.PK, report.expires_at = job.PK, job.expires_at
            batch.save(report)
    counts = {
        "skipped": sum(r.outcome == "skipped" for r in outcome.reports),
        "failed": sum(r.outcome == "failed" for r in outcome.reports),
    }
    if not job.dry_run:
        _write_valid_rows(job, outcome.valid)
    _finish(job, created=len(outcome.valid), **counts)


def _load_job(job_id: str) -> ImportJob:
    job = find_job(job_id)
    if job is None:
        raise NotFound("No such import job.")
    return job


def _validate(rows: list[dict[str, Any]], job_id: str) -> Outcome:
    outcome = Outcome()
    categories, subcategories = taxonomy.all_nodes()
    active = {c.slug for c in categories if c.status == "active"}
    active_subs = {(s.category, s.slug) for s in subcategories if s.status == "active"}
    parsed: list[tuple[int, QuestionIn]] = []
    for number, row in enumerate(rows, start=1):
        errors = _row_errors(row)
        if not errors:
            request = QuestionIn.model_validate(row)
            if request.category not in active:
                errors.append({"field": "category", "message": "no such active category"})
            elif request.subcategory and (request.category, request.subcategory) not in active_subs:
                errors.append({"field": "subcategory", "message": "no such active subcategory in this category"})
            else:
                parsed.append((number, request))
        if errors:
            outcome.reports.append(_report(number, "failed", errors))
    hashes = {number: data.stem_hash(request.stem) for number, request in parsed}
    existing = data.get_stem_claims(list(hashes.values()))
    seen: dict[str, int] = {}
    for number, request in parsed:
        hashed = hashes[number]
        if existing.get(hashed, _row_question_id(job_id, number)) != _row_question_id(job_id, number):
            outcome.reports.append(
                _report(number, "skipped", [{"field": "stem", "message": "duplicate of an existing question"}])
            )
        elif hashed in seen:
            outcome.reports.append(
                _report(number, "skipped", [{"field": "stem", "message": f"duplicate of row {seen[hashed]}"}])
            )
        else:
            seen[hashed] = number
            outcome.valid.append((number, request))
    outcome.reports.sort(key=lambda r: int(r.row))
    return outcome


def _row_errors(row: dict[str, Any]) -> list[dict[str, str]]:
    if "_invalid" in row:
        return [{"field": "row", "message": "each row must be a JSON object of acceptable size"}]
    try:
        QuestionIn.model_validate(row)
    except ValidationError as exc:
        return [
            {"field": ".".join(str(p) for p in e["loc"]) or "row", "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
    return []


def _report(number: int, outcome: str, errors: list[dict[str, str]]) -> ImportRowReport:
    return data.row_report(number, outcome, json.dumps(errors))


def _row_question_id(job_id: str, number: int) -> str:
    # Deterministic, so a retried worker overwrites its own rows instead of duplicating them.
    return hashlib.sha256(f"{job_id}:{number}".encode()).hexdigest()[:26]


def _write_valid_rows(job: ImportJob, valid: list[tuple[int, QuestionIn]]) -> None:
    """Rows first (idempotent puts of deterministic ids), then the counters exactly once per part:
    each part's transaction carries a claim item, so a retried worker skips parts already counted."""
    questions = [
        build_question(job.created_by, request, _row_question_id(job.job_id, number)) for number, request in valid
    ]
    with TableItem.batch_write() as batch:
        for question in questions:
            question.version = 1
            batch.save(question)
            batch.save(data.stem_claim(question.question_id, question.stem_hash))
            batch.save(version_item(question, 1))
    data.apply_id_list_changes(data.id_list_changes([(None, data.listing_of(q)) for q in questions]))
    deltas = counter_deltas([(None, (q.category, q.subcategory, q.status)) for q in questions])
    nodes = sorted(deltas, key=lambda node: (node[0], node[1] or ""))  # same parts on every retry
    for part, start in enumerate(range(0, len(nodes), NODES_PER_PART)):
        claim = data.counted_claim(job.PK, part, job.expires_at)
        try:
            with transaction() as tx:
                tx.save(claim, condition=ImportCounted.PK.does_not_exist())
                add_node_updates(tx, {node: deltas[node] for node in nodes[start : start + NODES_PER_PART]})
        except TransactWriteError as exc:
            if not (is_condition_failure(exc) and 0 in cancelled_positions(exc)):
                raise
            logger.info("import counters already applied", extra={"job_id": job.job_id, "part": part})


def _finish(job: ImportJob, *, created: int, skipped: int, failed: int) -> None:
    counts = {"skipped": skipped, "failed": failed}
    after = {"dry_run": job.dry_run, "created": 0 if job.dry_run else created, "would_create": created, **counts}
    with audited_transaction(Change(job.created_by, "questions.imported", "import", job.job_id, after=after)) as tx:
        tx.update(
            job,
            actions=[
                ImportJob.status.set("completed"),
                ImportJob.created.set(0 if job.dry_run else created),
                ImportJob.skipped.set(skipped),
                ImportJob.failed.set(failed),
                ImportJob.finished_at.set(clock.iso(clock.now())),
            ],
        )


def parse_upload(content_type: str, raw: bytes, dry_run_param: bool) -> tuple[list[dict[str, Any]], bool, str]:
    if content_type.startswith("text/csv"):
        try:
            return rows_from_csv(raw.decode("utf-8-sig")), dry_run_param, "csv"
        except UnicodeDecodeError as exc:
            raise MalformedRequest("The CSV must be UTF-8.") from exc
    rows, dry_run = rows_from_json(parse_json(raw))
    return rows, dry_run or dry_run_param, "json"
