"""Contact sheets: ranked candidates in a grid, one row per condition, as one PNG (Pillow only).

Each row starts with its label (the condition's source, or a loudness factor for the volume
study, the paper's Fig. 3), then its pictures best first, each with its joint-space score and
generation index under it; the best of the row is framed. The layout is fixed by the number
of rows, the widest row and the thumbnail size (`sheet_size`), so a sheet's size is known in
advance.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bgtai.atomic import check_target, write_bytes
from bgtai.generate.base import Condition, ScoredImage

PAD = 8
LABEL_WIDTH = 180
CAPTION_HEIGHT = 22
TITLE_HEIGHT = 34
FRAME = 4  # the best picture's frame, in pixels, drawn in the padding around it
BEST_COLOUR = (46, 160, 67)
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
MUTED = (110, 110, 110)


@dataclass(frozen=True)
class SheetRow:
    label: str
    images: Sequence[ScoredImage]


RowLike = SheetRow | tuple[str | Condition, Sequence[ScoredImage]]


def as_row(row: RowLike) -> SheetRow:
    if isinstance(row, SheetRow):
        return row
    label, images = row
    return SheetRow(label.source if isinstance(label, Condition) else str(label), list(images))


def sheet_size(n_rows: int, n_columns: int, thumb: int) -> tuple[int, int]:
    """(width, height) in pixels of a sheet with `n_rows` rows of at most `n_columns` pictures."""
    width = PAD + LABEL_WIDTH + max(n_columns, 1) * (thumb + PAD)
    height = TITLE_HEIGHT + n_rows * (thumb + CAPTION_HEIGHT + PAD) + PAD
    return width, height


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _fit(image: Image.Image, thumb: int) -> Image.Image:
    """The picture scaled to fit a thumb x thumb box (aspect kept), centred on white."""
    picture = image.convert("RGB")
    scale = thumb / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    # small pictures (a tiny pipeline's 32x32) are enlarged as blocks, not blurred; large ones are filtered down
    picture = picture.resize(size, Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS)
    box = Image.new("RGB", (thumb, thumb), BACKGROUND)
    box.paste(picture, ((thumb - picture.width) // 2, (thumb - picture.height) // 2))
    return box


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int, lines: int
) -> list[str]:
    """`text` in at most `lines` lines no wider than `width`: broken between words, and inside a word
    only when it is wider than a line (file names often are)."""

    def fits(candidate: str) -> bool:
        return draw.textlength(candidate, font=font) <= width

    out: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            out.append(current)
        current = ""
        for char in word:
            if current and not fits(current + char):
                out.append(current)
                current = ""
            current += char
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:-3] + "..."
    return out


def ranked(images: Sequence[ScoredImage]) -> list[ScoredImage]:
    """Best first; equal scores keep their order (a stable sort), so rerank's order passes unchanged."""
    return sorted(images, key=lambda item: -item.score)


def render_sheet(rows: Sequence[RowLike], title: str, thumb: int = 128) -> Image.Image:
    """The sheet as a PIL picture (see the module's description)."""
    if thumb < 16:
        raise ValueError(f"thumbnails must be at least 16 pixels, not {thumb}")
    sheet_rows = [as_row(row) for row in rows]
    if not sheet_rows:
        raise ValueError("a contact sheet needs at least one row")
    columns = max(len(row.images) for row in sheet_rows)
    sheet = Image.new("RGB", sheet_size(len(sheet_rows), columns, thumb), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, PAD), title, fill=INK, font=_font(18))
    label_font, caption_font = _font(14), _font(12)
    for r, row in enumerate(sheet_rows):
        top = TITLE_HEIGHT + r * (thumb + CAPTION_HEIGHT + PAD)
        for line_number, line in enumerate(_wrap(draw, row.label, label_font, LABEL_WIDTH - PAD, max(1, thumb // 18))):
            draw.text((PAD, top + line_number * 18), line, fill=INK, font=label_font)
        if not row.images:
            draw.text((PAD + LABEL_WIDTH, top + thumb // 2), "no pictures", fill=MUTED, font=label_font)
        for c, item in enumerate(ranked(row.images)):
            left = PAD + LABEL_WIDTH + c * (thumb + PAD)
            sheet.paste(_fit(item.image, thumb), (left, top))
            best = c == 0
            if best:  # the frame fills the padding around the picture, never covering it
                draw.rectangle(
                    (left - FRAME, top - FRAME, left + thumb + FRAME - 1, top + thumb + FRAME - 1),
                    outline=BEST_COLOUR,
                    width=FRAME,
                )
            caption = f"{'best ' if best else ''}{item.score:.3f}  #{item.index}"
            draw.text((left, top + thumb + FRAME), caption, fill=BEST_COLOUR if best else INK, font=caption_font)
    return sheet


def save_png(image: Image.Image, out_path: str | Path) -> Path:
    """Write `image` as PNG at `out_path` atomically (a temporary beside it, then a rename)."""
    out_path = Path(out_path)
    check_target(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_bytes(out_path, buffer.getvalue())
    return out_path


def contact_sheet(rows: Sequence[RowLike], out_path: str | Path, title: str, thumb: int = 128) -> Path:
    """A PNG grid at `out_path`: one row per condition, labelled by its source, its pictures ranked by score.

    rows: `SheetRow`s or (label or Condition, scored pictures) pairs, e.g. (condition, rerank(...)).
    """
    return save_png(render_sheet(rows, title, thumb), out_path)


def volume_label(factor: float) -> str:
    """0.25 -> 'x0.25', 1.0 -> 'x1': the loudness relative to the original sound."""
    return f"x{factor:g}"


def volume_sheet(
    rows: Sequence[tuple[float, Sequence[ScoredImage]]], out_path: str | Path, title: str, thumb: int = 128
) -> Path:
    """The loudness study's sheet (the paper's Fig. 3): one row per volume factor, labelled 'x0.25' etc."""
    return contact_sheet([SheetRow(volume_label(factor), images) for factor, images in rows], out_path, title, thumb)
