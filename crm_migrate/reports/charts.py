"""The quality report's charts as inline SVG, from the figures of `crm_migrate.migrate.explain`: a pair's
evidence as a waterfall, an entity's pairs by probability as a histogram. Labels are field names and level
labels, never values; text is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

FONTS = (
    'system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",'
    '"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif'
)


def bits_of(rate: float) -> float:
    """The prior as log-odds in bits: log2(λ / (1 - λ))."""
    rate = min(max(rate, 1e-12), 1 - 1e-12)
    return math.log2(rate / (1 - rate))


def _fmt(bits: float) -> str:
    return f"{bits:+.1f}".replace("-", "−")


def waterfall(pair: dict[str, Any], index: str, merge: float, review: float) -> str:
    """One pair's evidence as an inline SVG waterfall: the prior from 0, each field's weight from where the
    one before ended, then the total from 0, on an axis in bits with even odds and the thresholds marked."""
    e = html.escape
    rows = [("prior (match rate)", pair["prior"], 0.0)]
    at = pair["prior"]
    for s in pair["steps"]:
        rows.append((f"{s['field']}: {s['label']}", s["bits"], at))
        at += s["bits"]
    rows.append(("total weight", pair["weight"], 0.0))
    marks = [(bits_of(review), "review"), (bits_of(merge), "merge")]
    ends = [0.0, *(x for _, b, start in rows for x in (start, start + b)), *(b for b, _ in marks)]
    low, high = min(ends), max(ends)
    span = (high - low) or 1.0
    left, width, bar, top = 230, 420, 16, 22
    height = top + len(rows) * (bar + 4) + 36

    def x(bits: float) -> float:
        return left + width * (bits - low) / span

    out = [
        f'<svg class="waterfall" id="{e(index)}" role="img" width="{left + width + 70}" height="{height}" '
        f'font-size="12" data-total="{pair["weight"]:.6f}" data-prior="{pair["prior"]:.6f}" '
        f'aria-label="evidence of the pair {e(pair["left"])} and {e(pair["right"])}">'
    ]
    for bits, name in marks:
        out.append(
            f'<line x1="{x(bits):.1f}" x2="{x(bits):.1f}" y1="{top - 6}" y2="{height - 30}" '
            f'stroke="#c80" stroke-dasharray="3 3"/><text x="{x(bits):.1f}" y="{top - 9}" '
            f'text-anchor="middle" fill="#a60">{name}</text>'
        )
    out.append(
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 6}" y2="{height - 30}" stroke="#555"/>'
        f'<text x="{x(0):.1f}" y="{height - 16}" text-anchor="middle">even odds</text>'
    )
    for i, (label, bits, start) in enumerate(rows):
        y = top + i * (bar + 4)
        a, b = sorted((x(start), x(start + bits)))
        kind = "prior" if i == 0 else "total" if i == len(rows) - 1 else "step"
        colour = "#888" if kind != "step" else ("#3a7" if bits >= 0 else "#c44")
        out.append(
            f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end">{e(label)}</text>'
            f'<rect class="{kind}" x="{a:.1f}" y="{y}" width="{max(b - a, 1.0):.1f}" height="{bar}" '
            f'fill="{colour}" data-bits="{bits:.6f}"><title>{e(label)} {_fmt(bits)} bits</title></rect>'
            f'<text x="{max(a, b) + 4:.1f}" y="{y + bar - 4}">{_fmt(bits)}</text>'
        )
    out.append(f'<text x="{left}" y="{height - 2}">probability {pair["probability"]:.4f}</text></svg>')
    return "".join(out)


def histogram_svg(data: dict[str, Any], entity: str) -> str:
    """Pairs per probability band of 0.01 as inline SVG bars (height on a log scale: most pairs are far
    apart), the review and merge thresholds marked."""
    e = html.escape
    counts = data["histogram"]
    if not counts:
        return ""
    left, width, height, top = 50, 600, 160, 20
    step = width / len(counts)
    peak = math.log10(1 + max(counts)) or 1.0
    out = [
        f'<svg class="histogram" id="histogram-{e(entity)}" role="img" width="{left + width + 20}" '
        f'height="{top + height + 40}" font-size="11" data-scored="{data["scored"]}" '
        f'aria-label="pairs of {e(entity)} by probability">'
    ]
    for i, n in enumerate(counts):
        h = height * math.log10(1 + n) / peak
        out.append(
            f'<rect x="{left + i * step:.1f}" y="{top + height - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#47a" data-band="{i}" data-count="{n}"><title>{i / 100:.2f}–'
            f"{(i + 1) / 100:.2f}: {n} pairs</title></rect>"
        )
    for threshold, name in ((data["review"], "review"), (data["merge"], "merge")):
        tx = left + width * threshold
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 8}" y2="{top + height}" stroke="#c80" '
            f'stroke-width="2"/><text x="{tx - 3:.1f}" y="{top - 10}" text-anchor="end" fill="#a60">'
            f"{name} {threshold:g}</text>"
        )
    for tick in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<text x="{left + width * tick:.1f}" y="{top + height + 14}" text-anchor="middle">{tick:g}</text>')
    out.append(
        f'<text x="{left + width / 2}" y="{top + height + 32}" text-anchor="middle">probability '
        f"(bar height: log scale; {data['scored']} pairs scored)</text></svg>"
    )
    return "".join(out)
