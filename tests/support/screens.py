"""Screenshots of the console for docs/console, taken by the browser tests themselves when
CONSOLE_SCREENSHOTS names a folder (`make screenshots`), so the pictures show what the tests check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
