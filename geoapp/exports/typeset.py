"""A small flowing-text layout on matplotlib figures, for the A4 district sheets.

Matplotlib has no page layout, so :class:`Flow` keeps a cursor (inches from the top of
the page) in a column and opens a new page when a block does not fit: headings,
wrapped paragraphs, label/value lists and tables whose cells wrap and whose header repeats
on each page. Text stays text (TrueType fonts embedded in the PDF), so it can be searched,
copied and read by screen readers.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from geoapp.exports.style import BRAND, FONT, INK, MUTED

LINE_FACTOR = 1.42  # line height / font size
_CHAR_EM = 0.55  # DejaVu Sans average advance, in em, for wrapping estimates
_ASCENT = 1.0  # baseline below the line top, in em (room for capitals with accents)
MARGIN_IN = 0.45
BOTTOM_IN = 0.75  # room for the footer


def wrap_lines(text: str, width_in: float, size: float) -> list[str]:
    """Split ``text`` into lines that fit ``width_in`` inches at ``size`` points.

    Breaks only at spaces (never inside a word or at a hyphen), so the extracted PDF text,
    whitespace normalised, equals the source text.
    """
    chars = max(8, int(width_in * 72 / (size * _CHAR_EM)))
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        lines.extend(
            textwrap.wrap(para, chars, break_long_words=False, break_on_hyphens=False) or [""]
        )
    return lines


def line_height(size: float) -> float:
    """Inches from one baseline to the next at ``size`` points."""
    return size * LINE_FACTOR / 72


@dataclass
class Column:
    x: float  # inches from the left edge
    width: float  # inches


class Flow:
    """Lay blocks down a column, opening pages through ``new_page`` when full."""

    def __init__(self, new_page: Callable[[], tuple[Figure, float]]):
        self._new_page = new_page
        self.pages: list[Figure] = []
        self.fig: Figure | None = None
        self.top = 0.0
        self.y = 0.0
        self.column = Column(0, 0)
        self.title = ""  # running title and kicker, read by ``new_page``
        self.kicker = ""

    def page(self) -> Figure:
        """Start a new page; the column is the full text width under the page header."""
        self.fig, self.top = self._new_page()
        self.pages.append(self.fig)
        width = self.fig.get_figwidth()
        self.column = Column(MARGIN_IN, width - 2 * MARGIN_IN)
        self.y = self.top
        return self.fig

    def room(self) -> float:
        return self.fig.get_figheight() - BOTTOM_IN - self.y

    def ensure(self, height: float) -> None:
        """Open a new page unless ``height`` inches still fit."""
        if self.fig is None or height > self.room():
            self.page()

    def space(self, inches: float) -> None:
        self.y += inches

    def text(self, x_in: float, text: str, *, size: float, **style) -> None:
        """Text from the cursor line down, ``x_in`` inches from the left edge.

        Each line is its own text object at an exact baseline step, so line heights match
        :func:`line_height` and extracted text comes out in reading order.
        """
        fig = self.fig
        colour = style.pop("color", INK)
        for i, line in enumerate(text.split("\n")):
            y = self.y + i * line_height(size) + _ASCENT * size / 72
            fig.text(
                x_in / fig.get_figwidth(),
                1 - y / fig.get_figheight(),
                line,
                fontsize=size,
                va="baseline",
                family=FONT,
                color=colour,
                **style,
            )

    def heading(self, text: str, *, size: float = 12.5, colour: str = BRAND) -> None:
        """A section title, kept with at least three lines of what follows."""
        self.ensure(line_height(size) + 3 * line_height(9))
        self.space(0.06)
        self.text(self.column.x, text, size=size, fontweight="bold", color=colour)
        self.y += line_height(size) + 0.04

    def paragraph(
        self,
        text: str,
        *,
        size: float = 9.0,
        colour: str = INK,
        indent: float = 0.0,
        prefix: str = "",
    ) -> None:
        """Wrapped text; long paragraphs continue on the next page."""
        width = self.column.width - indent
        lines = wrap_lines(text, width, size)
        while lines:
            if self.fig is None or self.room() < line_height(size):
                self.page()
            fit = max(1, int(self.room() / line_height(size)))
            chunk, lines = lines[:fit], lines[fit:]
            if prefix:
                self.text(self.column.x, prefix, size=size, color=colour, fontweight="bold")
                prefix = ""
            self.text(self.column.x + indent, "\n".join(chunk), size=size, color=colour)
            self.y += len(chunk) * line_height(size)
        self.y += 0.05

    def facts(
        self, rows: Sequence[tuple[str, str]], *, size: float = 9.0, label_width: float = 1.75
    ) -> None:
        """A label/value list: muted labels, bold values wrapped in their own column."""
        for label, value in rows:
            lines = wrap_lines(value, self.column.width - label_width, size)
            height = len(lines) * line_height(size)
            self.ensure(height)
            self.text(self.column.x, label, size=size, color=MUTED)
            self.text(self.column.x + label_width, "\n".join(lines), size=size, fontweight="bold")
            self.y += height + 0.02

    def table(
        self,
        headers: Sequence[str],
        widths: Sequence[float],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 8.5,
        empty: str = "",
    ) -> None:
        """A table whose cells wrap; ``widths`` are fractions of the column width."""
        cols = [w * self.column.width for w in widths]
        pad = 0.06
        self._table_header(headers, cols, size, pad)
        if not rows:
            self.paragraph(empty, size=size, colour=MUTED)
            return
        for index, row in enumerate(rows):
            cells = [wrap_lines(v, w - 2 * pad, size) for v, w in zip(row, cols, strict=True)]
            height = max(len(c) for c in cells) * line_height(size) + 2 * pad
            if height > self.room():
                self.page()
                self._table_header(headers, cols, size, pad)
            if index % 2:
                self._band(cols, height, "#f5f3f8")
            x = self.column.x
            self.y += pad
            for lines, width in zip(cells, cols, strict=True):
                self.text(x + pad, "\n".join(lines), size=size)
                x += width
            self.y += height - pad
            self._rule(cols, "#d9dbe1")
        self.y += 0.08

    def _table_header(self, headers, cols, size, pad) -> None:
        height = line_height(size) + 2 * pad
        self.ensure(height + 2 * line_height(size))
        self._band(cols, height, "#ece4f2")
        x = self.column.x
        for title, width in zip(headers, cols, strict=True):
            baseline = self.y + pad + _ASCENT * size / 72
            self.fig.text(
                (x + pad) / self.fig.get_figwidth(),
                1 - baseline / self.fig.get_figheight(),
                title,
                fontsize=size,
                fontweight="bold",
                va="baseline",
                family=FONT,
                color=INK,
            )
            x += width
        self.y += height
        self._rule(cols, BRAND)

    def _band(self, cols, height: float, colour: str) -> None:
        fig = self.fig
        w, h = fig.get_figwidth(), fig.get_figheight()
        fig.add_artist(
            Rectangle(
                (self.column.x / w, 1 - (self.y + height) / h),
                sum(cols) / w,
                height / h,
                facecolor=colour,
                edgecolor="none",
                transform=fig.transFigure,
                zorder=0,
            )
        )

    def _rule(self, cols, colour: str) -> None:
        fig = self.fig
        w, h = fig.get_figwidth(), fig.get_figheight()
        y = 1 - self.y / h
        fig.add_artist(
            Line2D(
                [self.column.x / w, (self.column.x + sum(cols)) / w],
                [y, y],
                color=colour,
                linewidth=0.6,
                transform=fig.transFigure,
            )
        )
