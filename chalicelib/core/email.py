"""One way to send email: SES when deployed, a JSON-lines outbox file that developers read locally.

Every message has a plain-text part and, when rendered from a template (`render`), an HTML part:
templates live in chalicelib/core/email_templates/ as `<name>.txt` and `<name>.html` (Jinja2, the
HTML autoescaped), both extending a shared layout. Optional mail carries `List-Unsubscribe` and
`List-Unsubscribe-Post` (RFC 8058) headers given by the caller."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from chalicelib.core import clock
from chalicelib.core.config import get_settings

TEMPLATES = Path(__file__).with_name("email_templates")


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str  # the plain-text part
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def mime(self, sender: str) -> bytes:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, self.to, self.subject
        for name, value in self.headers.items():
            message[name] = value
        message.set_content(self.body)
        if self.html is not None:
            message.add_alternative(self.html, subtype="html")
        return message.as_bytes()


@lru_cache(maxsize=1)
def _environments() -> tuple[Any, Any]:
    """Jinja2 is imported on the first mail, not at a cold start."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    loader = FileSystemLoader(str(TEMPLATES))
    text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)  # noqa: S701 (plain text, never HTML)
    html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
    return text, html


def render(
    name: str, *, to: str, subject: str, context: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Email:
    """A message from the `name` templates: every value is escaped in the HTML part."""
    text, html = _environments()
    values = {**context, "subject": subject}
    return Email(
        to=to,
        subject=subject,
        body=text.get_template(f"{name}.txt").render(values),
        html=html.get_template(f"{name}.html").render(values),
        headers=dict(headers or {}),
    )


class EmailSender(Protocol):
    def send(self, email: Email) -> None: ...


class SesEmailSender:
    def __init__(self, sender: str) -> None:
        import boto3

        self._sender = sender
        self._client = boto3.client("ses")

    def send(self, email: Email) -> None:
        # Raw MIME: the only SES call that carries our headers (List-Unsubscribe) and both parts.
        self._client.send_raw_email(
            Source=self._sender, Destinations=[email.to], RawMessage={"Data": email.mime(self._sender)}
        )


class OutboxEmailSender:
    """Appends each message to a local file (`make outbox` prints it); never used when deployed."""

    _lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, email: Email) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**asdict(email), "headers": dict(email.headers), "sent_at": clock.iso(clock.now())})
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


@lru_cache(maxsize=1)
def get_sender() -> EmailSender:
    settings = get_settings()
    if settings.email_backend == "ses":
        return SesEmailSender(settings.email_sender)
    return OutboxEmailSender(settings.outbox_path)
