"""Sphinx configuration of the course website (built by scripts/build_site.py; see README, "Read it as a website").

Sphinx + myst-nb + sphinx-book-theme: everything the pages load (theme, fonts, search index, the ipywidgets HTML
manager, RequireJS, MathJax) is served from the site itself. Jupyter Book 2 was not used: it downloads its
theme from the network while building.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))  # the build script's constants: one place for the repository's name

from build_site import ASSETS, PAGES_URL, REPOSITORY_URL, SOURCE  # noqa: E402

project = "qwen-lessons"
author = "The qwen-lessons authors"
copyright = "the qwen-lessons authors; content CC BY 4.0, code MIT"
root_doc = "index"
extensions = ["myst_nb"]
exclude_patterns = ["**/.ipynb_checkpoints"]

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
html_extra_path = [str(SOURCE / "downloads")]   # each notebook beside its page, as stored in git, to download
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
}
