"""Objects, not ids (issue 28): the wizards iterate the catalog resolved once per table version.

A tier-wizard or laptop-wizard call normalises no model id (no id was typed: the catalog's are resolved when the view
is built, once per version of its tables); a calculator given an id a learner typed normalises it once; the laptop
widget computes its options once per update; the view agrees with the id-by-id lookups it replaces and follows an
edited table.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from qwen_lessons import catalog, catalog_view, local_runtime, memory, models, tiers
from qwen_lessons.data import DATA_ENV_VAR, data_dir

from data_copies import record_manifest


@pytest.fixture()
def normalisations(monkeypatch):
    """A list that grows by one id each time the package normalises a model id."""
    seen: list = []
    real = models.normalize_model_id

    def counting(model_id):
        seen.append(model_id)
        return real(model_id)

    monkeypatch.setattr(models, "normalize_model_id", counting)
    return seen


WIZARD_CALLS = [
    lambda: tiers.recommend(),
    lambda: tiers.recommend(min_score=0),
    lambda: tiers.recommend("code", tiers.PURPOSES[1], "a100-80gb", min_score=0),
    lambda: tiers.recommend("image", min_score=0),
    lambda: tiers.recommend("audio", tiers.PURPOSES[1], "apple-m4-16gb", min_score=0),
    lambda: local_runtime.laptop_answer("rtx-3060-12gb"),
    lambda: local_runtime.laptop_answer("apple-m4-16gb", 32768, engine="mlx", published_only=False),
]


@pytest.mark.parametrize("call", WIZARD_CALLS)
def test_a_wizard_call_normalises_no_id(call, normalisations):
    call()  # the first call after a table version builds the view (every catalog id, once)
    normalisations.clear()
    call()
    assert normalisations == [], f"{len(normalisations)} ids normalised in one call, e.g. {normalisations[:5]}"


def test_an_id_a_learner_typed_is_normalised_once(normalisations):
    memory.inference_memory("Qwen2.5-7B-Instruct", "bf16", 1024, 256)  # warm the tables
    normalisations.clear()
    memory.inference_memory(" qwen2.5-7b-instruct", "bf16", 1024, 256)
    assert normalisations == [" qwen2.5-7b-instruct"]


def test_the_view_agrees_with_the_lookups_it_replaces():
    view = catalog_view.catalog_view()
    table = catalog.load_catalog()
    assert [entry.model_id for entry in view] == list(table["model_id"])
    for entry in view:
        try:
            ckpt = models.resolve(entry.model_id)
        except ValueError:
            assert entry.checkpoint is None and entry.parameters is None and not entry.memory_modelled
            continue
        assert entry.checkpoint == ckpt  # equal (a cache evicted between two calls may build an equal copy)
        assert entry.parameters == models.count_parameters(ckpt)
        assert entry.context_limit == catalog.context_limit(entry.model_id)
        for benchmark in ("MMLU", "MMLU-Redux", "EvalPlus"):
            assert entry.score(benchmark, True) == tiers.post_trained_score(entry.model_id, benchmark)
            assert entry.score(benchmark, False) == tiers.base_score(ckpt.model_id, benchmark)


def test_the_view_is_built_once_per_table_version(tmp_path, monkeypatch):
    first = catalog_view.catalog_view()
    assert catalog_view.catalog_view() is first  # same tables: the same view, nothing rebuilt
    folder = tmp_path / "data"
    shutil.copytree(data_dir(), folder)
    path = folder / "catalog.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0])
    target = next(row for row in rows if row["model_id"] == "Qwen/Qwen2.5-7B-Instruct")
    target["context_length"] = "16384"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    record_manifest(folder)
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    edited = catalog_view.catalog_view()
    assert edited is not first
    assert edited.get("Qwen/Qwen2.5-7B-Instruct").context_limit == 16384
    assert first.get("Qwen/Qwen2.5-7B-Instruct").context_limit == 32768
    monkeypatch.delenv(DATA_ENV_VAR)
    assert catalog_view.catalog_view().get("Qwen/Qwen2.5-7B-Instruct").context_limit == 32768


def test_the_laptop_widget_computes_its_options_once_per_update(monkeypatch):
    from qwen_lessons.widgets import local_inference

    calls = []
    real = local_runtime.laptop_options

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(local_runtime, "laptop_options", counting)
    html = local_inference.laptop_html("rtx-3060-12gb", 8192)
    assert "Answer:" in html
    assert len(calls) == 1


def test_the_wizard_refuses_by_the_layers_rules_alone():
    """No second checker with its own limits (tiers._validate_wizard is gone): each refusal is the rule's own."""
    from qwen_lessons import validation

    cases = [("modality", "smell", tiers.CHOICE_RULES["modality"]),
             ("purpose", "sell", tiers.CHOICE_RULES["purpose"]),
             ("context_tokens", 1, tiers.WIZARD_CONTEXT),
             ("headroom", 0.995, validation.RULES["headroom"]),
             ("num_gpus", 0, tiers.WIZARD_GPUS),
             ("min_score", 101, validation.RULES["min_score"])]
    for argument, value, rule in cases:
        with pytest.raises(ValueError) as refused:
            tiers.recommend(**{argument: value})
        with pytest.raises(ValueError) as by_rule:
            rule(argument, value)
        assert str(refused.value) == str(by_rule.value)
    with pytest.raises(ValueError, match="gpu_id"):
        tiers.recommend(gpu_id="no-such-gpu")  # the hardware table's lookup names the valid ids
