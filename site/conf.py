"""Sphinx configuration of the course website (built by scripts/build_site.py; see README, "Read it as a website").

Sphinx + myst-nb + sphinx-book-theme: everything the pages load (theme, fonts, search index, the ipywidgets HTML
manager, RequireJS, MathJax) is served from the site itself. Jupyter Book 2 was not used: it downloads its
theme from the network while building.

One configuration for every language: the build script passes `-D language=<code>`; setup() below then picks the
language's staged downloads, its `lang` attribute, the banner of an incomplete translation (locales/languages.toml
decides) and the language switch on every page (site/_templates/language-switch.html).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))  # the build script's constants: one place for the repository's name

from build_site import (  # noqa: E402
    ASSETS,
    ENGLISH,
    LOCALE_BUILD,
    PAGES_URL,
    REPOSITORY_URL,
    SITE_CATALOG,
    language_pages,
    site_languages,
    staging,
    translator,
)

project = "qwen-lessons"
author = "The qwen-lessons authors"
copyright = "the qwen-lessons authors; content CC BY 4.0, code MIT"
root_doc = "index"
extensions = ["myst_nb"]
exclude_patterns = ["**/.ipynb_checkpoints"]
templates_path = ["_templates"]
# ---- languages: Sphinx's own i18n translates a translation's pages with ONE catalog, locales/<code>/LC_MESSAGES/
# site.po (copied by the build script to build/site-locales, where Sphinx compiles it)
locale_dirs = [str(LOCALE_BUILD)]
gettext_compact = SITE_CATALOG

# ---- notebooks: executed at build time (git stores none of their outputs), widget state kept for the page
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True   # a lesson that fails to run fails the build instead of showing a traceback
nb_execution_show_tb = True
nb_merge_streams = True
# The browser side of ipywidgets, served from _static (copied from npm by the build script): no CDN.
# widgets-require-config.js (site/_static) points the manager's modules at the folder with its icon fonts.
nb_ipywidgets_js = {"requirejs/require.js": {}, "widgets-require-config.js": {}, "html-manager/embed-amd.js": {}}
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3   # links such as workshop.md#when-binder-is-slow-or-full

# ---- HTML: local MathJax, local theme assets, nothing from another host
mathjax_path = "mathjax/tex-mml-chtml.js"
html_theme = "sphinx_book_theme"
html_title = "qwen-lessons"
html_baseurl = PAGES_URL
html_static_path = [str(ASSETS), "_static"]
html_css_files = ["site.css"]
html_js_files = ["name-sliders.js"]   # a name for each slider handle a screen reader can read (see the file)
html_favicon = "_static/favicon.svg"   # drawn for the course (site/_static), no third-party artwork
html_extra_path = []   # each notebook beside its page, as stored in git, to download (set per language below)
html_copy_source = False
html_show_sourcelink = False
html_context = {"default_mode": "auto"}   # light or dark as the reader's system says; a toggle in the header
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "use_repository_button": True,
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    # one search box: the sidebar's. The theme also puts a search field in the page header (and a second one for
    # narrow screens); the header's search button on the article bar stays for phones.
    "navbar_persistent": [],
    # the language switch first, then the theme's own buttons (full screen, dark mode, search, contents)
    "article_header_end": ["language-switch.html", "article-header-buttons.html"],
}


def _choose_language(app, config) -> None:
    """What depends on the language being built: its downloads, its public address, and the banner while it is
    incomplete."""
    language = config.language or ENGLISH
    config.html_extra_path = [str(staging(language) / "downloads")]
    if language != ENGLISH:  # each page's canonical address is its own, in the language's folder
        config.html_baseurl = f"{PAGES_URL}{language}/"
    if language.startswith("zh"):  # Sphinx's Chinese search names a stemmer it never defines (see the file)
        config.html_js_files = [*config.html_js_files, "zh-search-stemmer.js"]
    if not site_languages()[language]["complete"]:
        banner = translator(language)("This translation is not complete yet: some pages and paragraphs are still "
                                      "in English.")
        config.html_theme_options = {**config.html_theme_options, "announcement": banner}


def _language_switch(app, pagename, templatename, context, doctree) -> None:
    """The page's `lang` (zh-CN, not Sphinx's zh_CN) and, for the switch, the same page in every other language
    (that language's home page when it lacks this one)."""
    here = app.config.language or ENGLISH
    languages = site_languages()
    context["language"] = languages[here]["html_lang"]
    to_root = "../" * pagename.count("/") + ("" if here == ENGLISH else "../")
    switches = []
    for code, settings in languages.items():
        if code == here:
            continue
        pages = {page.rsplit(".", 1)[0] for page in language_pages(code)}
        course = {page.rsplit(".", 1)[0] for page in language_pages(ENGLISH)}
        target = pagename if pagename in pages or pagename not in course else "index"  # search, genindex: in all
        switches.append({"href": to_root + ("" if code == ENGLISH else f"{code}/") + target + ".html",
                         "name": settings["name"], "lang": settings["html_lang"]})
    context["qwen_languages"] = switches


def setup(app):
    app.connect("config-inited", _choose_language)
    app.connect("html-page-context", _language_switch)
