"""Make every raster app icon from `director-desktop.svg`: PNGs (16-512 px), a Windows `.ico`,
a macOS `.icns`, and the PNG the window shows (`director_desktop/assets/icon.png`).

Renders the SVG with GdkPixbuf's SVG loader (librsvg, present wherever the GTK app runs) at each
size, so small sizes are drawn from the vector rather than scaled down; Pillow packs ICO/ICNS.
Run from anywhere: `.venv/bin/python build/icons/make_icons.py`. The outputs are committed.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf  # noqa: E402
from PIL import Image  # noqa: E402

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "director-desktop.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)
PACKAGE_ICON = HERE.parents[1] / "director_desktop" / "assets" / "icon.png"


def render(size: int) -> Image.Image:
    pixbuf = GdkPixbuf.Pixbuf.new_from_file_at_size(str(SOURCE), size, size)
    ok, data = pixbuf.save_to_bufferv("png", [], [])
    if not ok:
        raise RuntimeError(f"could not render {SOURCE.name} at {size} px")
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    image.load()
    return image


def main() -> None:
    images = {size: render(size) for size in SIZES}
    png_dir = HERE / "png"
    png_dir.mkdir(exist_ok=True)
    for size, image in images.items():
        image.save(png_dir / f"{size}x{size}.png", optimize=True)
    largest = images[max(ICO_SIZES)]
    largest.save(
        HERE / "director-desktop.ico",
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[images[s] for s in ICO_SIZES],
    )
    images[512].save(HERE / "director-desktop.icns", append_images=[images[s] for s in ICNS_SIZES])
    PACKAGE_ICON.parent.mkdir(exist_ok=True)
    shutil.copyfile(png_dir / "256x256.png", PACKAGE_ICON)
    print(f"icons written to {HERE} and {PACKAGE_ICON}")


if __name__ == "__main__":
    main()
