"""Parcel-insert cards (docs/claiming.md): a QR code of each order's link, and sheets of cards to
print, as PDF or PNG, with the text in the buyer's language from the catalogs.

The font must draw Latin, Cyrillic and Chinese: bot/rendering/fonts.py finds it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

# A4 at 150 dots an inch, two columns of four cards: each about 105 x 74 mm, a common label.
PAGE = (1240, 1754)
COLUMNS, ROWS = 2, 4
MARGIN = 20


@dataclass(frozen=True)
class Card:
    number: str
    link: str
    lines: list[str]  # the card's text, rendered in the buyer's language
    qr: Path


def write_qr(link: str, path: Path) -> None:
    """The link as a QR code, medium error correction: a card survives a crease or a smudge."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(link)
    code.make(fit=True)
    code.make_image(fill_color="black", back_color="white").save(path)


def png_sheets(cards: list[Card], font_path: Path, folder: Path) -> list[Path]:
    """Pages of cards as PNG images, `cards-1.png`, `cards-2.png`, ..."""
    width, height = (PAGE[0] - 2 * MARGIN) // COLUMNS, (PAGE[1] - 2 * MARGIN) // ROWS
    big = ImageFont.truetype(str(font_path), 34)
    middle = ImageFont.truetype(str(font_path), 26)
    small = ImageFont.truetype(str(font_path), 22)
    pages: list[Path] = []
    per_page = COLUMNS * ROWS
    for start in range(0, len(cards), per_page):
        page = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(page)
        for index, card in enumerate(cards[start : start + per_page]):
            x = MARGIN + (index % COLUMNS) * width
            y = MARGIN + (index // COLUMNS) * height
            draw.rectangle((x, y, x + width - 1, y + height - 1), outline="#999999")
            qr_side = min(height - 40, width * 9 // 20)  # about 45 mm: scans from arm's length
            code = Image.open(card.qr).convert("RGB").resize((qr_side, qr_side))
            page.paste(code, (x + 10, y + 20))
            text_x = x + qr_side + 20
            text_y = y + 40
            for n, line in enumerate(card.lines):
                font = (big, middle)[n] if n < 2 else small
                for piece in _wrap(draw, line, font, width - (text_x - x) - 10):
                    draw.text((text_x, text_y), piece, font=font, fill="black")
                    text_y += int(font.size * 1.35)
                text_y += 8
        path = folder / f"cards-{start // per_page + 1}.png"
        page.save(path)
        pages.append(path)
    return pages


def pdf_sheet(cards: list[Card], font_path: Path, path: Path) -> Path:
    """Every card in one A4 PDF, eight a page, with its text as text (searchable, sharp)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("card", fname=str(font_path))
    width, height = (210 - 10) / COLUMNS, (297 - 10) / ROWS
    for index, card in enumerate(cards):
        if index % (COLUMNS * ROWS) == 0:
            pdf.add_page()
        slot = index % (COLUMNS * ROWS)
        x = 5 + (slot % COLUMNS) * width
        y = 5 + (slot // COLUMNS) * height
        pdf.set_draw_color(150)
        pdf.rect(x, y, width, height)
        side = min(height - 14, width * 0.45)
        pdf.image(str(card.qr), x=x + 3, y=y + 7, w=side, h=side)
        pdf.set_xy(x + side + 6, y + 12)
        for n, line in enumerate(card.lines):
            pdf.set_font("card", size=(14, 11)[n] if n < 2 else 9)
            pdf.set_x(x + side + 6)
            pdf.multi_cell(width - side - 9, 6 if n < 2 else 4.5, line)
            pdf.ln(1.5)
    pdf.output(str(path))
    return path


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, room: int
) -> list[str]:
    """Lines that fit `room` pixels: at spaces, or anywhere in text without them (Chinese)."""
    lines: list[str] = []
    current = ""
    for char in text:
        trial = current + char
        if current and draw.textlength(trial, font=font) > room:
            cut = current.rfind(" ")
            if cut > 0 and char != " ":
                lines.append(current[:cut])
                current = current[cut + 1 :] + char
            else:
                lines.append(current.rstrip())
                current = char.lstrip()
        else:
            current = trial
    if current:
        lines.append(current)
    return lines
