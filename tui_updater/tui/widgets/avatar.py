"""An avatar preview drawn in the terminal: two pixels per cell with the upper half block."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


def halfblock_text(path: Path, *, width_cells: int = 24) -> Text:
    """Render a PNG as ``▀`` cells: top pixel as foreground, bottom pixel as background."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        height_px = max(2, round(width_cells * rgb.height / max(1, rgb.width)))
        height_px += height_px % 2
        small = rgb.resize((width_cells, height_px), Image.Resampling.LANCZOS)
    raw = small.tobytes()  # RGB, row-major
    text = Text()
    for y in range(0, height_px, 2):
        if y:
            text.append("\n")
        for x in range(width_cells):
            i_top = 3 * (y * width_cells + x)
            i_bottom = 3 * ((y + 1) * width_cells + x)
            top = raw[i_top : i_top + 3]
            bottom = raw[i_bottom : i_bottom + 3]
            text.append(
                "▀",
                Style(
                    color=f"rgb({top[0]},{top[1]},{top[2]})",
                    bgcolor=f"rgb({bottom[0]},{bottom[1]},{bottom[2]})",
                ),
            )
    return text


def avatar_text(path: str | None, *, width_cells: int = 24) -> Text:
    """The preview of the PNG at ``path``, or why it cannot be shown (reads the file)."""
    if not path:
        return Text("no avatar file in this task's results", style="dim")
    file = Path(path)
    if not file.is_file():
        return Text(f"{file.name}: not on this machine", style="dim")
    try:
        return halfblock_text(file, width_cells=width_cells)
    except Exception as exc:  # a broken image file is shown as text, never a crash
        return Text(f"{file.name}: cannot be shown ({exc})", style="red")


class AvatarPreview(Static):
    """Shows the PNG at ``path`` (or why it cannot)."""

    def show_file(self, path: str | None, *, width_cells: int = 24) -> None:
        self.update(avatar_text(path, width_cells=width_cells))
