"""Export jobs (in the user's partition) and export files (in the export bucket)."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core.config import get_settings
from chalicelib.core.db import TableItem, is_condition_failure, user_pk

EXPORT_SK = "EXPORT"


class ExportJob(TableItem, discriminator="ExportJob"):
    """The user's latest large export: preparing, then ready with its file; TTL removes it."""

    job_id = UnicodeAttribute()
    status = UnicodeAttribute()  # preparing | ready
    object_key = UnicodeAttribute()


def get_job(user_id: str) -> ExportJob | None:
    try:
        return ExportJob.get(user_pk(user_id), EXPORT_SK, consistent_read=True)
    except DoesNotExist:
        return None


def start_job(user_id: str, job_id: str, now: int, ttl_sec: int) -> bool:
    """Claim the user's export slot unless one is already under way (or ready and unexpired)."""
    job = ExportJob(
        PK=user_pk(user_id),
        SK=EXPORT_SK,
        job_id=job_id,
        status="preparing",
        object_key=f"exports/{user_id}/{job_id}.json",
        expires_at=now + ttl_sec,
    )
    try:
        job.save(condition=ExportJob.PK.does_not_exist() | (ExportJob.expires_at < now))
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def mark_ready(job: ExportJob) -> None:
    job.update(actions=[ExportJob.status.set("ready")])


def _s3() -> Any:
    import boto3  # only the export paths need S3

    settings = get_settings()
    return boto3.client("s3", region_name=settings.region, endpoint_url=settings.s3_endpoint_url)


def put_file(object_key: str, document: dict[str, Any]) -> None:
    body = json.dumps(document, separators=(",", ":"), default=str).encode()
    _s3().put_object(
        Bucket=get_settings().export_bucket,
        Key=object_key,
        Body=body,
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )


def link(object_key: str, ttl_sec: int) -> str:
    return str(
        _s3().generate_presigned_url(
            "get_object", Params={"Bucket": get_settings().export_bucket, "Key": object_key}, ExpiresIn=ttl_sec
        )
    )


def delete_files(user_id: str) -> None:
    """Remove every export file of the user (erasure)."""
    s3, bucket = _s3(), get_settings().export_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"exports/{user_id}/")
    for entry in listed.get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=entry["Key"])
