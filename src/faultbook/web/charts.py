"""Charts as server-side SVG: no JavaScript library, nothing to download, works with the CSP.

Each function returns ``Markup`` built from numbers and *escaped* labels
(component names are user data), so templates can embed it directly.
Every bar or point carries ``data-value`` and a ``<title>`` tooltip, which
also lets tests check what was drawn.
"""

from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

from markupsafe import Markup

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 34


def _nice_max(values: Sequence[float]) -> float:
    """A top for the y axis: counts get whole-number ticks (4 of them)."""
    top = max([*values, 0])
    if all(float(v).is_integer() for v in values):
        return max(4, -(-int(top) // 4) * 4)
    return top or 1


def _axis(max_value: float, labels: Sequence[str], step_x: float) -> list[str]:
    parts = []
    plot_h = HEIGHT - TOP - BOTTOM
    ticks = 4
    for i in range(ticks + 1):
        value = max_value * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        text = f"{value:.0f}" if max_value >= ticks or value == int(value) else f"{value:.1f}"
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + step_x * (i + 0.5)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    return parts


def bar_chart(*, labels: Sequence[str], values: Sequence[float], title: str, css_id: str, unit: str = "") -> Markup:
    max_value = _nice_max(values)
    step_x = (WIDTH - LEFT - RIGHT) / max(len(values), 1)
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg id="{escape(css_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        *_axis(max_value, labels, step_x),
    ]
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / max_value
        x = LEFT + step_x * i + step_x * 0.15
        parts.append(
            f'<rect class="bar" data-label="{escape(label)}" data-value="{value:g}" x="{x:.1f}" '
            f'y="{TOP + plot_h - h:.1f}" width="{step_x * 0.7:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_chart(
    *, labels: Sequence[str], series: Mapping[str, Sequence[int]], title: str, css_id: str
) -> Markup:
    """Stacked bars per week, one colour per component, with a legend."""
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    max_value = _nice_max(totals)
    step_x = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg id="{escape(css_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 24}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        *_axis(max_value, labels, step_x),
    ]
    base = [0.0] * len(labels)
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        for i, value in enumerate(values):
            if not value:
                continue
            h = plot_h * value / max_value
            y = TOP + plot_h - base[i] - h
            base[i] += h
            x = LEFT + step_x * i + step_x * 0.15
            parts.append(
                f'<rect class="bar" data-series="{escape(name)}" data-value="{value}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{step_x * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(name)}, week of {escape(labels[i])}: {value}</title></rect>"
            )
    x = LEFT
    for n, name in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{HEIGHT + 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="{HEIGHT + 17}">{escape(name[:30])}</text>')
        x += 24 + 7 * min(len(name), 30)
    parts.append("</svg>")
    return Markup("".join(parts))
