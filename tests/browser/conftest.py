"""Fixtures of the browser tests: one JupyterLab server and one Chromium for the whole session.

Without Chromium (or Playwright) the tests skip and the reason is printed at the end of the run, unless
QWEN_LESSONS_REQUIRE_BROWSER=1 (set by .ci/run), in which case they fail: CI can never skip them silently.
"""

from __future__ import annotations

import time

import pytest
from browser_harness import (
    CHROMIUM_ARGS,
    KNOWN_FINDINGS,
    REQUIRE_ENV,
    VIEWPORT,
    browser_required,
    find_chromium,
    start_lab,
)

_TIMINGS: dict[str, float] = {}
_FORWARDED: dict[str, float] = {}
_FORWARDED_FINDINGS: set[str] = set()


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium against JupyterLab/Voila (select with -m browser)")


def _unavailable(reason: str):
    """Fail when the browser is required, else skip and remember the reason for the summary."""
    if browser_required():
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 forbids skipping)", pytrace=False)
    # tests/conftest.py prints each reason once at the end of the run
    pytest.skip(f"{reason}; install it (apt-get install -y chromium) or set {REQUIRE_ENV}=1 to turn this skip into a failure")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        _unavailable("browser tests skipped: no system Chromium found (looked at $CHROMIUM, /usr/bin/chromium, PATH)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("browser tests skipped: the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for every page, so Lab's scripts load from the cache after the first notebook."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory):
    """A JupyterLab server on loopback serving a throw-away copy of notebooks/."""
    started = time.monotonic()
    server = start_lab(tmp_path_factory.mktemp("lab"))
    _TIMINGS["JupyterLab start"] = time.monotonic() - started
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def timings():
    """Record named durations; they reach tests/conftest.py with the reports and are printed in its summary."""
    return _TIMINGS


@pytest.fixture(autouse=True)
def _forward_timings(request):
    """Attach the durations a test recorded to its report: under -n they are recorded in a worker, and only the
    reports reach the process that prints the summary."""
    yield
    for name, seconds in _TIMINGS.items():
        if _FORWARDED.get(name) != seconds:  # also what session fixtures (JupyterLab's start) recorded before
            _FORWARDED[name] = seconds
            request.node.user_properties.append(("browser timing", [name, seconds]))
    for finding in KNOWN_FINDINGS:  # axe findings known upstream (browser_harness), printed by tests/conftest.py
        if finding not in _FORWARDED_FINDINGS:
            _FORWARDED_FINDINGS.add(finding)
            request.node.user_properties.append(("accessibility finding known upstream", finding))
