"""Lesson 5 (05_vision_token_budgets): pictures without decoding more than needed: the size from a file's header,
a reduced preview, and the merged-patch grid drawn over it."""

from __future__ import annotations

import io
import math
import warnings

from qwen_lessons.data import cached, data_path
from qwen_lessons.language import translate as _
from qwen_lessons.vision import DEFAULT_BUDGET, DEFAULT_GENERATION, generation_info, image_tokens, resized_size
from qwen_lessons.validation import checked

PREVIEW_SIDE = 1120  # decoded previews are reduced to this long side: twice the overlay's display size
DISPLAY_SIDE = 560
MAX_DECODE_PIXELS = 50_000_000  # above this the overlay is drawn without the picture (PNG cannot decode partially)
MIN_GRID_STEP_PX = 4  # thinner cells than this on screen would turn the grid into a grey wash

# ---------------------------------------------------------------- pictures: header, preview, overlay


@checked
def read_image_size(data: bytes) -> tuple[int, int]:
    """(height, width) from an image file's header, without decoding the pixels (safe for huge images)."""
    from PIL import UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise ValueError("the file is empty or not bytes; upload an image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
    try:
        with _opened(data) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"this file is not an image Pillow can read (PNG, JPEG, GIF, WebP, BMP, TIFF ...): "
                         f"{type(error).__name__}") from None
    if width < 1 or height < 1:
        raise ValueError(f"the image header gives an empty size {width}x{height}")
    return height, width


class _opened:
    """Image.open without the decompression-bomb guard: only the header is read, so a huge size is harmless."""

    def __init__(self, data: bytes):
        self.data = bytes(data)

    def __enter__(self):
        from PIL import Image

        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # the guard protects decoding; opening reads the header only
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.image = Image.open(io.BytesIO(self.data))
        finally:
            Image.MAX_IMAGE_PIXELS = limit
        return self.image

    def __exit__(self, *exc):
        self.image.close()
        return False


@checked
def decode_preview(data: bytes, max_side: int = PREVIEW_SIDE):
    """A reduced RGB copy of the picture (long side <= max_side), or None when it cannot be decoded safely."""
    return decode_preview_with_reason(data, max_side)[0]


@checked
def decode_preview_with_reason(data: bytes, max_side: int = PREVIEW_SIDE):
    """(preview or None, reason): the reduced RGB copy, or None and a one-line reason why there is none."""
    from PIL import Image

    height, width = read_image_size(data)
    with _opened(data) as image:
        if image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at 1/2, 1/4 or 1/8 scale directly
        if image.size[0] * image.size[1] > MAX_DECODE_PIXELS:
            return None, f"{height:,} x {width:,} px is too large to preview safely"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
            rgb = _to_rgb(image)
        except (OSError, SyntaxError, ValueError) as error:  # truncated or damaged pixel data, odd modes
            return None, f"the pixels could not be decoded ({type(error).__name__}); the header is fine"
    rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return rgb, ""


def _to_rgb(image):
    """RGB copy; transparent areas become white, as the Qwen helper does."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


@checked
@cached(maxsize=16)
def sample_preview(file: str):
    """The reduced preview of one of the course's sample pictures (cached: decoded once per session)."""
    return decode_preview(data_path(file).read_bytes())


@checked
def sample_bytes(file: str) -> bytes:
    """The raw bytes of a sample picture in data/."""
    return data_path(file).read_bytes()


@checked
def grid_step(factor: int, scale: float) -> int:
    """Draw every n-th grid line so that drawn cells are at least MIN_GRID_STEP_PX wide on screen."""
    return max(1, math.ceil(MIN_GRID_STEP_PX / (factor * scale)))


@checked
def overlay_image(picture, resized_height: int, resized_width: int, factor: int | None,
                  display_side: int = DISPLAY_SIDE):
    """The picture as the model sees it (resized), scaled to fit display_side, with its merged-patch grid.

    picture may be None (no pixels available): the grid is then drawn on a plain background.
    Returns (PIL image, n) where n says every n-th grid line is drawn.
    """
    from PIL import Image, ImageDraw

    if resized_height < 1 or resized_width < 1:
        raise ValueError(f"resized size must be positive, got {resized_height}x{resized_width}")
    scale = display_side / max(resized_height, resized_width)
    shown = (max(1, round(resized_width * scale)), max(1, round(resized_height * scale)))
    if picture is None:
        view = Image.new("RGB", shown, (235, 235, 235))
    elif scale >= 1:  # small model view: resize to it, then enlarge with visible pixels
        view = picture.resize((resized_width, resized_height), Image.Resampling.BICUBIC)
        view = view.resize(shown, Image.Resampling.NEAREST)
    else:
        view = picture.resize(shown, Image.Resampling.BICUBIC, reducing_gap=2.0)
    every = 1
    if factor:
        every = grid_step(factor, scale)
        layer = Image.new("RGBA", shown, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        colour = (0, 0, 0, 130)
        for column in range(0, resized_width // factor + 1, every):
            x = min(shown[0] - 1, round(column * factor * scale))
            draw.line([(x, 0), (x, shown[1] - 1)], fill=colour)
        for row in range(0, resized_height // factor + 1, every):
            y = min(shown[1] - 1, round(row * factor * scale))
            draw.line([(0, y), (shown[0] - 1, y)], fill=colour)
        view = Image.alpha_composite(view.convert("RGBA"), layer).convert("RGB")
    return view, every


@checked
def png_bytes(image) -> bytes:
    """Encode a PIL image as PNG bytes (for an ipywidgets.Image)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: it only travels to the browser
    return buffer.getvalue()


@checked
def describe_image(height: int, width: int, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                   budget=DEFAULT_BUDGET) -> str:
    """One sentence: what the model sees of an image of this size and what it costs."""
    info = generation_info(generation)
    resized_h, resized_w = resized_size(height, width, generation, min_pixels, max_pixels, budget=budget)
    tokens = image_tokens(height, width, generation, min_pixels, max_pixels, budget=budget)
    said = {"name": info.name, "height": height, "width": width, "resized": f"{resized_h} x {resized_w}",
            "tokens": f"{tokens:,}", "wrappers": info.wrapper_tokens, "total": f"{tokens + info.wrapper_tokens:,}"}
    if info.fixed_input:
        return _("{name} sees {resized} px (squeezed) and spends {tokens} tokens (+{wrappers} wrappers = "
                 "{total}).").format(**said)
    return _("{name} sees {height} x {width} px as {resized} px = {cells} cells of {cell} px: {tokens} tokens "
             "(+{wrappers} wrappers = {total}).").format(
        cells=f"{resized_h // info.factor} x {resized_w // info.factor}", cell=info.factor, **said)
