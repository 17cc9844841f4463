"""Read the commands the README documents under its marker comments (shared by the README and site tests)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_text() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_command_after(marker: str, text: str | None = None) -> str | None:
    """The fenced bash block that follows the `<!-- marker ... -->` comment, or None when there is none."""
    text = readme_text() if text is None else text
    match = re.search(rf"<!-- {re.escape(marker)}\b[^>]*-->\s*```bash\n(.*?)\n```", text, re.S)
    return match.group(1).strip() if match else None


def site_command() -> str | None:
    """The one-line command that builds the course website."""
    return fenced_command_after("site-command")


def site_output() -> Path | None:
    """The folder the site command writes, from the `<!-- site-output: PATH -->` line."""
    match = re.search(r"<!-- site-output: (\S+) -->", readme_text())
    return ROOT / match.group(1) if match else None
