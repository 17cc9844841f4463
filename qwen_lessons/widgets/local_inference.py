"""Lesson 8 (08_local_inference): the laptop wizard. Machine, context, KV-cache type and engine -> which Qwen, which
format, how much memory, how fast at most, and the command lines to run it (printed, never run).

The builder returns a SimpleNamespace of its controls, its result HTML widget and ``.box``; the arithmetic is in
``qwen_lessons.local_runtime``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

from qwen_lessons import local_formats, local_runtime, ui
from qwen_lessons.hardware import Machine, get_gpu, hardware_ids, machine_row, machine_rule
from qwen_lessons.language import translate as _
from qwen_lessons.ui import guarded, table_html, wire
from qwen_lessons.validation import checked, key

CONTEXTS = (4096, 8192, 16384, 32768, 65536, 131072)
TYPED_IN = "typed-in"  # the machine dropdown's last option: memory, bandwidth and kind typed by the learner
TABLE_ROWS = 8  # the best fitting options shown under the answer


@checked
def machine_options() -> list[tuple[str, str]]:
    """(label, gpu_id) of the machines a learner owns: consumer cards, Apple machines, CPU-only desktops."""
    return [(get_gpu(gpu_id)["name"], gpu_id) for gpu_id in hardware_ids()
            if get_gpu(gpu_id)["kind"] in ("consumer", "apple", "cpu")]


@checked(engine=key, kv_cache_dtype=local_runtime.KV_CACHE_TYPE, gpu_id=machine_rule)
def laptop_html(gpu_id: str, context_tokens: int, kv_cache_dtype: str = "f16", engine: str = "llama.cpp") -> str:
    """The wizard's answer for one machine (an id or a hardware.Machine) and context: the pick, its memory and
    speed, the commands, the options."""
    options = local_runtime.laptop_options(gpu_id, context_tokens, kv_cache_dtype, engine)  # once per update
    answer = local_runtime.laptop_answer(gpu_id, context_tokens, kv_cache_dtype, engine, options=options)
    gpu = machine_row(gpu_id)
    head = _("<b>{machine}</b>: {memory} GB, {usable} GiB usable after the system's share; {bandwidth} GB/s.").format(
        machine=html.escape(gpu["name"]), memory=f"{gpu['memory_gb']:g}", usable=f"{answer['usable_gib']:.1f}",
        bandwidth=f"{gpu['memory_bandwidth_gbs']:g}") + "<br>"
    if answer["model"] is None:
        return head + html.escape(answer["why"][:1].upper() + answer["why"][1:]) + _(".")
    lines = local_runtime.commands(answer["model"], answer["quantization"], context_tokens, kv_cache_dtype)
    commands = "".join(f"<li><b>{html.escape(_(tool))}</b>: <code>{html.escape(line)}</code></li>"
                       for tool, line in lines.items())
    fitting = options[options["fits"]].sort_values(["params_b", "memory_gib"], ascending=False)
    shown = fitting.head(TABLE_ROWS).assign(model=lambda t: t["model"].str.removeprefix("Qwen/")).round(
        {"params_b": 1, "memory_gib": 2, "tokens_per_s_expected": 0, "tokens_per_s_bound": 0})
    return (head + _("<b>Answer: {model} in {quantization}</b> with {context} tokens of context: {memory} GiB, expected "
                     "about {expected} tokens/s (ceiling: decode bound {bound} tokens/s). ({why}.)").format(
        model=html.escape(answer["model"].removeprefix("Qwen/")), quantization=html.escape(answer["quantization"]),
        context=f"{context_tokens:,}", memory=f"{answer['memory_gib']:.1f}",
        expected=f"{answer['tokens_per_s_expected']:.0f}", bound=f"{answer['tokens_per_s_bound']:.0f}",
        why=html.escape(answer["why"]))
            + f"<ul style='margin:4px 0'>{commands}</ul>" + _("Largest options that fit:")
            + table_html(shown.drop(columns="fits"), top=TABLE_ROWS))


@checked
def laptop_wizard(gpu_id: str = "apple-m4-16gb"):
    """Machine, context, KV-cache type, engine -> the laptop answer and its command lines."""
    machines = [machine_id for _, machine_id in machine_options()]
    if gpu_id not in machines:
        raise ValueError(f"gpu_id must be a learner's machine, one of {machines}, got {gpu_id!r}")
    import ipywidgets as widgets

    style = {"description_width": "110px"}
    machine = widgets.Dropdown(options=[*machine_options(), (_("Type in your machine"), TYPED_IN)], value=gpu_id,
                               description="Machine", style=style)
    # a machine the table does not list: checked for physical sense by hardware.Machine (one line when not)
    typed_memory = widgets.BoundedFloatText(value=16, min=0, max=100_000, description="Memory (GB)", style=style)
    typed_bandwidth = widgets.BoundedFloatText(value=100, min=0, max=100_000, description="Bandwidth (GB/s)",
                                               style=style)
    typed_kind = widgets.Dropdown(options=[("GPU", "gpu"), (_("Apple unified memory"), "apple"), (_("CPU RAM"), "cpu")],
                                  value="cpu", description="Kind", style=style)
    typed = widgets.HBox([typed_memory, typed_bandwidth, typed_kind], layout={"display": "none"})
    context = widgets.Dropdown(options=[(f"{c:,}", c) for c in CONTEXTS], value=8192, description="Context",
                               style=style)
    cache = widgets.Dropdown(options=list(local_formats.kv_cache_types()), value="f16", description="KV cache", style=style)
    engine = widgets.Dropdown(options=["llama.cpp", "mlx"], value="llama.cpp", description="Engine", style=style)
    result = ui.html_output("qwen-laptop-answer")

    def chosen():
        if machine.value != TYPED_IN:
            return machine.value
        return Machine(_("your machine"), typed_memory.value, typed_bandwidth.value, typed_kind.value)

    def update(_change=None):
        typed.layout.display = "flex" if machine.value == TYPED_IN else "none"
        result.value = guarded(lambda: laptop_html(chosen(), context.value, cache.value, engine.value))

    wire((machine, context, cache, engine, typed_memory, typed_bandwidth, typed_kind), update)
    box = widgets.VBox([ui.row([machine, context]), typed, ui.row([cache, engine]), result])
    return SimpleNamespace(machine=machine, context=context, cache=cache, engine=engine, typed_memory=typed_memory,
                           typed_bandwidth=typed_bandwidth, typed_kind=typed_kind, result=result, box=box)
