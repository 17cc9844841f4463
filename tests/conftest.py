"""Session-wide hooks: after any run that made pictures, lay them out in screenshots/gallery.html."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session, exitstatus):
    spec = importlib.util.spec_from_file_location("write_gallery", ROOT / "scripts" / "write_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_gallery(ROOT / "screenshots")
