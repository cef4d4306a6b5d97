"""HTTP routes of the audit trail (admins only)."""

from __future__ import annotations

from chalicelib.audit import service
from chalicelib.audit.service import AuditEventOut, AuditQuery
from chalicelib.core.http import Call, endpoint
from chalicelib.core.pagination import Page
from chalicelib.core.security import Role


@endpoint(
    "/admin/audit",
    "GET",
    summary="Staff actions, newest first, by entity, actor or period",
    tags=("admin",),
    roles=(Role.ADMIN,),
    query=AuditQuery,
    response=Page[AuditEventOut],
    errors=(400, 401, 403, 422),
)
def list_audit(call: Call) -> Page[AuditEventOut]:
    return service.list_events(call.query)
