"""Repository hygiene for reuse: a code licence, a content licence, a citation file, and the README saying which
covers what (issue 13: an instructor must know what they may copy into their own course)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_code_licence_matches_the_package_metadata():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]["text"]
    assert licence.startswith(f"{declared} License"), "LICENSE and pyproject.toml name different licences"
    assert re.search(r"Copyright \(c\) \d{4}", licence)


def test_content_licence_links_the_legal_code_and_names_what_it_excludes():
    text = (ROOT / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "https://creativecommons.org/licenses/by/4.0/legalcode" in text
    for excluded in ("MIT", "data/", "weights"):
        assert excluded in text, f"the content licence does not say how it treats {excluded}"


def test_citation_file_is_valid_cff_with_the_package_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert citation["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "license"} <= citation.keys()
    assert citation["version"] == version, "CITATION.cff and pyproject.toml disagree on the version"


def test_readme_says_which_licence_covers_what():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Licence and citation", 1)[1]
    for link in ("(LICENSE)", "(LICENSE-CONTENT.md)", "(CITATION.cff)"):
        assert link in section
