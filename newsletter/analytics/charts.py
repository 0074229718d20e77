"""Small server-rendered SVG charts for the admin dashboard: no script, no CDN, nothing to
download. Each chart is decoration for sighted readers (`aria-hidden`); the page shows the same
figures in a table for screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLOURS = ("#0b5394", "#38761d", "#b45f06", "#990000", "#674ea7")


def bars(series: Sequence[tuple[str, Sequence[float]]], *, width: int = 720, height: int = 180) -> SafeString:
    """Grouped bars, one group per point (left to right in time), one colour per series."""
    points = max((len(values) for _, values in series), default=0)
    top = max((max(values, default=0) for _, values in series), default=0) or 1
    if not points:
        return SafeString("")
    group = width / points
    bar = max(group / (len(series) + 1), 1)
    rects = []
    for index, (_, values) in enumerate(series):
        for point, value in enumerate(values):
            h = height * value / top
            x = point * group + index * bar
            rects.append((f"{x:.1f}", f"{height - h:.1f}", f"{bar:.1f}", f"{h:.1f}", COLOURS[index % len(COLOURS)]))
    legend = format_html_join(
        "",
        '<span style="margin-inline-end:16px"><span style="color:{}">■</span> {}</span>',
        ((COLOURS[i % len(COLOURS)], name) for i, (name, _) in enumerate(series)),
    )
    return format_html(
        '<p class="chart-legend" aria-hidden="true">{}</p>'
        '<svg class="chart" aria-hidden="true" focusable="false" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="none" style="max-width:{}px;height:{}px;direction:ltr">{}'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#999"/></svg>',
        legend,
        width,
        height,
        width,
        height,
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>', rects),
        height,
        width,
        height,
    )
