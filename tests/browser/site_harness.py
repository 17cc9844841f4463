"""Machinery of the website tests: serve a built site on loopback and list what is wrong with one of its pages.

A page is wrong when it requests anything from another host (the request is stopped here, never sent), logs a
console error, fails to load one of its files, shows an error output or a traceback, has a widget the ipywidgets
HTML manager did not draw, shows fewer figures than its notebook produced or a figure without alt text, links to a
page or an anchor on this site that does not exist, or has a serious or critical accessibility violation (axe-core).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from browser_harness import ERROR_TEXT, UNRENDERED_WIDGET, accessibility_problems, free_port, wait_http

WIDGET_TIMEOUT_S = 15
# Outputs myst-nb marks as errors, and a Python traceback wherever it shows. (A lesson may print a caught
# ValueError's message on purpose, to teach what a bad input says: that is text, not a failure.)
ERROR_OUTPUTS = ".cell_output .output.error, .cell_output .output.traceback"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")

_WIDGETS_JS = r"""() => {
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const drawn = views.filter((script) => {
    const area = script.previousElementSibling;
    if (!area || !area.classList.contains('widget-subarea')) return false;
    const widget = area.querySelector('.jupyter-widgets');
    if (!widget) return false;
    const box = widget.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  });
  return {views: views.length, drawn: drawn.length,
          text: [...document.querySelectorAll('.widget-subarea')].map((area) => area.innerText.slice(0, 200))};
}"""
_FIGURES_JS = r"""() => [...document.querySelectorAll('.cell_output img')]
  .filter((img) => !img.closest('.widget-subarea'))
  .map((img) => ({src: img.getAttribute('src'), alt: img.getAttribute('alt') || '',
                  loaded: img.complete && img.naturalWidth > 0}))"""
# An alt text that only repeats the file's name (what myst-nb writes when it is given none) says nothing.
FILE_NAME_ALT = re.compile(r"^\S*\.(png|jpe?g|svg|gif)$", re.I)


@dataclass
class StaticServer:
    """A plain HTTP server on 127.0.0.1 serving one folder."""

    base: str
    proc: subprocess.Popen
    _pages: dict[str, str | None] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def fetch(self, url: str) -> str | None:
        """The text at a URL of this server (None when it answers an error); cached."""
        if url not in self._pages:
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    self._pages[url] = answer.read().decode("utf-8", errors="replace")
            except urllib.error.URLError:
                self._pages[url] = None
        return self._pages[url]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def serve(folder: Path) -> StaticServer:
    """Serve `folder` with Python's http.server on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = StaticServer(f"http://127.0.0.1:{port}", proc)
    try:
        wait_http(server.url("/"), 30, proc)
    except Exception:
        server.stop()
        raise
    return server


def keep_local(page, server: StaticServer, leaks: list[str]) -> None:
    """Stop every request of the page that is not for the local server (it never leaves), and remember it."""

    def route(route):
        url = route.request.url
        if url.startswith(server.base + "/") or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            leaks.append(url)
            route.abort()

    page.route("**/*", route)


def link_problems(server: StaticServer, hrefs: list[str]) -> list[str]:
    """Links to this site whose page (or #anchor on it) does not exist."""
    problems = []
    for href in sorted(set(hrefs)):
        if not href.startswith(server.base + "/"):
            continue
        target, _, anchor = href.partition("#")
        page = server.fetch(target)
        if page is None:
            problems.append(f"broken link: {href.removeprefix(server.base)}")
        elif anchor and f'id="{urllib.parse.unquote(anchor)}"' not in page:
            problems.append(f"link to a missing anchor: {href.removeprefix(server.base)}")
    return problems


def page_problems(page, server: StaticServer, path: str, expected_figures: int = 0) -> list[str]:
    """Open a page of the site and return everything wrong with it (see the module docstring)."""
    leaks: list[str] = []
    problems: list[str] = []
    keep_local(page, server, leaks)
    page.on("console", lambda message: message.type == "error" and problems.append(f"console error: {message.text[:300]}"))
    page.on("pageerror", lambda error: problems.append(f"script error: {str(error)[:300]}"))
    page.on("response", lambda answer: answer.status >= 400
            and problems.append(f"missing file ({answer.status}): {answer.url.removeprefix(server.base)}"))
    answer = page.goto(server.url(path), wait_until="load")
    if answer is None or answer.status != 200:
        return [f"page missing: {path} ({answer.status if answer else 'no answer'})"]
    widgets = page.evaluate(_WIDGETS_JS)
    deadline = time.monotonic() + WIDGET_TIMEOUT_S
    while widgets["drawn"] < widgets["views"] and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        widgets = page.evaluate(_WIDGETS_JS)
    page.evaluate("document.fonts.ready.then(() => true)")  # the fonts the drawn widgets asked for
    page.wait_for_timeout(300)
    if widgets["drawn"] < widgets["views"]:
        problems.append(f"{widgets['views'] - widgets['drawn']} of {widgets['views']} widgets not drawn")
    problems += [f"widget not rendered: {text}" for text in widgets["text"] if UNRENDERED_WIDGET.search(text)]
    for text in page.locator(ERROR_OUTPUTS).all_inner_texts():
        problems.append("error output: " + text.strip()[:300])
    for text in page.locator(".cell_output .output.stderr").all_inner_texts():
        if ERROR_TEXT.search(text):
            problems.append("stderr output: " + text.strip()[:300])
    for text in page.locator(".cell_output").all_inner_texts():
        if TRACEBACK.search(text):
            problems.append("a traceback in an output: " + text.strip()[:300])
    figures = page.evaluate(_FIGURES_JS)
    broken = [figure["src"] for figure in figures if not figure["loaded"]]
    problems += [f"figure does not load: {src}" for src in broken]
    problems += [f"figure without alt text: {figure['src']} (alt {figure['alt']!r})" for figure in figures
                 if not figure["alt"].strip() or FILE_NAME_ALT.match(figure["alt"].strip())]
    if len(figures) - len(broken) < expected_figures:
        problems.append(f"{len(figures) - len(broken)} figures shown, the notebook made {expected_figures}")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map((link) => link.href)")
    problems += link_problems(server, hrefs)
    problems += [f"request to another host: {url}" for url in leaks]
    problems += accessibility_problems(page)
    return problems
