"""HTTP routes of the privacy domain: GDPR export and erasure of the signed-in user's data."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.core.http import Call, endpoint
from chalicelib.privacy import service
from chalicelib.privacy.schemas import DataExport, Erased, EraseRequest

bp = Blueprint(__name__)
TAGS = ("me",)


@endpoint(
    bp,
    "/me/export",
    "GET",
    summary="Everything the service holds about me, as JSON (GDPR access and portability)",
    tags=TAGS,
    response=DataExport,
    no_store=True,
    errors=(401,),
)
def export(call: Call) -> DataExport:
    return DataExport.model_validate(service.export(call.user))


@endpoint(
    bp,
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
