"""HTTP routes of the privacy domain: GDPR export and erasure of the signed-in user's data."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.core.config import get_settings
from chalicelib.core.http import Call, endpoint, json_response
from chalicelib.privacy import service
from chalicelib.privacy.schemas import DataExport, Erased, EraseRequest, ExportLink, ExportPreparing

TAGS = ("me",)


@endpoint(
    "/me/export",
    "GET",
    summary=(
        "Everything the service holds about me, as JSON (GDPR access and portability). Large accounts: 202 while "
        "the export is prepared (Retry-After), then 200 with a short-lived download link"
    ),
    tags=TAGS,
    response=DataExport | ExportLink,
    no_store=True,
    errors=(401,),
)
def export(call: Call) -> DataExport | ExportLink | Response:
    outcome = service.export(call.user)
    if outcome.preparing:
        body = ExportPreparing().model_dump(mode="json")
        return json_response(202, body, no_store=True, headers={"Retry-After": "30"})
    if outcome.url is not None:
        return ExportLink(url=outcome.url, expires_in=get_settings().export_link_ttl_sec)
    return DataExport.model_validate(outcome.document)


@endpoint(
    "/me",
    "DELETE",
    summary="Erase my account and every item of my data (needs the password, and a code with 2FA on)",
    tags=TAGS,
    body=EraseRequest,
    response=Erased,
    no_store=True,
    errors=(400, 401, 422),
)
def erase(call: Call) -> Erased:
    return Erased.model_validate(service.erase(call.user, call.body.password, call.body.code))
