"""Benchmarks for every lesson's foundation: reading all tables in data/ by their schemas (issue 12), and the cost
of the validation layer on a public function called many times."""

from __future__ import annotations

from run import Case


def cases() -> list[Case]:
    from qwen_lessons import data, vision
    from qwen_lessons.schemas import SCHEMAS

    def read_every_table_uncached():
        data.clear_caches()
        rows = sum(len(data.read_table(name)) for name in SCHEMAS)
        return {"tables": str(len(SCHEMAS)), "rows": f"{rows:,}"}

    def checked_calls():
        for side in range(28, 10_028):
            vision.image_tokens(side, side)

    return [
        Case("all data/ tables read and checked by their schemas (uncached)", 1.0, read_every_table_uncached, repeats=5),
        Case("10,000 checked public calls (image_tokens, arguments validated)", 1.0, checked_calls, repeats=5),
    ]
