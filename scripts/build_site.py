"""Build the course website: every lesson and solution executed, README and docs, all served from one folder.

Usage: python scripts/build_site.py [--out build/site] [--jobs N]

Steps (each one offline except the first, which asks only the npm registry, and only once per checkout):
1. fetch the browser side of ipywidgets (@jupyter-widgets/html-manager), RequireJS and MathJax as npm tarballs
   into build/site-npm/, and unpack the files the pages load into build/site-assets/ (served as _static/);
2. stage the pages into build/site-src/ with the repository's layout (the home page, index.md, is site/landing.md
   with the course map made from each lesson's first cell), so every
   relative link between pages keeps working; a link to a repository file that is not a page points to the
   file on GitHub, and a picture from another host is replaced by its alt text (the site loads nothing remote);
3. put a "run this lesson" box into each staged notebook (Binder JupyterLab at that notebook, the Voilà app when
   the app shows the lesson's calculators, the notebook to download) -- the notebooks in git are not touched;
4. run Sphinx (myst-nb executes every notebook in a fresh kernel and keeps the widget state, so the
   html-manager draws each widget's first state; sphinx-book-theme gives navigation, search and dark mode).

Steps 2-4 run once per language (issue 26): English into build/site/, then each language of locales/languages.toml
into build/site/<language>/ (zh_CN/), from the same tree: the generated notebooks of notebooks/<language>/ stand
at the English lessons' addresses, every other page is the English one put through Sphinx's own i18n with the
site's catalog, locales/<language>/LC_MESSAGES/site.po (which also translates the few words this script writes:
the launch box, the course map, the navigation's captions). Every page links to the same page in the other
languages; a language marked incomplete in locales/languages.toml carries a banner that says so.

Notebooks are found by glob, so a new lesson (notebooks/NN_*.ipynb) or solution is on the site without edits.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from write_badges import BINDER_REF, BINDER_REPO, binder_url
from write_course_lists import builds_on, lesson_header

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
SOURCE = BUILD / "site-src"
ASSETS = BUILD / "site-assets"
NPM_CACHE = BUILD / "site-npm"
DEFAULT_OUT = BUILD / "site"
ENGLISH = "en"  # the source language: the site's root; every other language is a folder beside its pages
LANGUAGES_FILE = ROOT / "locales" / "languages.toml"  # the one place that says which translation is complete
SITE_CATALOG = "site"  # locales/<language>/LC_MESSAGES/site.po: the site's own text (gettext_compact in site/conf.py)
LOCALE_BUILD = BUILD / "site-locales"  # where Sphinx compiles the site catalogs (never into locales/ itself)
# Repository pages a language replaces by its own twin (the Chinese README stands at the README's address).
TWINS = {"zh_CN": {"README.zh-CN.md": "README.md"}}
REPOSITORY_URL = f"https://github.com/{BINDER_REPO}"
# The site's public address on GitHub Pages (https://OWNER.github.io/NAME/), from the same repository name.
_OWNER, _NAME = BINDER_REPO.split("/")
PAGES_URL = f"https://{_OWNER}.github.io/{_NAME}/"
# Exact versions: the site is rebuilt identically until someone raises them. html-manager 1.0.x is the
# browser side of ipywidgets 8 (the state the kernel saves names @jupyter-widgets/controls 2.0.0).
NPM_PACKAGES = {
    "@jupyter-widgets/html-manager": "1.0.15",
    "requirejs": "2.3.8",
    "mathjax": "3.2.2",
}
# MathJax: the CHTML bundle Sphinx loads, the fonts it draws with, the TeX extensions and menu it may load later
MATHJAX_PARTS = ("es5/output/chtml/fonts/woff-v2/", "es5/input/tex/extensions/", "es5/ui/", "es5/adaptors/")
WIDGET_FILES = re.compile(r"embed-amd\.js|[0-9a-f]{20}\.(woff2?|ttf|eot|svg)")  # the bundle and the fonts it loads

LESSONS = "[0-9][0-9]_*.ipynb"
APP_NOTEBOOK = "90_calculators_app.ipynb"
LANDING = ROOT / "site" / "landing.md"  # the home page's text; build_site fills in the course map and the links
DOCS = {  # page -> section of the navigation: a learner's pages first, instructors' and contributors' apart
    "docs/glossary.md": "For learners",
    "docs/troubleshooting.md": "For learners",
    "data/README.md": "For learners",
    "docs/workshop.md": "For instructors",
    "docs/full_room.md": "For instructors",
    "README.md": "For contributors",
    "CONTRIBUTING.md": "For contributors",
    "docs/performance.md": "For contributors",
    "docs/gallery.md": "For contributors",
    "LICENSE-CONTENT.md": "For contributors",
}
# Lessons renumbered into teaching order (issue 25): the old addresses keep working as redirect pages.
MOVED = {f"notebooks/{old}": f"notebooks/{new}" for old, new in {
    "03_fine_tuning": "04_fine_tuning",
    "04_vision_token_budgets": "05_vision_token_budgets",
    "05_choosing_a_tier": "07_choosing_a_tier",
    "06_preference_tuning": "03_preference_tuning",
    "07_audio_token_budgets": "06_audio_token_budgets",
}.items()}
MOVED.update({old.replace("notebooks/", "notebooks/solutions/") + "_solutions":
              new.replace("notebooks/", "notebooks/solutions/") + "_solutions" for old, new in list(MOVED.items())})
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
LIVE_NOTE = ("Widgets on this page show the state they had when the lesson ran; with no Python behind the page, "
             "changing a control here computes nothing. They are live in JupyterLab (on your machine or on Binder) "
             "and in the Voilà app.")


def site_languages() -> dict[str, dict]:
    """English, then each language of locales/languages.toml: its name, its `lang` attribute and whether it is
    complete (an incomplete one is built too, under a banner)."""
    translated = tomllib.loads(LANGUAGES_FILE.read_text(encoding="utf-8"))
    return {ENGLISH: {"name": "English", "html_lang": "en", "complete": True}, **translated}


def staging(language: str = ENGLISH) -> Path:
    """The folder a language's pages and downloads are staged in (English at the top, as the site)."""
    return SOURCE if language == ENGLISH else SOURCE / language


def lesson_notebooks(language: str = ENGLISH) -> list[Path]:
    """Lessons and apps (NN_*.ipynb) then solutions, in course order: whatever is in notebooks/ (or the language's
    generated notebooks/<language>/) now."""
    notebooks = ROOT / "notebooks" if language == ENGLISH else ROOT / "notebooks" / language
    return sorted(notebooks.glob(LESSONS)) + sorted((notebooks / "solutions").glob("*.ipynb"))


def site_pages() -> list[str]:
    """Repository paths of every page of the site (besides the home page, index.md, made from site/landing.md)."""
    return [str(path.relative_to(ROOT)) for path in lesson_notebooks()] + list(DOCS)


def placement(language: str) -> dict[str, str]:
    """Repository path -> the address (as a repository path of the English site) a language's page stands at:
    notebooks/zh_CN/01_family_map.ipynb stands where notebooks/01_family_map.ipynb does, so the same relative
    links and the language switch land on the same lesson."""
    if language == ENGLISH:
        return {}
    placed = {str(path.relative_to(ROOT)): str(path.relative_to(ROOT / "notebooks" / language).as_posix())
              for path in lesson_notebooks(language)}
    placed = {repo: f"notebooks/{site}" for repo, site in placed.items()}
    return placed | TWINS.get(language, {})


def language_pages(language: str) -> list[str]:
    """The site's pages (English repository paths, as site_pages) that exist in `language`: every page in English;
    a translation has every doc (through the site catalog) and each lesson that has a generated notebook."""
    if language == ENGLISH:
        return site_pages()
    notebooks = [site for repo, site in placement(language).items() if repo.startswith("notebooks/")]
    return [page for page in site_pages() if page in notebooks or page in DOCS]


def translator(language: str) -> Callable[[str], str]:
    """gettext over the site catalog, for the words this script writes into pages before Sphinx sees them (Sphinx
    translates the pages' own text with the same catalog). An untranslated or fuzzy message stays English."""
    catalog = ROOT / "locales" / language / "LC_MESSAGES" / f"{SITE_CATALOG}.po"
    if language == ENGLISH or not catalog.exists():
        return lambda message: message
    from babel.messages.pofile import read_po  # Babel comes with Sphinx

    with catalog.open("rb") as file:
        found = {message.id: message.string for message in read_po(file)
                 if message.id and message.string and not message.fuzzy}
    return lambda message: found.get(message, message)


def course_map(language: str = ENGLISH) -> str:
    """The course in teaching order, as a Markdown table made from each lesson's own first cell by the same reader
    that writes lesson 0's map, the README's table and the agenda (scripts/write_course_lists.py). In a translation
    the titles are the generated notebooks' own; times and prerequisites come from the English lesson."""
    _ = translator(language)
    rows = [f"| {_('lesson')} | {_('time')} | {_('builds on')} |", "| --- | --- | --- |"]
    total = 0
    for notebook in sorted((ROOT / "notebooks").glob(LESSONS)):
        header = lesson_header(notebook)
        translated = ROOT / "notebooks" / language / notebook.name
        title = lesson_header(translated)["title"] if language != ENGLISH and translated.exists() else header["title"]
        basis = builds_on(header)
        if notebook.name == APP_NOTEBOOK:
            basis = "the calculators of the lessons, on one page"
        elif header["minutes"]:
            total += int(header["minutes"])
        rows.append(f"| [{header['number']} · {title}](notebooks/{notebook.name}) | "
                    f"{header['minutes'] + ' min' if header['minutes'] else ''} | {_(basis)} |")
    hours, minutes = divmod(total, 60)
    return "\n".join(rows) + "\n\n" + _("The lessons take about {hours} h {minutes} min in all.").format(
        hours=hours, minutes=f"{minutes:02d}")


def learner_command(language: str = ENGLISH) -> str:
    """The README's first command: set up and open the course (the README, or its twin, is its one home)."""
    readme = next((repo for repo, page in TWINS.get(language, {}).items() if page == "README.md"), "README.md")
    return re.search(r"```bash\n(.*?)\n```", (ROOT / readme).read_text(encoding="utf-8"), re.S).group(1)


def landing_page(language: str = ENGLISH) -> str:
    """The home page: site/landing.md with the course map, the Binder link and the install command filled in.
    (Its prose is translated by Sphinx from the site catalog; the Binder links there are the catalog's own.)"""
    return LANDING.read_text(encoding="utf-8").format(
        course_map=course_map(language), learner_command=learner_command(language),
        binder_lab=binder_url("lab/tree/notebooks/00_start_here.ipynb"),
        binder_app=binder_url(f"voila/render/notebooks/{APP_NOTEBOOK}"))


# ------------------------------------------------------------------------------------------------ assets


def fetch_npm_assets() -> None:
    """Unpack the widget manager, RequireJS and MathJax into build/site-assets (tarballs cached in build/site-npm)."""
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    tarballs = {name: NPM_CACHE / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
                for name, version in NPM_PACKAGES.items()}
    missing = [f"{name}@{NPM_PACKAGES[name]}" for name, tarball in tarballs.items() if not tarball.exists()]
    if missing:
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("build_site: npm is needed once, to fetch " + ", ".join(missing) + " (apt-get install npm)")
        subprocess.run([npm, "pack", "--silent", "--pack-destination", str(NPM_CACHE), *missing], check=True,
                       stdout=subprocess.DEVNULL)
    shutil.rmtree(ASSETS, ignore_errors=True)
    wanted = {
        "@jupyter-widgets/html-manager": lambda path: path.startswith("dist/") and WIDGET_FILES.fullmatch(path[5:]),
        "requirejs": lambda path: path == "require.js",
        # the CHTML bundle, its fonts and the TeX extensions it may autoload (not the 4 MB speech engine)
        "mathjax": lambda path: path == "es5/tex-mml-chtml.js" or path.startswith(MATHJAX_PARTS),
    }
    targets = {"@jupyter-widgets/html-manager": "html-manager", "requirejs": "requirejs", "mathjax": "mathjax"}
    for name, tarball in tarballs.items():
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                inside = member.name.removeprefix("package/")
                keep = wanted[name](inside) or inside.lower() in ("license", "license.txt")  # licences travel along
                if member.isfile() and keep:
                    target = ASSETS / targets[name] / inside.removeprefix("dist/").removeprefix("es5/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.extractfile(member).read())


# ------------------------------------------------------------------------------------------------- pages


def rewrite_links(markdown: str, page: str, pages: set[str], pictures: set[str] | None = None,
                  placed: dict[str, str] | None = None) -> str:
    """Keep links between pages; send links to other repository files to GitHub; drop pictures from other hosts.

    `page` is the repository path of the page the text is on. A remote picture becomes its alt text (a Binder
    badge becomes the words "Launch on Binder", still a link), so the built site requests nothing remote. A local
    picture keeps its path; its repository path is added to `pictures`, for the staging step to copy.
    `placed` (see placement()) moves pages of a translation to the English addresses: a local link is then
    written again from where its page stands on the site to where its target stands.
    """
    here = (ROOT / page).parent
    placed = placed or {}
    site_here = posixpath.dirname(placed.get(page, page))

    def local(relative: str, target: str) -> str:
        if not placed:
            return target
        anchor = target.partition("#")[2]
        moved = posixpath.relpath(placed.get(relative, relative), site_here or ".")
        return moved + (f"#{anchor}" if anchor else "")

    def replace(match: re.Match) -> str:
        bang, text, target = match.groups()
        text = LINK.sub(replace, text)  # a badge: a picture inside a link
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            return text if bang else f"[{text}]({target})"
        if target.startswith("#"):
            return f"{bang}[{text}]({target})"
        path, _, anchor = target.partition("#")
        resolved = (here / path).resolve()
        try:
            relative = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return f"{bang}[{text}]({target})"
        if bang and pictures is not None and resolved.is_file():
            pictures.add(relative)
        if bang or placed.get(relative, relative) in pages or not resolved.exists():
            # a local picture (Sphinx copies it into the site), a page of the site, or a broken link Sphinx reports
            return f"{bang}[{text}]({local(relative, target) if resolved.exists() else target})"
        kind = "tree" if resolved.is_dir() else "blob"
        url = f"{REPOSITORY_URL}/{kind}/{BINDER_REF}/{relative}" + (f"#{anchor}" if anchor else "")
        return f"{bang}[{text}]({url})"

    return LINK.sub(replace, markdown)


def app_lessons() -> set[str]:
    """Stems of the lessons whose calculators the Voilà app shows (the app calls `<stem>.<builder>()`)."""
    app = ROOT / "notebooks" / APP_NOTEBOOK
    if not app.exists():
        return set()
    code = "\n".join("".join(cell["source"]) for cell in json.loads(app.read_text(encoding="utf-8"))["cells"]
                     if cell["cell_type"] == "code")
    return set(re.findall(r"\b([a-z][a-z0-9_]*)\.\w+\(", code))


def launch_box(notebook: Path, voila: bool, language: str = ENGLISH) -> str:
    """The "run this lesson" box at the top of a notebook's page, as MyST Markdown (a translation's box opens the
    generated notebook and the app of that language)."""
    _ = translator(language)
    relative = notebook.relative_to(ROOT / "notebooks").as_posix()
    app = APP_NOTEBOOK if language == ENGLISH else f"{language}/{APP_NOTEBOOK}"
    links = [f"[{_('Open in JupyterLab on Binder')}]({binder_url(f'lab/tree/notebooks/{relative}')})"]
    if voila:
        links.append(f"[{_('The calculators in the Voilà app on Binder')}]({binder_url(f'voila/render/notebooks/{app}')})")
    # a plain HTML link: the file sits beside the page (copied by html_extra_path), as stored in git
    download = _("Download the notebook ({name})").format(name=notebook.name)
    links.append(f'<a class="qwen-download" href="{notebook.name}" download>{download}</a>')
    return "\n".join([
        f":::{{admonition}} {_('Run this lesson yourself')}",
        ":class: tip qwen-launch",
        _(LIVE_NOTE),
        "",
        " · ".join(links),
        ":::",
    ])


FIGURE_CAPTION = re.compile(r"\*(?:Figure:|图：)\s*(.+?)\*[ \t]*(?:\n|$)", re.S)  # a line (or lines) of its own


def plain_text(markdown: str) -> str:
    """Markdown as a screen reader should say it: links become their words, emphasis and code marks go."""
    text = LINK.sub(lambda match: match.group(2), markdown)
    return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text)).strip()


def figure_alt_texts(cells: list[dict]) -> dict[int, str]:
    """Alt text for the figures of code cells: the '*Figure: ...*' description a lesson gives right after a figure
    cell (or right before it; tests/test_accessibility.py requires one beside every figure), by cell index."""
    def caption(index: int) -> str | None:
        if 0 <= index < len(cells) and cells[index]["cell_type"] == "markdown":
            match = FIGURE_CAPTION.search("".join(cells[index]["source"]))
            return plain_text(match.group(1)) if match else None
        return None

    found = {}
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and (alt := caption(index + 1) or caption(index - 1)):
            found[index] = alt
    return found


def stage_notebook(notebook: Path, voila_stems: set[str], pages: set[str], pictures: set[str] | None = None,
                   language: str = ENGLISH) -> None:
    relative = notebook.relative_to(ROOT)
    placed = placement(language)
    address = Path(placed.get(str(relative), str(relative)))  # where the page stands on the (language's) site
    content = json.loads(notebook.read_text(encoding="utf-8"))
    for index, alt in figure_alt_texts(content["cells"]).items():  # myst-nb writes it as the figure's alt
        content["cells"][index].setdefault("metadata", {}).setdefault("mystnb", {})["image"] = {"alt": alt}
    for cell in content["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite_links("".join(cell["source"]), str(relative), pages, pictures, placed)
    stem = re.sub(r"^\d\d_", "", notebook.stem).removesuffix("_solutions")
    voila = notebook.name == APP_NOTEBOOK or (stem in voila_stems and "solutions" not in relative.parts)
    box = {"cell_type": "markdown", "id": "qwen-launch", "metadata": {},
           "source": launch_box(notebook, voila, language)}
    content["cells"].insert(1 if content["cells"] and content["cells"][0]["cell_type"] == "markdown" else 0, box)
    staged = staging(language)
    for folder in ("pages", "downloads"):
        (staged / folder / address).parent.mkdir(parents=True, exist_ok=True)
    (staged / "pages" / address).write_text(json.dumps(content, indent=1), encoding="utf-8")
    shutil.copyfile(notebook, staged / "downloads" / address)  # the download is the notebook as stored in git


def toctree(caption: str, entries: list[str]) -> str:
    lines = [":::{toctree}", f":caption: {caption}", ":maxdepth: 1", ":hidden:", ""]
    return "\n".join(lines + [entry.rsplit(".", 1)[0] for entry in entries] + [":::", ""])


def stage_pages(language: str = ENGLISH) -> list[str]:
    """Write a language's sources into build/site-src[/<language>]/pages; return the (English) repository paths of
    its pages."""
    staged = staging(language)
    for folder in ("pages", "downloads"):
        shutil.rmtree(staged / folder, ignore_errors=True)
    pages = language_pages(language)
    page_set = set(pages)
    twins = {page: repo for repo, page in TWINS.get(language, {}).items()}
    voila_stems = app_lessons()
    pictures: set[str] = set()
    for notebook in lesson_notebooks(language):
        stage_notebook(notebook, voila_stems, page_set, pictures, language)
    for page in DOCS:
        source = twins.get(page, page)
        target = staged / "pages" / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite_links((ROOT / source).read_text(encoding="utf-8"), source, page_set, pictures,
                                        placement(language)), encoding="utf-8")
    _ = translator(language)
    lessons = [page for page in pages if page.startswith("notebooks/") and "/solutions/" not in page]
    solutions = [page for page in pages if "/solutions/" in page]
    sections = {"Lessons": lessons, "For learners": [], "Solutions": solutions}
    for page, section in DOCS.items():
        sections.setdefault(section, []).append(page)
    home = rewrite_links(landing_page(language), "index.md", page_set, pictures)
    for picture in pictures:  # beside the staged pages, where their relative paths point
        (staged / "pages" / picture).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / picture, staged / "pages" / picture)
    home += "\n" + "\n".join(toctree(_(caption), entries) for caption, entries in sections.items())
    (staged / "pages" / "index.md").write_text(home, encoding="utf-8")
    return pages


# ------------------------------------------------------------------------------------------------- build


def sphinx_output(out: Path, language: str) -> Path:
    """Where Sphinx writes a language's pages. A translation is built beside the site and moved into it after:
    myst-nb keeps its executed notebooks next to Sphinx's output folder, which must not be inside the site."""
    return out if language == ENGLISH else BUILD / f"site-{language}" / "html"


# A kernel that never started: on a crowded machine another process can take the TCP port jupyter_client chose
# before the kernel binds it ("Address already in use"), and the notebook client then waits out its 60 s. Nothing in
# the lesson failed, so the build runs once more, saying why; any other failure fails at once.
KERNEL_START_FAILURES = ("Kernel didn't respond in", "Kernel died before replying", "Address already in use")


def run_sphinx(command: list[str], attempts: int = 2) -> None:
    """Run one Sphinx build, its messages passed on; again (once) only if a kernel failed to start."""
    for attempt in range(1, attempts + 1):
        sphinx = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        said = []
        for line in sphinx.stderr:  # each kernel says it talks TCP on loopback: true, harmless, and 13 times over
            if "Kernel is running over TCP without encryption" not in line:
                sys.stderr.write(line)
                said.append(line)
        if not sphinx.wait():
            return
        cause = next((marker for marker in KERNEL_START_FAILURES if any(marker in line for line in said)), None)
        if cause is None or attempt == attempts:
            raise subprocess.CalledProcessError(sphinx.returncode, command)
        print(f"build_site: a kernel failed to start ({cause!r}), not a lesson: building once more", flush=True)


def build(out: Path, jobs: str, languages: list[str] | None = None) -> dict[str, float]:
    """Stage, then run Sphinx into `out` once per language (English first, each translation into out/<language>);
    return the seconds each language took."""
    fetch_npm_assets()
    languages = languages or list(site_languages())
    if ENGLISH in languages:  # the whole site anew; a translation alone replaces only its own folder
        shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(LOCALE_BUILD, ignore_errors=True)
    seconds = {}
    for language in languages:
        start = time.perf_counter()
        pages = stage_pages(language)
        catalog = ROOT / "locales" / language / "LC_MESSAGES" / f"{SITE_CATALOG}.po"
        if catalog.exists():  # Sphinx compiles it beside itself: a copy, so nothing is written into locales/
            (LOCALE_BUILD / language / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(catalog, LOCALE_BUILD / language / "LC_MESSAGES" / catalog.name)
        target = sphinx_output(out, language)
        shutil.rmtree(target, ignore_errors=True)
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-j", jobs,
                   "-c", str(ROOT / "site"), "-d", str(BUILD / "site-doctrees" / language), "-E",
                   "-D", f"language={language}", str(staging(language) / "pages"), str(target)]
        run_sphinx(command)
        if target != out:
            shutil.rmtree(out / language, ignore_errors=True)
            shutil.move(target, out / language)
        seconds[language] = time.perf_counter() - start
        print(f"build_site: {language}: {len(pages) + 1} pages in "
              f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}{'' if target == out else '/' + language}"
              f" in {seconds[language]:.0f} s")
    write_redirects(out)
    return seconds


# The words this script writes into pages (besides the home page's text, which Sphinx extracts).
SCRIPT_MESSAGES = ("Run this lesson yourself", LIVE_NOTE, "Open in JupyterLab on Binder",
                   "The calculators in the Voilà app on Binder", "Download the notebook ({name})",
                   "lesson", "time", "builds on", "the calculators of the lessons, on one page",
                   "The lessons take about {hours} h {minutes} min in all.",
                   "Lessons", "For learners", "Solutions", "For instructors", "For contributors",
                   "This translation is not complete yet: some pages and paragraphs are still in English.")
COURSE_MAP_ROW = re.compile(r"^\[\d\d · [^\]]*\]\(notebooks/[^)]*\)$|^\d+ min$|^The lessons take about")  # per language


CATALOG_HEADER = ("# The course website's own text (issue 26): the home page and the words scripts/build_site.py writes.\n"
                  "# Merged from the English by `python scripts/build_site.py --update-catalog LANGUAGE`; content CC BY 4.0.")


def update_catalog(language: str) -> Path:
    """Merge the site's English text into locales/<language>/LC_MESSAGES/site.po, as msgmerge would (a new message
    gets an empty translation, a changed one keeps its old translation marked fuzzy, a removed one goes): the home
    page's text as Sphinx's gettext builder extracts it (no notebook executed), and SCRIPT_MESSAGES."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    stage_pages(ENGLISH)
    extract = BUILD / "site-gettext"
    shutil.rmtree(extract, ignore_errors=True)
    (extract / "src").mkdir(parents=True)
    shutil.copyfile(SOURCE / "pages" / "index.md", extract / "src" / "index.md")
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "gettext", "-q", "-c", str(ROOT / "site"),
                    "-D", "nb_execution_mode=off", str(extract / "src"), str(extract / "out")],
                   check=True, stderr=subprocess.DEVNULL)  # warnings: the home page alone links pages not staged
    with (extract / "out" / f"{SITE_CATALOG}.pot").open("rb") as file:
        extracted = [message.id for message in read_po(file) if message.id]
    headers = [lesson_header(path) for path in sorted((ROOT / "notebooks").glob(LESSONS))]
    wanted = [*SCRIPT_MESSAGES, *(message for message in extracted if not COURSE_MAP_ROW.search(message)),
              *(builds_on(header) for header in headers)]
    template = Catalog(project="qwen-lessons", fuzzy=False)
    for message in dict.fromkeys(wanted):
        template.add(message)
    path = ROOT / "locales" / language / "LC_MESSAGES" / f"{SITE_CATALOG}.po"
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
    else:
        catalog = Catalog(locale=language, project="qwen-lessons", fuzzy=False, header_comment=CATALOG_HEADER)
    catalog.update(template, no_fuzzy_matching=False)
    catalog.obsolete.clear()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=0, omit_header=False, sort_output=False, include_lineno=False)
    return path


def write_redirects(out: Path) -> None:
    """An HTML page at each old lesson address that sends the reader to the lesson's new one (no script needed)."""
    for old, new in MOVED.items():
        target = Path(new).name + ".html"  # old and new pages sit in the same folder
        page = out / f"{old}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Moved to {Path(new).name}</title>"
            f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">"
            f"<link rel=\"canonical\" href=\"{target}\"></head>"
            f"<body><p>This lesson is now <a href=\"{target}\">{Path(new).name}</a>.</p></body></html>\n",
            encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/site)")
    parser.add_argument("--jobs", default="auto", help="Sphinx parallel jobs (notebooks executed at once)")
    parser.add_argument("--language", action="append", choices=list(site_languages()),
                        help="build only this language (repeatable; default: English and every translation)")
    parser.add_argument("--update-catalog", metavar="LANGUAGE", choices=[code for code in site_languages()
                                                                         if code != ENGLISH],
                        help="only merge the site's English text into locales/LANGUAGE/LC_MESSAGES/site.po")
    args = parser.parse_args(argv)
    if args.update_catalog:
        print(f"build_site: updated {update_catalog(args.update_catalog).relative_to(ROOT)}")
        return 0
    try:
        build(args.out.resolve(), args.jobs, args.language)
    except subprocess.CalledProcessError as error:
        print(f"build_site: Sphinx failed (exit {error.returncode}); see the messages above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
