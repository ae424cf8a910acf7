"""DET curves (APCER against BPCER on normal-deviate axes) written as a PNG.

A scorer that separates bona fide from attacks perfectly has a point at APCER = BPCER = 0,
which lies off any normal-deviate axis: its curve is drawn along the chart's edges and the
chart says so in words, so it is never an empty chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from smilepay.vision.liveness.metrics import Scores, det_curve

_TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95)


def perfectly_separated(bona_fide: Scores, attack: Scores) -> bool:
    """Some threshold accepts every bona fide and no attack (higher = more bona fide)."""
    return bool(bona_fide.size and attack.size and np.min(bona_fide) > np.max(attack))


def write_det_plot(curves: Mapping[str, tuple[Scores, Scores]], path: Path, title: str) -> Path:
    """One DET curve per name from (bona fide scores, attack scores); returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    def deviate(p: Scores) -> Scores:
        return np.asarray(norm.ppf(np.clip(p, 5e-4, 1 - 5e-4)), dtype=np.float64)

    ticks = deviate(np.array(_TICKS))

    def on_chart(p: Scores) -> Scores:  # 0 and 1 drawn on the edges, not off the chart
        return np.clip(deviate(p), ticks[0], ticks[-1])

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    palette = [plt.get_cmap("tab10")(i) for i in range(10)]
    perfect = []
    for i, (name, (bona_fide, attack)) in enumerate(curves.items()):
        apcer, bpcer = det_curve(bona_fide, attack)
        separated = perfectly_separated(np.asarray(bona_fide), np.asarray(attack))
        if separated:
            perfect.append(name)
        color = palette[i % len(palette)]
        ax.plot(on_chart(apcer), on_chart(bpcer),
                label=f"{name} (perfect separation)" if separated else name,
                linewidth=3.0 if separated else 1.4, color=color, clip_on=not separated,
                zorder=5 if separated else 2,
                linestyle=("-", "--", ":")[i // len(palette) % 3])
        if separated:  # the error-free operating point, in the corner
            ax.plot([ticks[0]], [ticks[0]], marker="o", markersize=12, color=color,
                    clip_on=False, zorder=6)
    if perfect:
        ax.text(0.4, 0.84, "Perfect separation: APCER = BPCER = 0\nat some threshold for "
                + ", ".join(perfect) + "\n(the curve runs along the axes)",
                transform=ax.transAxes, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "#e3f5ec", "edgecolor": "#0a7d5a"})
    labels = [f"{t:g}" for t in _TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylim(ticks[0], ticks[-1])
    ax.set_xlabel("APCER (attacks accepted)")
    ax.set_ylabel("BPCER (bona fide rejected)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
