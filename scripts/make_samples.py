"""Draw the course's sample images (data/images/*.png) and list them in data/vision_samples.csv.

The pictures are made for the course from flat shapes, so they compress to small PNGs and carry no
third-party content. Run from anywhere: python scripts/make_samples.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent.parent / "data" / "images"  # the pictures go into data/images/
SOURCE = "made for the course by scripts/make_samples.py"

# Okabe-Ito colours, as in qwen_lessons.plotting
BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"
)


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in scalable font, so no font file is needed."""
    return ImageFont.load_default(size=size)


def slide(width: int = 1920, height: int = 1080) -> Image.Image:
    """A presentation slide: title, bullet points and a bar chart (a typical screenshot)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width, 150], fill=BLUE)
    draw.text((80, 40), "Quarterly results", fill="white", font=font(72))
    for row, text in enumerate(["Revenue up in every region", "Two new products shipped", "Costs flat"]):
        y = 260 + row * 110
        draw.ellipse([90, y + 18, 120, y + 48], fill=ORANGE)
        draw.text((150, y), text, fill=BLACK, font=font(48))
    for bar, (value, colour) in enumerate(zip((300, 420, 510, 640), (SKY, BLUE, GREEN, VERMILLION), strict=True)):
        x = 1150 + bar * 170
        draw.rectangle([x, 950 - value, x + 120, 950], fill=colour)
    draw.line([1120, 950, 1840, 950], fill=BLACK, width=4)
    return image


def vga(width: int = 640, height: int = 480) -> Image.Image:
    """A small webcam-sized frame: a desk with a mug and a notebook."""
    image = Image.new("RGB", (width, height), "#F3EDE2")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 330, width, height], fill="#B08850")
    draw.rectangle([90, 250, 300, 350], fill="white", outline=BLACK, width=3)
    draw.rounded_rectangle([400, 200, 500, 340], radius=12, fill=VERMILLION)
    draw.arc([480, 230, 540, 300], start=270, end=90, fill=VERMILLION, width=10)
    draw.text((110, 270), "notes", fill=BLUE, font=font(32))
    return image


def square(size: int = 2048) -> Image.Image:
    """A square chart: concentric rings, like a product photo on a plain background."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for ring, colour in enumerate((BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW)):
        inset = 120 + ring * 140
        draw.ellipse([inset, inset, size - inset, size - inset], fill=colour)
    return image


def icon(size: int = 100) -> Image.Image:
    """A tiny app icon, smaller than the model's minimum pixel budget in some settings."""
    image = Image.new("RGB", (size, size), GREEN)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([15, 15, size - 15, size - 15], radius=14, fill="white")
    draw.polygon([(35, 30), (35, 70), (72, 50)], fill=GREEN)
    return image


def photo(width: int = 4000, height: int = 3000) -> Image.Image:
    """A 12-megapixel landscape 'photo' (sky, sun, hills), the size of a phone camera picture."""
    image = Image.new("RGB", (width, height), SKY)
    draw = ImageDraw.Draw(image)
    draw.ellipse([2900, 350, 3500, 950], fill=YELLOW)
    draw.polygon([(0, 2100), (1300, 1100), (2600, 2100)], fill=GREEN)
    draw.polygon([(1500, 2100), (2900, 900), (4000, 1900), (4000, 2100)], fill="#3C8D5A")
    draw.rectangle([0, 2100, width, height], fill="#A7C957")
    draw.rectangle([600, 2300, 1100, 2800], fill=VERMILLION)
    draw.polygon([(550, 2300), (850, 2000), (1150, 2300)], fill=PURPLE)
    return image


def panorama(width: int = 6000, height: int = 600) -> Image.Image:
    """A wide panorama (10:1): a skyline, to show how aspect ratio survives resizing."""
    image = Image.new("RGB", (width, height), "#FBE7C6")
    draw = ImageDraw.Draw(image)
    for block in range(40):
        x = block * 150
        top = 150 + (block * 97) % 300
        draw.rectangle([x + 10, top, x + 140, height], fill=(BLUE, PURPLE, GREEN, ORANGE)[block % 4])
    return image


def receipt(width: int = 300, height: int = 3000) -> Image.Image:
    """A long shop receipt (1:10): many short text lines, the opposite extreme of the panorama."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 40), "CORNER SHOP", fill=BLACK, font=font(30))
    for line in range(60):
        y = 120 + line * 45
        draw.text((25, y), f"item {line + 1:02d}", fill=BLACK, font=font(22))
        draw.text((200, y), f"{(line * 37) % 90 + 1:>3}.{line % 10}0", fill=BLACK, font=font(22))
    return image


SAMPLES = {
    "slide.png": (slide, "presentation slide, the size of a full-HD screenshot"),
    "vga.png": (vga, "webcam-sized frame (VGA)"),
    "square.png": (square, "square product-style picture"),
    "icon.png": (icon, "tiny app icon"),
    "photo.png": (photo, "12-megapixel landscape, the size of a phone photo"),
    "panorama.png": (panorama, "wide 10:1 panorama"),
    "receipt.png": (receipt, "long 1:10 shop receipt"),
}


def main() -> None:
    rows = []
    for name, (draw, description) in SAMPLES.items():
        image = draw()
        image.save(HERE / name, optimize=True)
        rows.append({"file": f"images/{name}", "height": image.height, "width": image.width,
                     "description": description, "source": SOURCE})
        print(f"{name}: {image.width}x{image.height}, {(HERE / name).stat().st_size / 1024:.0f} KiB")
    with open(HERE.parent / "vision_samples.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
