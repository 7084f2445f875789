"""Charts as inline SVG with real text: Chinese renders with the reader's fonts.

No raster images, no external files. Bars carry their counts as text and a dark
outline, so a black-and-white print reads as well as the colours; a suppressed
count is drawn as a dashed box with its label, never left out.

Example:
    >>> svg = bar_chart([("正常", 120, "#2e7d32"), ("危机", None, "#c62828")], "人数", "<5 已隐藏")
    >>> svg.startswith("<svg") and "已隐藏" in svg and "120" in svg
    True
"""

from __future__ import annotations

import html
from collections.abc import Sequence

#: profile colour names -> print-safe fills
COLOURS = {
    "green": "#2e7d32",
    "yellow": "#f9a825",
    "orange": "#ef6c00",
    "red": "#c62828",
    "grey": "#757575",
}
BAND_COLOURS = {"normal": "#2e7d32", "borderline": "#f9a825", "abnormal": "#c62828"}
_FONT = (
    "font-family=\"'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC','Microsoft YaHei',"
    'sans-serif"'
)


def _e(x: object) -> str:
    return html.escape(str(x))


def bar_chart(items: Sequence[tuple[str, int | None, str]], title: str, hidden_label: str) -> str:
    """Horizontal bars: (label, count or ``None`` when suppressed, fill colour)."""
    if not items:
        return ""
    row_h, label_w, bar_w, width = 26, 150, 380, 640
    top = 28
    height = top + row_h * len(items) + 8
    biggest = max((v for _, v, _ in items if v is not None), default=1) or 1
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {_FONT}>',
        f'<text x="0" y="16" font-size="14" font-weight="bold">{_e(title)}</text>',
    ]
    for n, (label, value, colour) in enumerate(items):
        y = top + n * row_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="13" text-anchor="end">'
            f"{_e(label)}</text>"
        )
        if value is None:
            out.append(
                f'<rect x="{label_w}" y="{y + 3}" width="70" height="{row_h - 8}" fill="none" '
                'stroke="#333" stroke-dasharray="4 3"/>'
                f'<text x="{label_w + 35}" y="{y + 17}" font-size="12" text-anchor="middle">'
                f"{_e(hidden_label)}</text>"
            )
            continue
        w = max(1.0, bar_w * value / biggest) if value else 0.0
        out.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}" stroke="#222" stroke-width="1"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="13">{value:,}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def histogram(
    bars: Sequence[tuple[float, int | None, str]],
    title: str,
    x_label: str,
    legend: Sequence[tuple[str, str]],
    hidden_label: str = "",
) -> str:
    """Vertical bars (raw score, count or ``None`` when suppressed, fill); tick labels
    thinned so they never overlap; a suppressed count is a short dashed box labelled
    ``hidden_label``."""
    if not bars:
        return ""
    width, height, left, bottom, top = 640, 220, 48, 40, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    xs = [x for x, _, _ in bars]
    lo, hi = min(xs), max(xs)
    span = (hi - lo) or 1
    step = plot_w / (span + 1)
    biggest = max((v for _, v, _ in bars if v is not None), default=1) or 1
    every = max(1, int(28 // step) + 1)  # at least ~28 px between tick labels
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height + 22}" '
        f'viewBox="0 0 {width} {height + 22}" {_FONT}>',
        f'<text x="0" y="16" font-size="13" font-weight="bold">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#222"/>',
    ]
    for x, v, colour in bars:
        bx = left + (x - lo) * step + step * 0.1
        if v is None:
            out.append(
                f'<rect x="{bx:.1f}" y="{top + plot_h - 14}" width="{step * 0.8:.1f}" '
                'height="14" fill="none" stroke="#333" stroke-dasharray="3 2"/>'
                f'<text x="{bx + step * 0.4:.1f}" y="{top + plot_h - 18}" font-size="9" '
                f'text-anchor="middle">{_e(hidden_label)}</text>'
            )
            continue
        h = plot_h * v / biggest
        out.append(
            f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.8:.1f}" '
            f'height="{h:.1f}" fill="{colour}" stroke="#222" stroke-width="0.5"/>'
        )
    for k in range(int(span) + 1):
        if k % every:
            continue
        tx = left + k * step + step / 2
        out.append(
            f'<text x="{tx:.1f}" y="{top + plot_h + 15}" font-size="11" text-anchor="middle">'
            f"{lo + k:g}</text>"
        )
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h + 32}" font-size="12" '
        f'text-anchor="middle">{_e(x_label)}</text>'
    )
    lx = left
    for name, colour in legend:
        out.append(
            f'<rect x="{lx}" y="{height + 8}" width="12" height="12" fill="{colour}" '
            'stroke="#222"/>'
            f'<text x="{lx + 16}" y="{height + 18}" font-size="12">{_e(name)}</text>'
        )
        lx += 24 + 14 * len(name) + 10
    out.append("</svg>")
    return "".join(out)
