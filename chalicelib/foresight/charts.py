"""Small SVG charts for the reports: bars and a line, as plain SVG text (WeasyPrint renders SVG).

Written here rather than with matplotlib (+ numpy: ~100 MB in the one Lambda bundle) or pygal (a
further dependency for two chart kinds). Pure: values in, an SVG string out.
"""

from __future__ import annotations

import math
from html import escape

FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif"
INK = "#1f3b57"
BAR = "#2f7fc1"
GRID = "#d9e2ec"


def _nice_max(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if value <= m * magnitude))


def bars(title: str, items: list[tuple[str, float]], *, width: int = 640, unit: str = "") -> str:
    """Horizontal bars, one row per item (label, value), largest scale first."""
    row = 22
    left, right, top = 150, 60, 34
    height = top + row * max(len(items), 1) + 12
    top_value = _nice_max(max((v for _, v in items), default=0))
    span = width - left - right
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="12">',
        f'<text x="0" y="18" font-size="14" fill="{INK}" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        out.append(f'<text x="{left}" y="{top + 14}" fill="#888">无数据</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = span * (value / top_value) if top_value else 0
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" fill="{INK}">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{BAR}"/>')
        shown = f"{value:g}{unit}"
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 14}" fill="{INK}">{escape(shown)}</text>')
    out.append("</svg>")
    return "".join(out)


def line(title: str, points: list[tuple[str, float]], *, width: int = 640, height: int = 220) -> str:
    """A line over labelled points (days or months), with the axis scale and every few labels."""
    left, right, top, bottom = 40, 16, 34, 34
    top_value = _nice_max(max((v for _, v in points), default=0))
    span_x = width - left - right
    span_y = height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
        f'<text x="0" y="18" font-size="14" fill="{INK}" font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(5):
        y = top + span_y * k / 4
        value = top_value * (1 - k / 4)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{value:g}</text>')
    n = len(points)
    coords = []
    for i, (_, v) in enumerate(points):
        x = left + (span_x * i / (n - 1) if n > 1 else span_x / 2)
        y = top + span_y * (1 - (v / top_value if top_value else 0))
        coords.append((x, y))
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        out.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>')
        for x, y in coords:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{BAR}"/>')
    every = max(1, n // 10)
    for i, (label, _) in enumerate(points):
        if i % every == 0 or i == n - 1:
            x = coords[i][0]
            y = height - bottom + 16
            out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="#555">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
