"""Loads the seed data; running it again adds nothing twice. Refuses to touch staging or prod.

python -m seeds.loader          (against DYNAMODB_ENDPOINT_URL, by default the running `make dev`)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent
DEFAULT_PASSWORD = "ChangeMe-123!"
SEED_ACTOR = "seed"
Loader = Callable[[], dict[str, int]]


def _progress(kind: str, done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\rseeding {kind}: {done}/{total}", end=end, file=sys.stderr, flush=True)


def _put_new(item: Any) -> bool:
    """Write an item unless one with its key exists; True when written."""
    from pynamodb.exceptions import PutError

    from chalicelib.core.db import TableItem, is_condition_failure

    try:
        item.save(condition=TableItem.PK.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def load_accounts() -> dict[str, int]:
    from chalicelib.accounts.service import provision_user
    from chalicelib.core.security import Role

    password = os.environ.get("SEED_PASSWORD", DEFAULT_PASSWORD)
    accounts = json.loads((SEED_DIR / "accounts.json").read_text())
    created = 0
    for index, account in enumerate(accounts, start=1):
        _, was_created = provision_user(account["email"], password, account["display_name"], Role(account["role"]))
        created += was_created
        _progress("accounts", index, len(accounts))
    return {"created": created, "existing": len(accounts) - created}


def load_plans() -> dict[str, int]:
    """The billing plans (data, not code: admins change them through the API afterwards)."""
    from chalicelib.billing import data as billing

    plans = json.loads((SEED_DIR / "plans.json").read_text())
    created = 0
    for plan in plans:
        fields = {k: v for k, v in plan.items() if k != "code" and v is not None}
        fields["features"] = set(plan["features"]) or None
        created += _put_new(billing.new_plan(plan["code"], version=1, **fields))
    return {"created": created, "existing": len(plans) - created}


def load_taxonomy() -> dict[str, int]:
    from chalicelib.taxonomy.data import TAXONOMY_PK, Category, Subcategory, category_sk, subcategory_sk

    categories = json.loads((SEED_DIR / "taxonomy.json").read_text())
    created = total = 0
    for order, entry in enumerate(categories):
        slug = entry["slug"]
        items: list[Any] = [
            Category(
                PK=TAXONOMY_PK,
                SK=category_sk(slug),
                slug=slug,
                name=entry["name"],
                description=f"MRCS Part A, Paper {entry['paper']}",
                order=order,
            )
        ]
        items += [
            Subcategory(
                PK=TAXONOMY_PK, SK=subcategory_sk(slug, sub), slug=sub, name=name, category=slug, order=sub_order
            )
            for sub_order, (sub, name) in enumerate(entry["subcategories"])
        ]
        for item in items:
            created += _put_new(item)
            total += 1
        _progress("categories", order + 1, len(categories))
    return {"created": created, "existing": total - created}


QUESTIONS_DIR = SEED_DIR / "questions"


def seed_questions() -> list[dict[str, Any]]:
    """Every seed question, from the files content editors maintain in the import format
    (`docs/question-import.md`): one file per category, `{"questions": [...]}`."""
    rows: list[dict[str, Any]] = []
    for path in sorted(QUESTIONS_DIR.glob("*.json")):
        rows.extend(json.loads(path.read_text(encoding="utf-8"))["questions"])
    return rows


def load_questions() -> dict[str, int]:
    from chalicelib.questions import imports

    rows = seed_questions()
    # The job id is derived from the content: the same seeds are imported once, changed seeds again
    # (their unchanged questions are then skipped as duplicates).
    job_id = "seed-" + hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:20]
    existing = imports.find_job(job_id)
    if existing is not None and existing.status == "completed":
        _progress("questions", len(rows), len(rows))
        return {"created": 0, "existing": len(rows)}
    print(f"seeding questions: importing {len(rows)} rows", file=sys.stderr, flush=True)
    job = imports.start_import(SEED_ACTOR, rows, dry_run=False, source="json", job_id=job_id, run_now=True)
    _progress("questions", len(rows), len(rows))
    if int(job.failed):
        raise SystemExit(f"{job.failed} seed questions failed validation; see import job {job_id}")
    return {"created": int(job.created), "existing": int(job.skipped)}


def load_resources() -> dict[str, int]:
    from chalicelib.core import clock
    from chalicelib.resources.data import Resource, resource_pk

    entries = json.loads((SEED_DIR / "resources.json").read_text())
    created = 0
    now = clock.iso(clock.now())
    for index, entry in enumerate(entries, start=1):
        fields = {k: v for k, v in entry.items() if k != "seed_id"}
        resource = Resource(
            PK=resource_pk(entry["seed_id"]),
            SK="RESOURCE",
            resource_id=entry["seed_id"],
            created_at=now,
            updated_at=now,
            published_at=now,
            **fields,
        )
        resource.index_keys()
        created += _put_new(resource)
        _progress("resources", index, len(entries))
    return {"created": created, "existing": len(entries) - created}


def load_pages() -> dict[str, int]:
    from chalicelib.core import clock
    from chalicelib.pages.data import PAGES_INDEX_PK, Page, page_pk

    titles = {"privacy": "Privacy notice", "terms": "Terms of use"}
    created = 0
    for index, (slug, title) in enumerate(titles.items(), start=1):
        body = (SEED_DIR / "pages" / f"{slug}.md").read_text()
        page = Page(
            PK=page_pk(slug),
            SK="PAGE",
            GSI1PK=PAGES_INDEX_PK,
            GSI1SK=slug,
            slug=slug,
            title=title,
            body=body,
            status="published",
            updated_at=clock.iso(clock.now()),
            updated_by=SEED_ACTOR,
        )
        created += _put_new(page)
        _progress("pages", index, len(titles))
    return {"created": created, "existing": len(titles) - created}


def allocate(available: dict[str, int], total: int) -> dict[str, int]:
    """Spread `total` questions over categories in proportion to what each has, never more than it has."""
    pool = sum(available.values())
    if pool < total:
        raise SystemExit(f"the seed bank has {pool} questions, a template needs {total}")
    shares = {slug: min(count, total * count // pool) for slug, count in available.items()}
    for slug in sorted(available, key=lambda s: available[s] - shares[s], reverse=True):
        if sum(shares.values()) == total:
            break
        shares[slug] += min(available[slug] - shares[slug], total - sum(shares.values()))
    return {slug: n for slug, n in shares.items() if n}


def load_exam_templates() -> dict[str, int]:
    from chalicelib.exams import data as exams

    papers = {c["slug"]: c["paper"] for c in json.loads((SEED_DIR / "taxonomy.json").read_text())}
    counts: dict[str, int] = {}
    for question in seed_questions():
        counts[question["category"]] = counts.get(question["category"], 0) + 1
    paper = {n: {slug: c for slug, c in counts.items() if papers[slug] == n} for n in (1, 2)}
    largest = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    templates = [
        (
            "seed-paper-1",
            "MRCS Part A Mock, Paper 1",
            "Paper 1",
            180,
            180,
            "Applied basic sciences: 180 single best answer and multiple response questions in 3 hours.",
            allocate(paper[1], 180),
        ),
        (
            "seed-paper-2",
            "MRCS Part A Mock, Paper 2",
            "Paper 2",
            120,
            120,
            "Principles of surgery in general: 120 questions in 2 hours.",
            allocate(paper[2], 120),
        ),
        (
            "seed-quick-mock",
            "Quick Mock",
            "Mixed",
            20,
            20,
            "Twenty questions in twenty minutes.",
            allocate(largest, 20),
        ),
    ]
    created = 0
    for index, (template_id, name, paper_name, minutes, total, description, blueprint) in enumerate(templates, 1):
        created += _put_new(
            exams.new_template(
                template_id,
                name=name,
                paper=paper_name,
                duration_minutes=minutes,
                total_questions=total,
                description=description,
                pass_mark_percent=70,
                blueprint=blueprint,
                shuffle_questions=True,
                shuffle_options=False,
            )
        )
        _progress("exam templates", index, len(templates))
    return {"created": created, "existing": len(templates) - created}


LOADERS: dict[str, Loader] = {
    "taxonomy": load_taxonomy,
    "accounts": load_accounts,
    "questions": load_questions,
    "resources": load_resources,
    "pages": load_pages,
    "exam_templates": load_exam_templates,
    "plans": load_plans,
}


def load_all(kinds: list[str] | None = None) -> dict[str, dict[str, int]]:
    from chalicelib.core.config import get_settings

    stage = get_settings().stage
    if stage in ("staging", "prod"):
        raise SystemExit(f"refusing to load seed data into the {stage} stage")
    return {kind: LOADERS[kind]() for kind in kinds or list(LOADERS)}
