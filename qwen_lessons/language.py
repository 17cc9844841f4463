"""The language the package speaks (every lesson; issue 26): English by default, Simplified Chinese from a catalog.

One setting picks it: ``qwen_lessons.set_language("zh_CN")`` (the generated Chinese notebooks call it in their first
code cell) or the environment variable ``QWEN_LESSONS_LANG``. Messages go through ``translate``, imported as ``_()``
(stdlib gettext); the compiled catalogs ship inside the package (``qwen_lessons/locale/<language>/LC_MESSAGES/qwen_lessons.mo``) and are
written from the ``.po`` beside them by ``scripts/translate_notebooks.py --update``. Argument names, model ids,
units and code stay English in every language.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
import sys
from pathlib import Path

DOMAIN = "qwen_lessons"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
ENVIRONMENT_VARIABLE = "QWEN_LESSONS_LANG"
# Matplotlib fonts that cover the Chinese labels, best first (Debian's fonts-noto-cjk provides the first two).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC")

_chosen: str | None = None  # set_language's choice; None: the environment variable, else English
_catalogs: dict[str, gettext.NullTranslations] = {}


def available_languages() -> tuple[str, ...]:
    """English plus every language whose compiled catalog ships in the package."""
    shipped = sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (DEFAULT, *shipped)


def _normalised(language, where: str) -> str:
    """'zh_CN' as given, 'zh-CN' and 'zh-cn' forgiven; anything else is a one-line ValueError naming the choices."""
    choices = available_languages()
    if isinstance(language, str):
        spelled = {code.lower().replace("_", "-"): code for code in choices}
        found = spelled.get(language.strip().lower().replace("_", "-"))
        if found:
            return found
    raise ValueError(f"{where} must be one of {list(choices)}; got {language!r}"[:300])  # one line a widget can show


def set_language(language: str | None) -> None:
    """Speak `language` from now on ('en', 'zh_CN'); None goes back to QWEN_LESSONS_LANG or English.
    (Returns nothing, so the notebook cell that calls it shows nothing; current_language() says what is spoken.)"""
    global _chosen
    _chosen = None if language is None else _normalised(language, "language")
    if "matplotlib" in sys.modules or current_language() != DEFAULT:  # figures drawn from now on have the glyphs
        import matplotlib

        matplotlib.rcParams["font.family"] = figure_fonts()


def current_language() -> str:
    if _chosen is not None:
        return _chosen
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return _normalised(from_environment, ENVIRONMENT_VARIABLE) if from_environment else DEFAULT


def _catalog(language: str) -> gettext.NullTranslations:
    if language not in _catalogs:
        _catalogs[language] = (gettext.NullTranslations() if language == DEFAULT else
                               gettext.translation(DOMAIN, LOCALE_DIR, languages=[language]))
    return _catalogs[language]


def translate(message: str) -> str:
    """`message` in the current language (English when the catalog has no translation for it). Callers import it
    as gettext's conventional `_` (`from qwen_lessons.language import translate as _`), the name
    scripts/translate_notebooks.py looks for when it collects the package's messages."""
    if not isinstance(message, str):
        raise ValueError(f"message must be a string; got {message!r} ({type(message).__name__})"[:300])
    return _catalog(current_language()).gettext(message) if message else message  # gettext("") is the header


_ = translate


@functools.cache
def cjk_font() -> str | None:
    """The first installed matplotlib font that has Chinese glyphs, or None. Matplotlib's font list is cached from
    before a font was installed (apt install fonts-noto-cjk), so the system's CJK font files are added once here."""
    from matplotlib import font_manager

    def first() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    if first() is None:
        for path in font_manager.findSystemFonts():
            if re.search(r"cjk|wqy|sourcehan|yahei|simhei|pingfang", Path(path).name, re.IGNORECASE):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable font file is one font fewer
                    continue
    return first()


_hinted = False


def figure_text(message: str) -> str:
    """A figure's title, axis label or legend entry: translated when a CJK font can draw it, otherwise English with
    one printed hint (a label of empty boxes helps nobody)."""
    global _hinted
    translated = _(message)
    if translated == message or cjk_font():
        return translated
    if not _hinted:
        _hinted = True
        print("Figures stay in English: no Chinese font found (install fonts-noto-cjk, e.g. "
              "`sudo apt install fonts-noto-cjk`, then restart the kernel). 图表保持英文：未找到中文字体。")
    return message


def figure_fonts() -> list[str]:
    """matplotlib's font.family for the current language: the course's sans-serif, then, when Chinese is spoken and a
    CJK font exists, that font, which matplotlib falls back to glyph by glyph (Latin text keeps the course's font)."""
    font = cjk_font() if current_language() != DEFAULT else None
    return ["sans-serif", font] if font else ["sans-serif"]
