"""Figures: one module per figure family; they read tidy tables only, never checkpoints."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are rendered by headless Snakemake jobs

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

from plasticity.io import atomic_path  # noqa: E402
from plasticity.provenance import line as provenance_line  # noqa: E402
from plasticity.provenance import write as write_provenance  # noqa: E402
from plasticity.stats import mean_ci  # noqa: E402

from plasticity.hooks import METHODS  # noqa: E402

METHOD_COLORS = {name: entry.color for name, entry in METHODS.items()}


def save_figure(fig: Figure, *paths: str | Path, provenance: dict | None = None) -> None:
    """Save `fig` to each path, in the format its suffix names (pdf, png, ...); with `provenance`, its line goes
    into each file's metadata and the record beside the first path (<stem>.provenance.json)."""
    for path in paths:
        suffix = Path(path).suffix.lstrip(".")
        metadata = {"Subject" if suffix == "pdf" else "Description": provenance_line(provenance)} if provenance else None
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix, dpi=200, bbox_inches="tight", metadata=metadata)
    if provenance:
        write_provenance(Path(paths[0]).with_suffix(""), provenance)
    plt.close(fig)


def mean_ci_line(ax: Axes, per_seed: pd.DataFrame, x: str, y: str, *, band: bool = True, offset: float = 0.0,
                 limits: tuple[float, float] = (-np.inf, np.inf), **style) -> None:
    """Mean ± 95% CI over the rows (seeds) at each x, as a line with a band or with error bars.

    `limits` clips the band to the values the quantity can take (a t-interval of 3 accuracies can reach below 0%)."""
    levels = sorted(per_seed[x].unique())
    means, cis = map(np.array, zip(*(mean_ci(per_seed.loc[per_seed[x] == level, y].to_numpy()) for level in levels)))
    cis = np.nan_to_num(cis)
    xs = np.asarray(levels, dtype=float) + offset
    if band:
        ax.plot(xs, means, markersize=4, linewidth=1.4, **style)
        ax.fill_between(xs, np.clip(means - cis, *limits), np.clip(means + cis, *limits), color=style["color"],
                        alpha=0.15, linewidth=0)
    else:
        ax.errorbar(xs, means, yerr=cis, markersize=4, linewidth=1.4, capsize=2.5, **style)
