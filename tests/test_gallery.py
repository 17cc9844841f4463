"""The review gallery lays out every picture the tests made, grouped by notebook (issue 13)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("write_gallery", ROOT / "scripts" / "write_gallery.py")
write_gallery = importlib.util.module_from_spec(spec)
spec.loader.exec_module(write_gallery)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf500f0003860180"
                    "5a347d6b0000000049454e44ae426082")


def test_gallery_shows_every_state_and_figure_under_its_notebook(tmp_path):
    (tmp_path / "figures").mkdir()
    names = ["browser_04_fine_tuning_before.png", "browser_04_fine_tuning_after.png",
             "browser_90_calculators_app_voila_tier_wizard.png", "figures/04_fine_tuning_01.png",
             "figures/solutions_04_fine_tuning_solutions_01.png"]
    for name in names:
        (tmp_path / name).write_bytes(PNG)
    page = write_gallery.write_gallery(tmp_path).read_text(encoding="utf-8")
    for name in names:
        assert f"src='{name}'" in page, f"{name} is missing from the gallery"
    assert "<h2 id='solutions_04_fine_tuning_solutions'>" in page
    assert "2 figures" in page and "3 widget states" in page
    assert "<h2 id='04_fine_tuning'>" in page and "<h2 id='90_calculators_app'>" in page


def test_no_pictures_no_page(tmp_path):
    assert write_gallery.write_gallery(tmp_path) is None
    assert not (tmp_path / "gallery.html").exists()
