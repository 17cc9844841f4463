"""Write screenshots/gallery.html: every widget state the browser tests photographed and every figure the
notebook-runs test drew, on one page, for an instructor to review in one scroll (issue 13).

The pictures are made by the tests (`pytest tests/test_notebook_runs.py` and the browser tests); this script
only lays them out. The tests call it at the end of a session, so the page is current after any run.

    python scripts/write_gallery.py [screenshots-folder]
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


NOTEBOOK_NAMES = sorted(("_".join(path.relative_to(ROOT / "notebooks").with_suffix("").parts)
                         for path in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts),
                        key=len, reverse=True)


def notebook_of(picture: Path) -> str:
    """The notebook a picture belongs to: the longest notebook name (solutions_<stem> for a solution) that starts
    its file name, after the browser_ prefix; "other" when none does."""
    name = picture.stem.removeprefix("browser_")
    return next((notebook for notebook in NOTEBOOK_NAMES if name.startswith(notebook)), "other")


def write_gallery(folder: Path) -> Path | None:
    """Lay out folder/*.png (widget states) and folder/figures/*.png by notebook; None when there is nothing."""
    states = sorted(folder.glob("*.png"))
    figures = sorted((folder / "figures").glob("*.png"))
    if not states and not figures:
        return None
    sections: dict[str, list[tuple[str, Path]]] = {}
    for kind, pictures in (("widget", states), ("figure", figures)):
        for picture in pictures:
            sections.setdefault(notebook_of(picture), []).append((kind, picture))
    body = []
    for notebook in sorted(sections):
        body.append(f"<h2 id='{html.escape(notebook)}'>{html.escape(notebook)}</h2><div class='row'>")
        for kind, picture in sections[notebook]:
            relative = picture.relative_to(folder).as_posix()
            caption = f"{kind}: {picture.stem}"
            body.append(f"<figure><a href='{html.escape(relative)}'><img src='{html.escape(relative)}' "
                        f"alt='{html.escape(caption)}' loading='lazy'></a>"
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        body.append("</div>")
    contents = " · ".join(f"<a href='#{html.escape(n)}'>{html.escape(n)}</a>" for n in sorted(sections))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qwen-lessons review gallery</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.row {{ display: flex; flex-wrap: wrap; gap: 1rem; }}
figure {{ margin: 0; width: 420px; }}
img {{ width: 100%; border: 1px solid #ccc; }}
figcaption {{ font-size: 0.85rem; color: #444; }}
</style></head><body>
<h1>Review gallery: {len(states)} widget states, {len(figures)} figures</h1>
<p>Made by the test suite; click a picture for full size. {contents}</p>
{''.join(body)}
</body></html>
"""
    path = folder / "gallery.html"
    path.write_text(page, encoding="utf-8")
    return path


if __name__ == "__main__":
    written = write_gallery(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots")
    print(written or "no pictures yet: run the tests first")
