"""The course website (issue 15): built by the README's site command, then visited page by page in Chromium.

Every page must exist and load clean: no request to another host, no console error, no missing file, no error
output or traceback, every widget drawn by the HTML manager served from the site, every figure the notebook made,
no broken link within the site, no figure without alt text, no serious or critical accessibility violation
(axe-core). The landing page has one search box, a favicon, and tables that scroll instead of wrapping. Each lesson page is photographed whole, in light and dark mode, as screenshots/site/<notebook>_{light,dark}.jpg.

The same command builds each translation (locales/languages.toml) into the site's <language>/ folder (issue 26):
its pages that run code (home, lessons, solutions, app) pass the same checks once, in light mode; every one of its
pages has its own lang attribute, the banner while the language is marked incomplete, and a language switch that
lands on the same page in the other language (read from the served HTML, cheaply).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from browser_harness import ROOT, SCREENSHOTS, VIEWPORT
from readme_markers import site_command, site_output
from site_harness import link_problems, page_problems, serve

pytestmark = pytest.mark.browser

SITE_SCREENSHOTS = SCREENSHOTS / "site"


def _build_site_module():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts"))  # build_site imports write_badges beside it
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


build_site = _build_site_module()
TRANSLATED = [code for code in build_site.site_languages() if code != build_site.ENGLISH]


HOME = "index.md"  # the landing page (site/landing.md, staged by the build script)


def html_path(page: str) -> str:
    """Where a repository page (notebooks/x.ipynb, docs/y.md, the home page index.md) lands in the built site."""
    return str(Path(page).with_suffix(".html"))


def image_outputs(notebook: Path) -> int:
    """How many figures (image outputs outside widgets) an executed notebook holds."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for cell in cells for output in cell.get("outputs", [])
               if any(kind.startswith("image/") for kind in output.get("data", {}))
               and "application/vnd.jupyter.widget-view+json" not in output.get("data", {}))


def expected_figures(executed: Path, page_name: str) -> int:
    """The figures a page must show: those its executed notebook made (none for a page that is not a notebook)."""
    if not page_name.endswith(".ipynb"):
        return 0
    executed_notebook = executed / page_name
    assert executed_notebook.exists(), f"no executed copy of {page_name} in {executed}"
    return image_outputs(executed_notebook)


def photograph(page, path: Path) -> None:
    """The whole page, top to bottom. JPEG: a lesson page is 15,000-20,000 px tall, and PNG takes ~3x as long."""
    page.screenshot(path=str(path), full_page=True, type="jpeg", quality=80)


@pytest.fixture(scope="module")
def built_site(browser, timings):
    """Run the README's site command once, as a learner would after the test install; return the output folder."""
    command, output = site_command(), site_output()
    assert command and output, "README.md lacks the site-command block or the site-output line"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.monotonic()
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True)
    timings["site build"] = time.monotonic() - started
    assert result.returncode == 0, f"the site command failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    assert (output / "index.html").stat().st_mtime >= time.time() - timings["site build"] - 5, "index.html is stale"
    return output


@pytest.fixture(scope="module")
def site_server(built_site):
    server = serve(built_site)
    try:
        yield server
    finally:
        server.stop()


def test_every_page_is_built(built_site):
    pages = [HOME, *build_site.site_pages()]
    missing = [page for page in pages if not (built_site / html_path(page)).is_file()]
    assert not missing, f"pages missing from the site: {missing}"
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    assert len(pages) >= len(lessons) + len(solutions) + len(build_site.DOCS) + 1
    for notebook in lessons + solutions:  # each notebook also downloads, as stored in git (no outputs)
        download = built_site / notebook.relative_to(ROOT)
        assert download.read_bytes() == notebook.read_bytes(), f"{download} is not the notebook as stored"
    for language in TRANSLATED:  # each translation beside it, at the same addresses, its own notebooks to download
        pages = [HOME, *build_site.language_pages(language)]
        missing = [page for page in pages if not (built_site / language / html_path(page)).is_file()]
        assert not missing, f"{language} pages missing from the site: {missing}"
        for repo, address in build_site.placement(language).items():
            if address.endswith(".ipynb"):
                assert (built_site / language / address).read_bytes() == (ROOT / repo).read_bytes(), address


def test_every_page_loads_clean_offline(built_site, site_server, browser, timings):
    executed = built_site.parent / "jupyter_execute"
    lessons = {str(path.relative_to(ROOT)) for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    light = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    dark = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    SITE_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    failures, figures_seen = [], 0
    started = time.monotonic()
    try:
        course = [HOME, *build_site.site_pages()]
        # An old lesson address is a page that navigates away as it loads (a meta refresh): checking it as a page
        # races that navigation. Its target is checked instead; tests/test_site.py checks what it says.
        redirects = {f"{old}.html": f"{new}.html" for old, new in build_site.MOVED.items()}
        for redirect, target in redirects.items():
            if not (built_site / redirect).exists() or not (built_site / target).exists():
                failures.append(f"{redirect}: the old address or its target {target} is missing")
        others = sorted(str(path.relative_to(built_site)) for path in built_site.rglob("*.html")
                        if not {"_static", *TRANSLATED} & set(path.relative_to(built_site).parts)
                        and str(path.relative_to(built_site))
                        not in {html_path(page) for page in course} | set(redirects))  # search, general index: visited too
        for page_name in course + others:
            path = html_path(page_name)
            expected = expected_figures(executed, page_name)
            figures_seen += expected
            page = light.new_page()
            try:
                failures += [f"{path}: {problem}" for problem in page_problems(page, site_server, path, expected)]
                if page_name in lessons:
                    photograph(page, SITE_SCREENSHOTS / f"{Path(page_name).stem}_light.jpg")
                    if not page.locator(".qwen-launch a[href*='mybinder.org']").count():
                        failures.append(f"{path}: no Binder launch link")
                    if not page.locator(f".qwen-launch a[download][href='{Path(page_name).name}']").count():
                        failures.append(f"{path}: no download link for the notebook")
            finally:
                page.close()
            if page_name in lessons:
                page = dark.new_page()
                try:
                    failures += [f"{path} (dark): {problem}" for problem in page_problems(page, site_server, path, expected)]
                    assert page.evaluate("document.documentElement.dataset.theme") == "dark", "dark mode not applied"
                    photograph(page, SITE_SCREENSHOTS / f"{Path(page_name).stem}_dark.jpg")
                finally:
                    page.close()
    finally:
        light.close()
        dark.close()
    timings["site pages visited"] = time.monotonic() - started
    assert not failures, "\n".join(failures)
    assert figures_seen > 0, "no lesson made a figure: the figure check proves nothing"


def translated_html(built_site: Path, language: str) -> list[str]:
    """Every HTML page of a translation's folder (course pages, search, general index), relative to that folder."""
    folder = built_site / language
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*.html")
                  if "_static" not in path.relative_to(folder).parts)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translated_notebook_page_loads_clean_offline(built_site, site_server, browser, timings, language):
    """The English pages' checks on each page of a translation that runs code (its home page, lessons, solutions
    and app: its own executed notebooks, widgets and figures), once, in light mode (the English pages prove the
    theme's dark mode). Its other pages are the English ones' text in the same theme: the next test reads them."""
    executed = build_site.sphinx_output(built_site, language).parent / "jupyter_execute"
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    failures, figures_seen = [], 0
    started = time.monotonic()
    try:
        for page_name in [HOME, *(page for page in build_site.language_pages(language) if page.endswith(".ipynb"))]:
            path = html_path(page_name)
            expected = expected_figures(executed, page_name)
            figures_seen += expected
            page = context.new_page()
            try:
                failures += [f"{language}/{path}: {problem}"
                             for problem in page_problems(page, site_server, f"{language}/{path}", expected)]
            finally:
                page.close()
    finally:
        context.close()
    timings[f"site pages visited ({language})"] = time.monotonic() - started
    assert not failures, "\n".join(failures)
    assert figures_seen > 0, "no translated lesson made a figure: the figure check proves nothing"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translated_page_says_its_language_and_switches_to_the_same_english_page(built_site, site_server,
                                                                                      language):
    """Every page of a translation (read as served, no browser): its lang, the banner while locales/languages.toml
    marks the language incomplete, the switch to the same English page, nothing loaded from another host, and no
    link to a page or anchor of the site that does not exist."""
    settings = build_site.site_languages()[language]
    wrong = []
    for path in translated_html(built_site, language):
        html = site_server.fetch(site_server.url(f"{language}/{path}"))
        if f'<html lang="{settings["html_lang"]}"' not in html:
            wrong.append(f"{language}/{path}: not <html lang=\"{settings['html_lang']}\">")
        if ("bd-header-announcement" in html) is settings["complete"]:
            wrong.append(f"{language}/{path}: banner {'shown' if settings['complete'] else 'missing'} for a language "
                         f"marked complete = {str(settings['complete']).lower()}")
        english = "../" * (path.count("/") + 1) + path
        if f'href="{english}" hreflang="en"' not in html or not (built_site / path).is_file():
            wrong.append(f"{language}/{path}: no switch to the same English page ({english})")
        remote = re.findall(r'<(?:script|img|link(?![^>]*rel="canonical"))\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"',
                            html)  # what the page loads (its canonical address names it, loads nothing)
        wrong += [f"{language}/{path}: loads {url}" for url in remote]
        here = site_server.url(f"{language}/{path}")
        links = [urllib.parse.urljoin(here, href) for href in re.findall(r'<a\b[^>]*\bhref="([^"]+)"', html)]
        wrong += [f"{language}/{path}: {problem}" for problem in link_problems(site_server, links)]
    assert not wrong, "\n".join(wrong)


def test_every_english_page_switches_to_the_same_translated_page(built_site):
    """The switch on each English page (the test above checks the way back from each translated page)."""
    wrong = []
    for page_name in [HOME, *build_site.site_pages()]:
        path = html_path(page_name)
        html = (built_site / path).read_text(encoding="utf-8")
        for language, settings in build_site.site_languages().items():
            if language == build_site.ENGLISH:
                continue
            expected = "../" * path.count("/") + f"{language}/{path}"
            if f'href="{expected}" hreflang="{settings["html_lang"]}"' not in html:
                wrong.append(f"{path}: no switch to {expected}")
        if '<html lang="en"' not in html:
            wrong.append(f"{path}: not marked lang=en")
    assert not wrong, "\n".join(wrong)


def test_search_works_from_the_local_index(site_server, browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        problems = page_problems(page, site_server, "search.html?q=LoRA")
        page.locator("#search-results li").first.wait_for(timeout=15_000)
        assert not problems, problems
    finally:
        context.close()


def test_the_front_door(site_server, browser):
    # issue 25: the home page was the README; two search boxes, no favicon, wide tables wrapped every cell
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        problems = page_problems(page, site_server, "index.html")
        assert not problems, problems
        searches = page.locator(".search-button-field, input[type='search'], #searchbox input")
        visible = [i for i in range(searches.count()) if searches.nth(i).is_visible()]
        assert len(visible) == 1, f"{len(visible)} search boxes on the home page"
        icon = page.locator("link[rel='icon']").get_attribute("href")
        assert icon and site_server.fetch(site_server.url(icon)).lstrip().startswith("<svg"), f"favicon: {icon}"
        lessons = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        mapped = page.eval_on_selector_all("article table a", "links => links.map((link) => link.getAttribute('href'))")
        assert [Path(href).stem + ".ipynb" for href in mapped if href.startswith("notebooks/")] == lessons
        # a short cell ("35 min", "lesson 0") stays on one line: the table scrolls sideways instead of wrapping
        wrapped = page.evaluate("""() => [...document.querySelectorAll('article table.table td')]
          .filter((cell) => cell.innerText.trim().length <= 30)
          .filter((cell) => { const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT); const tops = [];
                              for (let text = walker.nextNode(); text; text = walker.nextNode()) {
                                const range = document.createRange(); range.selectNodeContents(text);
                                for (const rect of range.getClientRects()) if (rect.width > 0) tops.push(rect.top); }
                              tops.sort((a, b) => a - b);
                              return tops.some((top, i) => i > 0 && top - tops[i - 1] > 8); })  // a second line
          .map((cell) => cell.innerText.trim())""")
        assert not wrapped, f"short table cells wrapped onto several lines: {wrapped}"
        captions = page.locator(".bd-sidebar-primary p.caption").all_inner_texts()
        assert captions[:2] == ["Lessons", "For learners"], captions
        assert {"For instructors", "For contributors"} <= set(captions), captions
        learner_links = page.eval_on_selector_all(
            ".bd-sidebar-primary .caption", """captions => captions.filter((c) => c.innerText.trim() === 'For learners')
              .flatMap((c) => [...c.nextElementSibling.querySelectorAll('a')].map((a) => a.getAttribute('href')))""")
        assert learner_links and not [href for href in learner_links if "gallery" in href or "performance" in href
                                      or "full_room" in href], learner_links
    finally:
        context.close()


FAULTY_PAGE = """<!doctype html><html><head><script src="https://cdn.example.invalid/lib.js"></script></head><body>
<div role="slider" tabindex="0" aria-valuenow="1" aria-valuemin="0" aria-valuemax="2"></div>
<div class="cell_output"><img src="_images/missing.png"></div>
<div class="cell_output"><div class="output error"><pre>ZeroDivisionError: division by zero</pre></div></div>
<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">{"model_id": "x"}</script></div>
<a href="nowhere.html">a page that does not exist</a> <a href="faulty.html#no-such-anchor">a missing anchor</a>
<script>console.error("boom")</script></body></html>"""


def test_site_checks_catch_every_kind_of_fault(browser, tmp_path):
    (tmp_path / "faulty.html").write_text(FAULTY_PAGE, encoding="utf-8")
    server = serve(tmp_path)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        problems = "\n".join(page_problems(context.new_page(), server, "faulty.html", expected_figures=2))
        assert page_problems(context.new_page(), server, "absent.html")[0].startswith("page missing")
    finally:
        context.close()
        server.stop()
    for fault in ("request to another host: https://cdn.example.invalid/lib.js", "console error: boom",
                  "missing file (404): /_images/missing.png", "error output: ZeroDivisionError",
                  "1 of 1 widgets not drawn", "figure does not load", "0 figures shown, the notebook made 2",
                  "broken link: /nowhere.html", "link to a missing anchor: /faulty.html#no-such-anchor",
                  "figure without alt text: _images/missing.png", "axe critical image-alt",
                  "axe serious aria-input-field-name"):
        assert fault in problems, f"the site checks missed: {fault}\n{problems}"
