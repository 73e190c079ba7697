"""Figures: one module per figure family; they read tidy tables only, never checkpoints."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are rendered by headless Snakemake jobs

from matplotlib.figure import Figure  # noqa: E402

from plasticity.io import atomic_path  # noqa: E402

# Okabe-Ito colour-blind-safe palette; a method keeps its colour in every figure.
METHOD_COLORS = {"dense": "#000000", "grow": "#D55E00", "prune": "#0072B2"}


def save_figure(fig: Figure, *paths: str | Path) -> None:
    """Save `fig` to each path, in the format its suffix names (pdf, png, ...)."""
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=200, bbox_inches="tight")
