"""Lesson 5 (05_vision_token_budgets): an image token counter with the merged-patch overlay, an upload, and a prompt planner.

Each builder returns a SimpleNamespace of its widgets (controls, result HTML widgets and ``.box``), so tests
can set ``.value`` on a control and read the result without a browser. The arithmetic is in ``vision``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

from qwen_lessons import pictures, prompts, ui, vision
from qwen_lessons.plotting import BAD_TEXT_COLOUR, GOOD_TEXT_COLOUR
from qwen_lessons.ui import guarded, show, wire
from qwen_lessons.language import translate as _
from qwen_lessons.validation import checked, instance

CUSTOM = ""  # the picture dropdown's "custom size" choice
PLACEHOLDER = "Choose an image file. It goes from your browser to this notebook's kernel on your machine only."


@checked
def generation_options() -> list[tuple[str, str]]:
    """(label, key) pairs for a generation dropdown."""
    return [(vision.generation_info(key).name, key) for key in vision.generation_keys()]


@checked
def budget_options() -> list[tuple[str, str]]:
    """(label, key) pairs for a pixel-budget dropdown."""
    table = vision.budgets_table()
    return list(zip(table["label"], table["budget"], strict=True))


@checked
def context_options() -> list[tuple[str, object]]:
    """(label, value) pairs for a context dropdown: the fixed windows, then catalog models with a known context."""
    options = [(f"{name} ({tokens:,} tokens)", name) for name, tokens in prompts.CONTEXT_WINDOWS.items()]
    for row in prompts.model_contexts().itertuples():
        options.append((f"{row.model_id} ({int(row.context_length):,})", row.model_id))
    return options


def _ordinal(number: int) -> str:
    """2 -> '2nd', 3 -> '3rd', 11 -> '11th'."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _lines_html(lines: list[str]) -> str:
    return "<ol style='margin:4px 0 0 0'>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ol>"


@checked
def image_report_html(height: int, width: int, generation: str, budget: str, every: int = 1,
                      note: str = "") -> str:
    """The HTML shown under an overlay: the one-sentence verdict, the arithmetic, a note on the grid."""
    info = vision.generation_info(generation)
    sentence = pictures.describe_image(height, width, generation, budget=budget)
    if info.fixed_input:
        grid = _("No grid: the resampler's {tokens} tokens do not map to image regions.").format(
            tokens=info.fixed_tokens)
    else:
        grid = (_("Each cell of the grid is {side} x {side} px, one visual token (every {ordinal} line drawn, to keep the "
                  "cells visible).") if every > 1 else _("Each cell of the grid is {side} x {side} px, one visual "
                                                         "token.")).format(side=info.factor, ordinal=_ordinal(every))
    parts = [f"<b>{html.escape(sentence)}</b>", _lines_html(vision.explain_resize(height, width, generation,
                                                                                budget=budget)),
             f"<i>{html.escape(grid)}</i>"]
    if note:
        parts.append(f"<br><i>{html.escape(note)}</i>")
    return "".join(parts)


@checked
def overlay_png(picture, height: int, width: int, generation: str, budget: str) -> tuple[bytes, int]:
    """PNG bytes of the model's view of a picture (or of a blank canvas) with the grid, and the line step."""
    info = vision.generation_info(generation)
    resized_h, resized_w = vision.resized_size(height, width, generation, budget=budget)
    view, every = pictures.overlay_image(picture, resized_h, resized_w, None if info.fixed_input else info.factor)
    return pictures.png_bytes(view), every


@checked
def image_widget(generation: str = vision.DEFAULT_GENERATION):
    """Sample picture or custom size + generation + budget -> token count, arithmetic and grid overlay."""
    vision.generation_info(generation)  # an unknown generation is refused here, with the known ones listed
    import ipywidgets as widgets

    samples = vision.samples_table()
    picture = widgets.Dropdown(
        options=[(f"{_(row.description)} ({row.height} x {row.width})", row.file) for row in samples.itertuples()]
        + [(_("custom size (no picture)"), CUSTOM)],
        description="Picture",
        layout=widgets.Layout(width="460px"),
    )
    first = samples.iloc[0]
    height = widgets.IntText(value=int(first["height"]), description="Height (px)", disabled=True)
    width = widgets.IntText(value=int(first["width"]), description="Width (px)", disabled=True)
    generation_box = widgets.Dropdown(options=generation_options(), value=generation, description="Generation")
    budget = widgets.Dropdown(options=budget_options(), value=vision.DEFAULT_BUDGET, description="Budget",
                              layout=widgets.Layout(width="460px"))
    result = ui.html_output("qwen-vision-count")
    overlay = ui.picture("qwen-vision-overlay", alt="the picture with the grid of merged patches that become its tokens")
    state = {"quiet": False}

    def render() -> str:
        file = picture.value
        preview = pictures.sample_preview(file) if file != CUSTOM else None
        png, every = overlay_png(preview, height.value, width.value, generation_box.value, budget.value)
        overlay.value = png
        show(overlay, True)
        return image_report_html(height.value, width.value, generation_box.value, budget.value, every)

    def update(_change=None):
        if state["quiet"]:
            return
        result.value = guarded(render)
        if "qwen-error" in result.value:
            show(overlay, False)

    def choose_picture(_change=None):
        custom = picture.value == CUSTOM
        height.disabled = width.disabled = not custom
        if not custom:
            row = samples[samples["file"] == picture.value].iloc[0]
            state["quiet"] = True  # set both sides before one redraw
            height.value, width.value = int(row["height"]), int(row["width"])
            state["quiet"] = False
        update()

    wire((picture,), choose_picture, now=False)
    wire((height, width, generation_box, budget), update)
    controls = widgets.VBox([picture, ui.row([height, width]), generation_box, budget])
    return SimpleNamespace(picture=picture, height=height, width=width, generation=generation_box, budget=budget,
                           result=result, overlay=overlay, box=widgets.VBox([controls, overlay, result]))


@checked
def upload_widget(generation: str = vision.DEFAULT_GENERATION):
    """Upload your own image: its size is read from the file header; the overlay shows the model's view."""
    vision.generation_info(generation)  # an unknown generation is refused here, with the known ones listed
    import ipywidgets as widgets

    upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload image")
    generation_box = widgets.Dropdown(options=generation_options(), value=generation, description="Generation")
    budget = widgets.Dropdown(options=budget_options(), value=vision.DEFAULT_BUDGET, description="Budget",
                              layout=widgets.Layout(width="460px"))
    result = ui.html_output("qwen-vision-upload", html.escape(_(PLACEHOLDER)))
    overlay = ui.picture("qwen-vision-upload-overlay", alt="your picture with the grid of merged patches that become its tokens")
    cache: dict = {}

    def read(entry) -> tuple[int, int, object, str]:
        """Header size and preview of the uploaded file, decoded once per upload."""
        key = (entry.get("name"), entry.get("size"), str(entry.get("last_modified")))
        if cache.get("key") != key:
            cache.clear()
            height, width = pictures.read_image_size(entry["content"])
            preview, problem = pictures.decode_preview_with_reason(entry["content"])
            note = _("No preview: {problem}; the count comes from the file header.").format(problem=problem) \
                if problem else ""
            cache.update(key=key, value=(height, width, preview, note))
        return cache["value"]

    def render() -> str:
        if not upload.value:
            show(overlay, False)
            return html.escape(_(PLACEHOLDER))
        entry = upload.value[0]
        height, width, preview, note = read(entry)
        png, every = overlay_png(preview, height, width, generation_box.value, budget.value)
        overlay.value = png
        show(overlay, True)
        name = html.escape(str(entry.get("name", "upload")))
        return f"<b>{name}</b>: " + image_report_html(height, width, generation_box.value, budget.value, every, note)

    def update(_change=None):
        result.value = guarded(render)
        if "qwen-error" in result.value:
            show(overlay, False)

    wire((upload, generation_box, budget), update, now=False)  # nothing to show before a file arrives
    controls = widgets.VBox([upload, generation_box, budget])
    return SimpleNamespace(upload=upload, generation=generation_box, budget=budget, result=result, overlay=overlay,
                           box=widgets.VBox([controls, overlay, result]))


@checked(plan=instance(prompts.PromptPlan, what="a PromptPlan (from prompts.plan_prompt)"))
def plan_html(plan: prompts.PromptPlan, fit_size: tuple[int, int] | None = None, budget: str = vision.DEFAULT_BUDGET) -> str:
    """The planner's verdict and its table of parts as HTML."""
    parts = plan.parts()
    parts = parts[(parts.iloc[:, 1] != 0) | parts.iloc[:, 0].isin(["text", "total"])]
    parts = parts.assign(**{parts.columns[0]: parts.iloc[:, 0].map(_)})  # fixed parts' names in the language
    if plan.fits:
        verdict = _("Fits: {total} of {context} tokens, {left} left.").format(
            total=f"{plan.total:,}", context=f"{plan.context:,}", left=f"{plan.remaining:,}")
        if fit_size is not None:
            more = prompts.images_that_fit(*fit_size, plan.context, plan.total, plan.generation, budget=budget)
            verdict += _(" Room for {more} more image(s) of {height} x {width}.").format(
                more=f"{more:,}", height=fit_size[0], width=fit_size[1])
    else:
        verdict = _("Does not fit: {total} tokens for a {context}-token window, over by {over}.").format(
            total=f"{plan.total:,}", context=f"{plan.context:,}", over=f"{-plan.remaining:,}")
    colour = GOOD_TEXT_COLOUR if plan.fits else BAD_TEXT_COLOUR
    return (f"<b style='color:{colour}'>{html.escape(verdict)}</b>"
            + ui.table_html(parts, caption="Where the tokens go", decimals={parts.columns[2]: 1}))


@checked
def knobs_html(table) -> str:
    """The knob comparison as HTML, the knob that saves most first."""
    if table.empty or table["tokens saved"].max() <= 0:
        return f"<i>{html.escape(_('No knob saves tokens for this prompt.'))}</i>"
    best = table.iloc[0]
    shown = table[["knob", table.columns[1], "tokens saved"]].copy()
    shown[table.columns[1]] = shown[table.columns[1]].map(_)  # what the knob does, in the language
    return ("<b>" + html.escape(_("Biggest saving: {knob} ({tokens} tokens).").format(
        knob=best["knob"], tokens=f"{int(best['tokens saved']):,}")) + "</b>"
            + ui.table_html(shown, caption="What each knob saves"))


@checked
def prompt_planner_widget(generation: str = vision.DEFAULT_GENERATION):
    """Text + images + videos + reserved output against a context window, and which knob saves most."""
    vision.generation_info(generation)  # an unknown generation is refused here, with the known ones listed
    import ipywidgets as widgets

    wide = widgets.Layout(width="460px")
    text = widgets.Textarea(value="Compare the two photos and summarise what happens in the video.",
                            description="Prompt text", continuous_update=False, layout=wide)
    images = widgets.IntText(value=2, description="Images")
    image_height = widgets.IntText(value=3000, description="Image H (px)")
    image_width = widgets.IntText(value=4000, description="Image W (px)")
    videos = widgets.IntText(value=1, description="Videos")
    video_height = widgets.IntText(value=720, description="Video H (px)")
    video_width = widgets.IntText(value=1280, description="Video W (px)")
    duration = widgets.FloatText(value=60.0, description="Seconds")
    fps = widgets.FloatText(value=2.0, description="Sample fps")
    reserved = widgets.IntText(value=1024, description="Answer (tok)")
    # lesson 6: audio for the Omni generations (a clip of this many seconds, and each video's sound track)
    audio_seconds = widgets.FloatText(value=0.0, description="Audio (s)")
    sound_track = widgets.Checkbox(value=False, description="Count each video's sound track (Omni)", indent=False)
    generation_box = widgets.Dropdown(options=generation_options(), value=generation, description="Generation")
    budget = widgets.Dropdown(options=budget_options(), value=vision.DEFAULT_BUDGET, description="Budget", layout=wide)
    context = widgets.Dropdown(options=context_options(), value="32K", description="Context", layout=wide)
    result = ui.html_output("qwen-vision-plan")
    knobs = ui.html_output("qwen-vision-knobs")
    for labelled in (text, images, image_height, image_width, videos, video_height, video_width, duration, fps,
                     reserved, audio_seconds, generation_box, budget, context):
        labelled.style.description_width = "110px"  # the default width cuts labels such as "Image H (px)"
    state = {"quiet": False}

    def counts() -> tuple[int, int]:
        for name, control in (("images", images), ("videos", videos)):
            if not 0 <= control.value <= 100:
                raise ValueError(f"{name} must be a count from 0 to 100, got {control.value}")
        return images.value, videos.value

    def settings() -> dict:
        if audio_seconds.value < 0:
            raise ValueError(f"audio must be 0 (no clip) or a length in seconds, got {audio_seconds.value}")
        return dict(generation=generation_box.value, budget=budget.value, video_fps=fps.value,
                    reserved_output=reserved.value, context=context.value,
                    audios=[audio_seconds.value] if audio_seconds.value else [], use_audio_in_video=sound_track.value)

    def render_plan() -> str:
        n_images, n_videos = counts()
        image_list = [(image_height.value, image_width.value)] * n_images
        video_list = [(video_height.value, video_width.value, duration.value)] * n_videos
        plan = prompts.plan_prompt(text.value, image_list, video_list, **settings())
        knobs.value = guarded(lambda: knobs_html(prompts.knob_savings(text.value, image_list, video_list, **settings())))
        return plan_html(plan, (image_height.value, image_width.value) if image_list else None, budget.value)

    def update(_change=None):
        if state["quiet"]:
            return
        result.value = guarded(render_plan)
        if "qwen-error" in result.value:
            knobs.value = ""

    def choose_context(_change=None):
        # a model from the catalog brings its own generation
        models = prompts.model_contexts()
        match = models[models["model_id"] == context.value]
        if not match.empty and match["generation"].iloc[0] != generation_box.value:
            state["quiet"] = True
            generation_box.value = match["generation"].iloc[0]
            state["quiet"] = False
        update()

    controls = (text, images, image_height, image_width, videos, video_height, video_width, duration, fps, reserved,
                audio_seconds, sound_track, generation_box, budget)
    wire((context,), choose_context, now=False)
    wire(controls, update)
    box = widgets.VBox([
        text,
        ui.row([images, image_height, image_width]),
        ui.row([videos, video_height, video_width]),
        ui.row([duration, fps, reserved]),
        ui.row([audio_seconds, sound_track]),
        generation_box, budget, context, result, knobs,
    ])
    return SimpleNamespace(text=text, images=images, image_height=image_height, image_width=image_width,
                           videos=videos, video_height=video_height, video_width=video_width, duration=duration,
                           fps=fps, reserved=reserved, audio_seconds=audio_seconds, sound_track=sound_track,
                           generation=generation_box, budget=budget, context=context,
                           result=result, knobs=knobs, box=box)

