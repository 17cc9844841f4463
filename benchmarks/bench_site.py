"""Benchmark of the course website build (issue 15): scripts/build_site.py, every notebook executed, once per
language (English and each translation, issue 26).

Runs only when notebook rows run (not with --skip-notebooks, which CI uses: the browser test builds the site).
Target: under 3 minutes on the project's 2-core machine. Notes give the page count and the site's size.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from run import Case

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 180.0


def _build_site_module():
    sys.path.insert(0, str(ROOT / "scripts"))  # build_site imports write_badges beside it
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_once() -> dict:
    build_site = _build_site_module()
    out = build_site.DEFAULT_OUT
    start = time.perf_counter()
    by_language = build_site.build(out, "auto")  # English, then each translation into out/<language>/
    seconds = time.perf_counter() - start
    pages = [path for path in out.rglob("*.html") if "_static" not in path.relative_to(out).parts]
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    return {"_seconds": seconds, "course pages": str(len(build_site.site_pages()) + 1),
            "HTML pages (with search and index, all languages)": str(len(pages)), "site size": f"{size / 2**20:.1f} MiB",
            **{f"{language} build": f"{taken:.0f} s" for language, taken in by_language.items()}}


def cases() -> list[Case]:
    return [Case("site build (scripts/build_site.py, all notebooks executed)", TARGET_S, build_once, repeats=1)]
