"""One way to send email: SES when deployed, a JSON-lines outbox file that developers read locally."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from chalicelib.core import clock
from chalicelib.core.config import get_settings


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class EmailSender(Protocol):
    def send(self, email: Email) -> None: ...


class SesEmailSender:
    def __init__(self, sender: str) -> None:
        import boto3

        self._sender = sender
        self._client = boto3.client("ses")

    def send(self, email: Email) -> None:
        self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [email.to]},
            Message={"Subject": {"Data": email.subject}, "Body": {"Text": {"Data": email.body}}},
        )


class OutboxEmailSender:
    """Appends each message to a local file (`make outbox` prints it); never used when deployed."""

    _lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, email: Email) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**asdict(email), "sent_at": clock.iso(clock.now())})
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def messages(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


@lru_cache(maxsize=1)
def get_sender() -> EmailSender:
    settings = get_settings()
    if settings.email_backend == "ses":
        return SesEmailSender(settings.email_sender)
    return OutboxEmailSender(settings.outbox_path)
