"""How complete each translation is (issue 26): translated / fuzzy / untranslated messages per notebook catalog,
for the package's catalog and the website's, and the words translated.

Usage: python scripts/translation_status.py [--languages-file PATH]

Exit code 1 when a language marked complete in locales/languages.toml has any untranslated or fuzzy message (so a new
English paragraph needs its translation in the same change, or the language is marked incomplete there, which the
website shows as a banner). Languages marked incomplete are reported and never fail.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translate_notebooks as tn  # noqa: E402  (the sibling script owns the catalog paths)


def counts(catalog: polib.POFile) -> dict[str, int]:
    live = [entry for entry in catalog if not entry.obsolete]
    return {"translated": sum(1 for e in live if e.msgstr and not e.fuzzy),
            "fuzzy": sum(1 for e in live if e.fuzzy),
            "untranslated": sum(1 for e in live if not e.msgstr and not e.fuzzy),
            "words": sum(len(e.msgid.split()) for e in live if e.msgstr and not e.fuzzy)}


def catalogs(language: str, locales: Path = tn.LOCALES, package: Path = tn.PACKAGE) -> dict[str, Path]:
    found = {path.stem: path for path in sorted((locales / language / "LC_MESSAGES" / "notebooks").glob("*.po"))}
    found["(package messages)"] = tn.package_catalog_path(language, package)
    site = locales / language / "LC_MESSAGES" / "site.po"  # the website's home page and navigation (build_site.py)
    if site.exists():
        found["(website)"] = site
    return found


def report(language: str, complete: bool, locales: Path = tn.LOCALES, package: Path = tn.PACKAGE) -> bool:
    """Print the table for one language; return False when it is marked complete but is not."""
    print(f"{language} ({'complete' if complete else 'incomplete: the website shows a banner'})")
    print(f"  {'catalog':40} {'translated':>10} {'fuzzy':>6} {'untranslated':>12} {'words':>6}")
    total = dict.fromkeys(("translated", "fuzzy", "untranslated", "words"), 0)
    for name, path in catalogs(language, locales, package).items():
        found = counts(polib.pofile(str(path))) if path.exists() else dict(total, untranslated=1)
        total = {key: total[key] + found[key] for key in total}
        print(f"  {name:40} {found['translated']:>10} {found['fuzzy']:>6} {found['untranslated']:>12} {found['words']:>6}")
    print(f"  {'total':40} {total['translated']:>10} {total['fuzzy']:>6} {total['untranslated']:>12} {total['words']:>6}")
    missing = total["fuzzy"] + total["untranslated"]
    if complete and missing:
        print(f"  {language} is marked complete in locales/languages.toml but {missing} message(s) are untranslated or"
              " fuzzy: translate them, or set complete = false there")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages-file", type=Path, default=tn.LANGUAGES_FILE)
    args = parser.parse_args(argv)
    languages = tomllib.loads(args.languages_file.read_text(encoding="utf-8"))
    results = [report(code, bool(settings.get("complete")), args.languages_file.parent)
               for code, settings in sorted(languages.items())]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
