"""Helpers that create accounts through the API, as a user would."""

from __future__ import annotations

import itertools
from typing import Any

from chalicelib.accounts.service import provision_user
from chalicelib.core.security import Role

PASSWORD = "Correct-Horse-42"
_counter = itertools.count()


def register(
    client: Any, email: str | None = None, password: str = PASSWORD, name: str = "Ada Surgeon"
) -> dict[str, Any]:
    email = email or f"learner{next(_counter)}@example.com"
    response = client.post("/auth/register", {"email": email, "password": password, "display_name": name})
    assert response.status == 201, response
    return dict(response.json)


def staff(client: Any, role: Role) -> dict[str, Any]:
    """An account with a staff role (roles are never granted over public HTTP), logged in."""
    email = f"{role.value}{next(_counter)}@openmrcs.test"
    user, _ = provision_user(email, PASSWORD, f"Test {role.value}", role)
    tokens = client.post("/auth/login", {"email": email, "password": PASSWORD}).json
    return {"user": user.model_dump(), **tokens}
