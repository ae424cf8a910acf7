"""DET curves (APCER against BPCER on normal-deviate axes) written as a PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from smilepay.vision.liveness.metrics import Scores, det_curve

_TICKS = (0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95)


def write_det_plot(curves: Mapping[str, tuple[Scores, Scores]], path: Path, title: str) -> Path:
    """One DET curve per name from (bona fide scores, attack scores); returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    def deviate(p: Scores) -> Scores:
        return np.asarray(norm.ppf(np.clip(p, 5e-4, 1 - 5e-4)), dtype=np.float64)

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    palette = [plt.get_cmap("tab10")(i) for i in range(10)]
    for i, (name, (bona_fide, attack)) in enumerate(curves.items()):
        apcer, bpcer = det_curve(bona_fide, attack)
        ax.plot(deviate(apcer), deviate(bpcer), label=name, linewidth=1.4,
                color=palette[i % len(palette)], linestyle=("-", "--", ":")[i // len(palette) % 3])
    ticks = deviate(np.array(_TICKS))
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
