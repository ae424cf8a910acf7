"""ROC and DET plots as PNG files (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smilepay.evaluation.metrics import Scores, roc_curve


def plot_verification(curves: dict[str, tuple[Scores, Scores]], out_png: Path,
                      title: str = "") -> Path:
    """ROC (TAR against FAR, log x) and DET (FNMR against FMR, log-log) of each named curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (roc_ax, det_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    perfect = [name for name, (genuine, impostor) in curves.items()
               if genuine.size and impostor.size and genuine.min() > impostor.max()]
    for name, (genuine, impostor) in curves.items():
        far, tar, _ = roc_curve(genuine, impostor)
        floor = 0.5 / max(impostor.size, 1)
        roc_ax.plot(np.maximum(far, floor), tar, label=name)
        det_ax.plot(np.maximum(far, floor), np.maximum(1 - tar, 0.5 / max(genuine.size, 1)),
                    label=name)
    roc_ax.set(xscale="log", xlabel="false match rate", ylabel="true accept rate",
               title="ROC", ylim=(0, 1.01))
    det_ax.set(xscale="log", yscale="log", xlabel="false match rate",
               ylabel="false non-match rate", title="DET")
    for ax in (roc_ax, det_ax):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    if perfect:  # every error rate is 0: the DET curve sits on its floor, say why
        det_ax.text(0.5, 0.5, "Perfect separation (no errors at some threshold):\n"
                    + ", ".join(perfect) + "\nrates of 0 are drawn at 0.5 / pairs",
                    transform=det_ax.transAxes, ha="center", va="center", fontsize=9,
                    bbox={"boxstyle": "round", "facecolor": "#e3f5ec", "edgecolor": "#0a7d5a"})
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
