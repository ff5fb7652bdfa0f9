"""The ULP error histogram of one loss as inline SVG: one bar series per dtype.

Bars are grouped by ULP bucket; heights are on a log scale (``log1p(count)``) so a bucket
of 3 cases stays visible next to one of 30,000. Each bar carries its exact count in a
``<title>`` tooltip; a legend names the dtype of each colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from reports.html_util import e

PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
)
PLOT_H = 140
GROUP_W = 56
LEFT = 48
TOP = 12
BOTTOM = 40
LEGEND_H = 20


def render_histogram(
    by_series: Mapping[str, Mapping[str, int]], labels: Sequence[str], title: str = ""
) -> str:
    """An ``<svg class="histogram" role="img">`` of ``{series: {bucket label: count}}``."""
    series = [s for s, h in by_series.items() if any(h.get(lb, 0) for lb in labels)]
    width = LEFT + GROUP_W * len(labels) + 10
    height = TOP + PLOT_H + BOTTOM + LEGEND_H
    total = sum(sum(by_series[s].get(lb, 0) for lb in labels) for s in series)
    label = f"{title}: ULP error histogram, {total} measured cases" if title else "ULP histogram"
    out = [
        f'<svg class="histogram" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{e(label)}"><title>{e(label)}</title>'
    ]
    base = TOP + PLOT_H
    out.append(
        f'<line x1="{LEFT}" y1="{base}" x2="{width - 6}" y2="{base}" stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#555"/>'
    )
    peak = max(
        (by_series[s].get(lb, 0) for s in series for lb in labels),
        default=0,
    )
    out.append(
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{peak}</text>'
        f'<text x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>'
        f'<text x="12" y="{TOP + PLOT_H // 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + PLOT_H // 2})">cases (log)</text>'
    )
    if not series:
        out.append(
            f'<text x="{LEFT + 10}" y="{TOP + PLOT_H // 2}">no ULP measurements</text></svg>'
        )
        return "".join(out)
    scale = PLOT_H / math.log1p(peak)
    bar_w = max(2.0, (GROUP_W - 8) / len(series))
    for gi, lb in enumerate(labels):
        gx = LEFT + 4 + gi * GROUP_W
        for si, s in enumerate(series):
            count = by_series[s].get(lb, 0)
            if not count:
                continue
            h = max(1.0, math.log1p(count) * scale)
            x = gx + si * bar_w
            colour = PALETTE[si % len(PALETTE)]
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{e(s)} {e(lb)} ulp: {count} cases'
                "</title></rect>"
            )
        out.append(
            f'<text x="{gx + (GROUP_W - 8) / 2:.1f}" y="{base + 14}" '
            f'text-anchor="middle">{e(lb)}</text>'
        )
    out.append(
        f'<text x="{LEFT + GROUP_W * len(labels) / 2:.0f}" y="{base + 30}" '
        'text-anchor="middle">max error in ULP of the expected value</text>'
    )
    ly = height - 6
    lx = LEFT
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        out.append(
            f'<rect class="legend-swatch" x="{lx}" y="{ly - 10}" width="10" height="10" '
            f'fill="{colour}"/><text x="{lx + 14}" y="{ly}">{e(s)}</text>'
        )
        lx += 24 + 7 * len(s)
    out.append("</svg>")
    return "".join(out)
