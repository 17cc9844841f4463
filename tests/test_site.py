"""The website's staging step (scripts/build_site.py), without building: pages found by glob, links kept local,
nothing remote, a launch box on every notebook page, the download as stored in git. (The built site itself is
checked in Chromium by tests/browser/test_site_browser.py.)"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def loaded(name: str, path: Path):
    """The module at path, loaded with scripts/ on sys.path (build_site imports write_badges beside it, and site/conf.py
    imports the build script as `build_site`)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.fixture
def build_site():
    with loaded("build_site_under_test", ROOT / "scripts" / "build_site.py") as module:
        yield module


def test_every_lesson_solution_and_doc_is_a_page(build_site):
    pages = build_site.site_pages()
    for notebook in [*(ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"), *(ROOT / "notebooks" / "solutions").glob("*.ipynb")]:
        assert str(notebook.relative_to(ROOT)) in pages
    for doc in ("data/README.md", "docs/workshop.md", "docs/full_room.md", "docs/performance.md", "docs/gallery.md",
                "docs/glossary.md", "docs/troubleshooting.md", "README.md"):
        assert doc in pages and (ROOT / doc).exists()


def test_learner_pages_stand_apart_from_instructor_and_contributor_pages(build_site):
    # issue 25: the contributors' screenshot gallery sat in the learners' navigation
    sections = build_site.DOCS
    for page in ("docs/gallery.md", "docs/performance.md", "CONTRIBUTING.md", "README.md"):
        assert sections[page] == "For contributors", page
    for page in ("docs/workshop.md", "docs/full_room.md"):
        assert sections[page] == "For instructors", page
    for page in ("docs/glossary.md", "docs/troubleshooting.md"):
        assert sections[page] == "For learners", page


def test_the_home_page_is_a_landing_page_with_the_course_map_in_teaching_order(build_site):
    # issue 25: the site's front door was the README, learner, instructor and contributor text mixed
    landing = build_site.landing_page()
    assert "README" not in landing.split("## Teaching it", 1)[0]  # the learner part needs no repository tour
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    rows = re.findall(r"^\| \[(\d\d) · [^\]]+\]\(notebooks/(\w+\.ipynb)\) \| (\d*) ?(?:min)? \|[^|]*\|$", landing, re.M)
    assert [name for _, name, _ in rows] == [path.name for path in lessons], "the map lists every lesson, in file order"
    for number, name, minutes in rows:
        first = "".join(json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"][0]["source"])
        assert f"about {minutes} minutes" in first and first.startswith(f"# {number} · "), name
    assert build_site.learner_command() in landing  # install: the README's own command
    assert build_site.binder_url("lab/tree/notebooks/00_start_here.ipynb") in landing  # launch on Binder
    assert "(notebooks/00_start_here.ipynb)" in landing  # read here
    assert "{" not in landing.replace("{toctree}", ""), "a placeholder of site/landing.md was left unfilled"


def test_every_figure_of_a_lesson_gets_its_description_as_alt_text(build_site, tmp_path, monkeypatch):
    # issue 25: on the site a figure's alt text was its file name
    monkeypatch.setattr(build_site, "SOURCE", tmp_path)
    notebook = ROOT / "notebooks" / "07_choosing_a_tier.ipynb"
    build_site.stage_notebook(notebook, set(), set(build_site.site_pages()))
    staged = json.loads((tmp_path / "pages" / "notebooks" / notebook.name).read_text(encoding="utf-8"))["cells"]
    alts = [cell["metadata"]["mystnb"]["image"]["alt"] for cell in staged
            if cell["cell_type"] == "code" and "mystnb" in cell.get("metadata", {})]
    assert len(alts) >= 3 and all(len(alt) > 20 and "*" not in alt and "](" not in alt for alt in alts), alts
    cells = [{"cell_type": "code", "source": "plot()"}, {"cell_type": "markdown", "source": "*Figure: a [line](x.md).*"},
             {"cell_type": "code", "source": "x = 1"}, {"cell_type": "markdown", "source": "Text."}]
    assert build_site.figure_alt_texts(cells) == {0: "a line.", 2: "a line."}


def test_a_new_lesson_is_on_the_site_without_edits(build_site, tmp_path, monkeypatch):
    # lessons 03 and 06 are being written on other branches: the site must find them by their file names
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    for name in ("notebooks/06_new_topic.ipynb", "notebooks/solutions/06_new_topic_solutions.ipynb", "notebooks/notes.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    monkeypatch.setattr(build_site, "ROOT", tmp_path)
    pages = build_site.site_pages()
    assert "notebooks/06_new_topic.ipynb" in pages and "notebooks/solutions/06_new_topic_solutions.ipynb" in pages
    assert "notebooks/notes.ipynb" not in pages  # not a lesson: NN_ names only


def test_links_stay_on_the_site_and_nothing_remote_is_loaded(build_site):
    pages = set(build_site.site_pages())
    text = ("[![Launch on Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/x) "
            "[the tables](data/README.md) [licence](LICENSE) [solutions](notebooks/solutions/) [top](#set-up) "
            "![a chart](https://example.org/chart.png)")
    rewritten = build_site.rewrite_links(text, "README.md", pages)
    assert "badge_logo.svg" not in rewritten and "example.org" not in rewritten  # remote pictures: alt text only
    assert "[Launch on Binder](https://mybinder.org/v2/gh/x)" in rewritten and "a chart" in rewritten
    assert "[the tables](data/README.md)" in rewritten and "[top](#set-up)" in rewritten
    glossary = build_site.rewrite_links("[KV cache](../docs/glossary.md#kv-cache)", "notebooks/07_choosing_a_tier.ipynb", pages)
    assert glossary == "[KV cache](../docs/glossary.md#kv-cache)"  # a lesson's glossary link stays a link to the page
    assert f"[licence]({build_site.REPOSITORY_URL}/blob/main/LICENSE)" in rewritten
    assert f"[solutions]({build_site.REPOSITORY_URL}/tree/main/notebooks/solutions)" in rewritten
    assert build_site.rewrite_links("[guide](full_room.md#x)", "docs/workshop.md", pages) == "[guide](full_room.md#x)"
    local_picture = "![a sample](../data/images/" + next((ROOT / "data" / "images").glob("*.png")).name + ")"
    pictures = set()
    assert build_site.rewrite_links(local_picture, "notebooks/00_start_here.ipynb", pages, pictures) == local_picture
    assert pictures == {"data/images/" + local_picture.rsplit("/", 1)[1][:-1]}  # staged beside the pages, served by the site


def test_staged_notebook_pages_carry_launch_links_and_download_the_stored_notebook(build_site, tmp_path, monkeypatch):
    monkeypatch.setattr(build_site, "SOURCE", tmp_path)
    pages = set(build_site.site_pages())
    voila_stems = build_site.app_lessons()
    assert {"fine_tuning", "vision_token_budgets", "choosing_a_tier"} <= voila_stems  # the app's calculators
    for name, voila in (("07_choosing_a_tier.ipynb", True), ("00_start_here.ipynb", False)):
        notebook = ROOT / "notebooks" / name
        build_site.stage_notebook(notebook, voila_stems, pages)
        staged = json.loads((tmp_path / "pages" / "notebooks" / name).read_text(encoding="utf-8"))
        box = staged["cells"][1]["source"]
        assert f"mybinder.org/v2/gh/{build_site.BINDER_REPO}/main?urlpath=lab/tree/notebooks/{name}" in box
        assert ("voila/render/notebooks/90_calculators_app.ipynb" in box) is voila
        assert f'href="{name}" download' in box and "live in JupyterLab" in box
        stored_title = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
        assert "".join(staged["cells"][0]["source"]) == stored_title  # the title cell stays first, unchanged
        assert (tmp_path / "downloads" / "notebooks" / name).read_bytes() == notebook.read_bytes()


def test_site_config_loads_nothing_from_a_cdn():
    conf = (ROOT / "site" / "conf.py").read_text(encoding="utf-8")
    assert "nb_ipywidgets_js" in conf and "mathjax_path" in conf
    assert "http" not in conf.split("nb_ipywidgets_js", 1)[1].split("\n", 1)[0]
    assert "//" not in conf.split("mathjax_path", 1)[1].split("\n", 1)[0]


def test_old_lesson_addresses_redirect_to_the_renumbered_lessons(build_site, tmp_path):
    build_site.write_redirects(tmp_path)
    assert len(build_site.MOVED) == 10  # five lessons and their solutions moved when the files took teaching order
    for old, new in build_site.MOVED.items():
        assert not (ROOT / f"{old}.ipynb").exists() and (ROOT / f"{new}.ipynb").exists()
        page = (tmp_path / f"{old}.html").read_text(encoding="utf-8")
        assert f'content="0; url={Path(new).name}.html"' in page and f'href="{Path(new).name}.html"' in page


# ---- the site in every language (issue 26): the same tree, a switch on every page, a banner while incomplete


@pytest.fixture
def site_conf(build_site):
    """site/conf.py as Sphinx loads it (it imports the build script as `build_site`)."""
    with loaded("site_conf_under_test", ROOT / "site" / "conf.py") as module:
        yield module


TRANSLATED = [code for code in tomllib.loads((ROOT / "locales" / "languages.toml").read_text(encoding="utf-8"))]


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_stands_at_the_english_addresses_with_its_own_notebooks(build_site, tmp_path, monkeypatch,
                                                                             language):
    monkeypatch.setattr(build_site, "SOURCE", tmp_path)
    pages = build_site.language_pages(language)
    lessons = [page for page in build_site.site_pages() if page.startswith("notebooks/")]
    generated = [page for page in lessons if (ROOT / "notebooks" / language / page.removeprefix("notebooks/")).exists()]
    assert generated == lessons, "every lesson, solution and the app has a generated notebook on the site"
    assert set(pages) == set(build_site.site_pages())  # the same pages, so the switch always lands on the same one
    notebook = ROOT / "notebooks" / language / "07_choosing_a_tier.ipynb"
    build_site.stage_notebook(notebook, build_site.app_lessons(), set(pages), set(), language)
    staged_path = tmp_path / language / "pages" / "notebooks" / notebook.name
    staged = json.loads(staged_path.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(cell["source"]) for cell in staged if cell["cell_type"] == "markdown")
    # the generated notebook sits one folder deeper in git (notebooks/zh_CN/); on the site it stands where the
    # English lesson does, so its links are written again from there: the glossary is ../docs/, not ../../docs/
    assert "](../docs/glossary.md#" in text and "](../../" not in text
    assert f"lab/tree/notebooks/{language}/07_choosing_a_tier.ipynb" in staged[1]["source"]  # Binder opens it
    assert f"voila/render/notebooks/{language}/90_calculators_app.ipynb" in staged[1]["source"]
    _ = build_site.translator(language)
    assert _("Run this lesson yourself") != "Run this lesson yourself" and _("Run this lesson yourself") in staged[1]["source"]
    assert (tmp_path / language / "downloads" / "notebooks" / notebook.name).read_bytes() == notebook.read_bytes()
    solution = ROOT / "notebooks" / language / "solutions" / "07_choosing_a_tier_solutions.ipynb"
    build_site.stage_notebook(solution, set(), set(pages), set(), language)
    assert (tmp_path / language / "pages" / "notebooks" / "solutions" / solution.name).exists()
    english = ROOT / "notebooks" / "07_choosing_a_tier.ipynb"  # the English staging is unchanged by all this
    build_site.stage_notebook(english, set(), set(build_site.site_pages()))
    english_text = (tmp_path / "pages" / "notebooks" / english.name).read_text(encoding="utf-8")
    assert "](../docs/glossary.md#" in english_text and "zh_CN" not in english_text


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_home_page_of_a_translation_maps_its_own_lessons(build_site, language):
    landing = build_site.landing_page(language)
    for notebook in sorted((ROOT / "notebooks" / language).glob("[0-9][0-9]_*.ipynb")):
        title = json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"][0].strip().removeprefix("# ")
        assert f"[{title}](notebooks/{notebook.name})" in landing, title  # the translated title, same address
    assert build_site.learner_command(language) in landing and f"notebooks/{language}/" in landing
    _ = build_site.translator(language)
    assert f"| {_('lesson')} | {_('time')} | {_('builds on')} |" in landing and _("lesson") != "lesson"


def test_every_page_links_to_the_same_page_in_the_other_language(site_conf):
    def switch(language, pagename):
        context = {}
        site_conf._language_switch(SimpleNamespace(config=SimpleNamespace(language=language)), pagename, "page.html",
                                   context, None)
        return context["language"], {entry["lang"]: entry["href"] for entry in context["qwen_languages"]}

    assert switch("en", "notebooks/07_choosing_a_tier") == ("en", {"zh-CN": "../zh_CN/notebooks/07_choosing_a_tier.html"})
    assert switch("zh_CN", "notebooks/solutions/07_choosing_a_tier_solutions") == (
        "zh-CN", {"en": "../../../notebooks/solutions/07_choosing_a_tier_solutions.html"})
    assert switch("zh_CN", "index") == ("zh-CN", {"en": "../index.html"})
    assert switch("en", "search") == ("en", {"zh-CN": "zh_CN/search.html"})  # Sphinx's own pages exist in both


def test_the_incomplete_banner_follows_languages_toml(site_conf, tmp_path, monkeypatch):
    languages = (ROOT / "locales" / "languages.toml").read_text(encoding="utf-8")
    marked = tmp_path / "languages.toml"
    monkeypatch.setattr(sys.modules["build_site"], "LANGUAGES_FILE", marked)

    def banner(complete: bool) -> str | None:
        marked.write_text(re.sub(r"complete = \w+", f"complete = {str(complete).lower()}", languages), encoding="utf-8")
        config = SimpleNamespace(language="zh_CN", html_theme_options=dict(site_conf.html_theme_options),
                                 html_js_files=list(site_conf.html_js_files), html_baseurl=site_conf.html_baseurl)
        site_conf._choose_language(None, config)
        assert config.html_extra_path == [str(sys.modules["build_site"].staging("zh_CN") / "downloads")]
        assert "zh-search-stemmer.js" in config.html_js_files  # Sphinx's Chinese search needs it on every page
        assert config.html_baseurl.endswith("/zh_CN/")  # its canonical addresses are its own pages
        return config.html_theme_options.get("announcement")

    assert banner(False) and "英文" in banner(False)  # said in the language of the page
    assert banner(True) is None
    english = SimpleNamespace(language="en", html_theme_options=dict(site_conf.html_theme_options),
                              html_js_files=list(site_conf.html_js_files), html_baseurl=site_conf.html_baseurl)
    site_conf._choose_language(None, english)
    assert "announcement" not in english.html_theme_options and "zh-search-stemmer.js" not in english.html_js_files


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_site_catalog_keeps_links_and_fields_and_has_every_word_the_script_writes(build_site, language):
    from babel.messages.pofile import read_po

    with (ROOT / "locales" / language / "LC_MESSAGES" / "site.po").open("rb") as file:
        catalog = {message.id: message.string for message in read_po(file) if message.id}
    headers = [build_site.lesson_header(path) for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    for message in [*build_site.SCRIPT_MESSAGES, *(build_site.builds_on(header) for header in headers)]:
        assert message in catalog, f"site.po lacks {message!r}: run python scripts/build_site.py --update-catalog {language}"
    for english, translated in catalog.items():
        if not translated:
            continue
        targets = sorted(target.replace(f"notebooks/{language}/", "notebooks/") for target in
                         re.findall(r"\]\(([^)]+)\)", translated))
        assert targets == sorted(re.findall(r"\]\(([^)]+)\)", english)), f"links changed in the translation of {english!r}"
        assert re.findall(r"\{\w+\}", translated) == re.findall(r"\{\w+\}", english), english
        assert sorted(re.findall(r"\d+", translated)) == sorted(re.findall(r"\d+", english)), english
        if "mybinder.org" in translated:  # Binder opens the translated course
            assert f"notebooks/{language}/" in translated, english


def test_the_completeness_report_counts_the_site_catalog(tmp_path, capsys):
    # issue 26 item 8: a language marked complete may not leave the website's own text untranslated either
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("status_under_test", ROOT / "scripts" / "translation_status.py")
        status = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(status)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    planted = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", planted)
    languages = planted / "languages.toml"
    languages.write_text(re.sub(r"complete = \w+", "complete = true", languages.read_text(encoding="utf-8")),
                         encoding="utf-8")
    for language in TRANSLATED:
        site = planted / language / "LC_MESSAGES" / "site.po"
        site.write_text(re.sub(r'(msgid "Lessons"\nmsgstr )".*"', r'\1""', site.read_text(encoding="utf-8")),
                        encoding="utf-8")
        assert status.catalogs(language, planted)["(website)"] == site
    assert status.main(["--languages-file", str(languages)]) == 1
    assert re.search(r"\(website\)\s+\d+\s+0\s+1\s", capsys.readouterr().out), "the planted gap is not counted"


def test_a_kernel_that_never_started_builds_once_more_and_any_other_failure_fails(build_site, tmp_path, capsys):
    # the load run: another process took a kernel's TCP port ("Address already in use"), the client waited 60 s and
    # the whole site test failed though no lesson did
    flag = tmp_path / "started-once"
    flaky = [sys.executable, "-c", f"import pathlib, sys; f = pathlib.Path({str(flag)!r})\n"
             "if not f.exists():\n    f.touch(); print('RuntimeError: Kernel didn\\'t respond in 60 seconds', "
             "file=sys.stderr); sys.exit(2)"]
    build_site.run_sphinx(flaky)
    assert flag.exists() and "a kernel failed to start" in capsys.readouterr().out
    broken = [sys.executable, "-c", "import sys; print('NameError: name x is not defined', file=sys.stderr); "
              "sys.exit(2)"]
    with pytest.raises(subprocess.CalledProcessError):
        build_site.run_sphinx(broken)
    flag.unlink()
    always = [sys.executable, "-c", "import sys; print('Address already in use', file=sys.stderr); sys.exit(2)"]
    with pytest.raises(subprocess.CalledProcessError):
        build_site.run_sphinx(always)
