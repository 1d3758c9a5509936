"""Charts of the monthly report as PNG (docs/reports.md), made to be read on a phone: portrait,
large type, one series, the value written on each bar. The words come in already translated;
the font is one that draws Latin, Cyrillic and Chinese (bot/rendering/fonts.py).

matplotlib runs with its Agg backend: no display, and nothing global is changed beyond it."""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

# 900 x 1200 pixels: fills a phone's screen upright, and Telegram does not shrink it.
SIZE = (6.0, 8.0)
DPI = 150
BAR = "#2f6db5"
MISSED = "#d9534f"
LABEL_WIDTH = 18  # characters a line in a bar's label; longer ones wrap
TITLE_WIDTH = 32  # characters a line in a title at its size; a longer one takes two lines


def _font(path: Path, size: float) -> FontProperties:
    # DejaVu Sans (shipped with matplotlib) first: it has the ruble sign and the other currency
    # signs Noto Sans CJK lacks; Chinese characters fall back to the CJK font.
    name = _registered(str(path))
    return FontProperties(family=["DejaVu Sans", name], size=size)


@lru_cache(maxsize=8)
def _registered(path: str) -> str:
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def _wrap(label: str, width: int = LABEL_WIDTH) -> str:
    # Chinese has no spaces to wrap at: cut it by characters, which textwrap does when forced.
    return "\n".join(textwrap.wrap(label, width, break_long_words=True)[:2]) or label


def _figure(title: str, font: Path) -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    # Matplotlib does not wrap a title: a long one ("Обещания со сроком в этот день, по дням")
    # would run off both sides of a phone-sized chart.
    figure.suptitle(_wrap(title, TITLE_WIDTH), fontproperties=_font(font, 20))
    return figure, figure.add_subplot()


def _say(figure: Figure, axes: Axes, text: str, font: Path, path: Path) -> None:
    """A chart with nothing to show says so, at the same size as the others."""
    axes.set_axis_off()
    axes.text(0.5, 0.5, text, ha="center", va="center", fontproperties=_font(font, 18))
    figure.savefig(path, format="png")


def bar_chart(
    path: Path,
    *,
    title: str,
    labels: list[str],
    values: list[float],
    value_texts: list[str],
    font: Path,
    empty: str,
) -> None:
    """Horizontal bars, largest on top, each with its value written beside it."""
    figure, axes = _figure(title, font)
    if not values:
        _say(figure, axes, empty, font, path)
        return
    positions = list(range(len(values)))[::-1]
    bars = axes.barh(positions, values, color=BAR, height=0.6)
    axes.set_yticks(positions, [_wrap(label) for label in labels])
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(_font(font, 15))
    axes.bar_label(bars, value_texts, padding=6, fontproperties=_font(font, 14))
    axes.set_xlim(0, max(values) * 1.6 or 1)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    figure.savefig(path, format="png")


def kept_chart(
    path: Path,
    *,
    title: str,
    days: list[tuple[int, int]],
    kept: str,
    missed: str,
    day: str,
    font: Path,
    empty: str,
) -> None:
    """Promises that came due each day of the month: kept, and missed stacked above."""
    figure, axes = _figure(title, font)
    if not any(k + b for k, b in days):
        _say(figure, axes, empty, font, path)
        return
    numbers = list(range(1, len(days) + 1))
    kept_counts = [k for k, _ in days]
    axes.bar(numbers, kept_counts, color=BAR, label=kept)
    axes.bar(numbers, [b for _, b in days], bottom=kept_counts, color=MISSED, label=missed)
    axes.set_xticks([n for n in numbers if n == 1 or n % 5 == 0])
    axes.set_xlabel(day, fontproperties=_font(font, 15))
    for tick in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        tick.set_fontproperties(_font(font, 14))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(prop=_font(font, 15), loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.savefig(path, format="png")
