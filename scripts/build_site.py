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

Notebooks are found by glob, so a new lesson (notebooks/NN_*.ipynb) or solution is on the site without edits.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from write_badges import BINDER_REF, BINDER_REPO, binder_url
from write_course_lists import builds_on, lesson_header

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
SOURCE = BUILD / "site-src"
ASSETS = BUILD / "site-assets"
NPM_CACHE = BUILD / "site-npm"
DEFAULT_OUT = BUILD / "site"
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


def lesson_notebooks() -> list[Path]:
    """Lessons and apps (NN_*.ipynb) then solutions, in course order: whatever is in notebooks/ now."""
    notebooks = ROOT / "notebooks"
    return sorted(notebooks.glob(LESSONS)) + sorted((notebooks / "solutions").glob("*.ipynb"))


def site_pages() -> list[str]:
    """Repository paths of every page of the site (besides the home page, index.md, made from site/landing.md)."""
    return [str(path.relative_to(ROOT)) for path in lesson_notebooks()] + list(DOCS)


def course_map() -> str:
    """The course in teaching order, as a Markdown table made from each lesson's own first cell by the same reader
    that writes lesson 0's map, the README's table and the agenda (scripts/write_course_lists.py)."""
    rows = ["| lesson | time | builds on |", "| --- | --- | --- |"]
    total = 0
    for notebook in sorted((ROOT / "notebooks").glob(LESSONS)):
        header = lesson_header(notebook)
        basis = builds_on(header)
        if notebook.name == APP_NOTEBOOK:
            basis = "the calculators of the lessons, on one page"
        elif header["minutes"]:
            total += int(header["minutes"])
        rows.append(f"| [{header['number']} · {header['title']}](notebooks/{notebook.name}) | "
                    f"{header['minutes'] + ' min' if header['minutes'] else ''} | {basis} |")
    hours, minutes = divmod(total, 60)
    return "\n".join(rows) + f"\n\nThe lessons take about {hours} h {minutes:02d} min in all."


def learner_command() -> str:
    """The README's first command: set up and open the course (the README is its one home)."""
    return re.search(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)


def landing_page() -> str:
    """The home page: site/landing.md with the course map, the Binder link and the install command filled in."""
    return LANDING.read_text(encoding="utf-8").format(
        course_map=course_map(), learner_command=learner_command(),
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


def rewrite_links(markdown: str, page: str, pages: set[str], pictures: set[str] | None = None) -> str:
    """Keep links between pages; send links to other repository files to GitHub; drop pictures from other hosts.

    `page` is the repository path of the page the text is on. A remote picture becomes its alt text (a Binder
    badge becomes the words "Launch on Binder", still a link), so the built site requests nothing remote. A local
    picture keeps its path; its repository path is added to `pictures`, for the staging step to copy.
    """
    here = (ROOT / page).parent

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
        if bang or relative in pages or not resolved.exists():
            # a local picture (Sphinx copies it into the site), a page of the site, or a broken link Sphinx reports
            return f"{bang}[{text}]({target})"
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


def launch_box(notebook: Path, voila: bool) -> str:
    """The "run this lesson" box at the top of a notebook's page, as MyST Markdown."""
    relative = notebook.relative_to(ROOT / "notebooks").as_posix()
    links = [f"[Open in JupyterLab on Binder]({binder_url(f'lab/tree/notebooks/{relative}')})"]
    if voila:
        links.append(f"[The calculators in the Voilà app on Binder]({binder_url(f'voila/render/notebooks/{APP_NOTEBOOK}')})")
    # a plain HTML link: the file sits beside the page (copied by html_extra_path), as stored in git
    links.append(f'<a class="qwen-download" href="{notebook.name}" download>Download the notebook ({notebook.name})</a>')
    return "\n".join([
        ":::{admonition} Run this lesson yourself",
        ":class: tip qwen-launch",
        LIVE_NOTE,
        "",
        " · ".join(links),
        ":::",
    ])


FIGURE_CAPTION = re.compile(r"\*Figure:\s*(.+?)\*[ \t]*(?:\n|$)", re.S)  # a line (or lines) of its own


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


def stage_notebook(notebook: Path, voila_stems: set[str], pages: set[str], pictures: set[str] | None = None) -> None:
    relative = notebook.relative_to(ROOT)
    content = json.loads(notebook.read_text(encoding="utf-8"))
    for index, alt in figure_alt_texts(content["cells"]).items():  # myst-nb writes it as the figure's alt
        content["cells"][index].setdefault("metadata", {}).setdefault("mystnb", {})["image"] = {"alt": alt}
    for cell in content["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = rewrite_links("".join(cell["source"]), str(relative), pages, pictures)
    stem = re.sub(r"^\d\d_", "", notebook.stem).removesuffix("_solutions")
    voila = notebook.name == APP_NOTEBOOK or (stem in voila_stems and "solutions" not in relative.parts)
    box = {"cell_type": "markdown", "id": "qwen-launch", "metadata": {}, "source": launch_box(notebook, voila)}
    content["cells"].insert(1 if content["cells"] and content["cells"][0]["cell_type"] == "markdown" else 0, box)
    for folder in ("pages", "downloads"):
        (SOURCE / folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (SOURCE / "pages" / relative).write_text(json.dumps(content, indent=1), encoding="utf-8")
    shutil.copyfile(notebook, SOURCE / "downloads" / relative)  # the download is the notebook as stored in git


def toctree(caption: str, entries: list[str]) -> str:
    lines = [":::{toctree}", f":caption: {caption}", ":maxdepth: 1", ":hidden:", ""]
    return "\n".join(lines + [entry.rsplit(".", 1)[0] for entry in entries] + [":::", ""])


def stage_pages() -> list[str]:
    """Write the site's sources into build/site-src/pages; return the repository paths of the pages."""
    shutil.rmtree(SOURCE, ignore_errors=True)
    pages = site_pages()
    page_set = set(pages)
    voila_stems = app_lessons()
    pictures: set[str] = set()
    for notebook in lesson_notebooks():
        stage_notebook(notebook, voila_stems, page_set, pictures)
    for page in DOCS:
        target = SOURCE / "pages" / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite_links((ROOT / page).read_text(encoding="utf-8"), page, page_set, pictures),
                          encoding="utf-8")
    lessons = [page for page in pages if page.startswith("notebooks/") and "/solutions/" not in page]
    solutions = [page for page in pages if "/solutions/" in page]
    sections = {"Lessons": lessons, "For learners": [], "Solutions": solutions}
    for page, section in DOCS.items():
        sections.setdefault(section, []).append(page)
    home = rewrite_links(landing_page(), "index.md", page_set, pictures)
    for picture in pictures:  # beside the staged pages, where their relative paths point
        (SOURCE / "pages" / picture).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / picture, SOURCE / "pages" / picture)
    home += "\n" + "\n".join(toctree(caption, entries) for caption, entries in sections.items())
    (SOURCE / "pages" / "index.md").write_text(home, encoding="utf-8")
    return pages


# ------------------------------------------------------------------------------------------------- build


def build(out: Path, jobs: str) -> float:
    """Stage, then run Sphinx into `out`; return the seconds it took."""
    start = time.perf_counter()
    fetch_npm_assets()
    pages = stage_pages()
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-j", jobs,
               "-c", str(ROOT / "site"), "-d", str(BUILD / "site-doctrees"), "-E",
               str(SOURCE / "pages"), str(out)]
    sphinx = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    for line in sphinx.stderr:  # each kernel says it talks TCP on loopback: true, harmless, and 13 times over
        if "Kernel is running over TCP without encryption" not in line:
            sys.stderr.write(line)
    if sphinx.wait():
        raise subprocess.CalledProcessError(sphinx.returncode, command)
    write_redirects(out)
    seconds = time.perf_counter() - start
    print(f"build_site: {len(pages) + 1} pages in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
          f"in {seconds:.0f} s")
    return seconds


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
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), args.jobs)
    except subprocess.CalledProcessError as error:
        print(f"build_site: Sphinx failed (exit {error.returncode}); see the messages above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
