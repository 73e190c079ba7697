"""The papers' qualitative claims, each written as a test over our tables (the claims table of the scorecard).

A claim reads the runs (and weight-norm) tables of the studies the scorecard mapping names for its published
tables, so it uses the settings that stand for the published benchmark at the scale at hand. Its result is
"reproduced" or "not reproduced" at a protocol scale, "stand-in only: holds" or "stand-in only: does not
hold" elsewhere, and "not run" with the reason when the tables it needs were not built; the numbers behind
the result are part of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from plasticity.metrics import DENSE_TRAINING_C
from plasticity.scorecard import Evidence
from plasticity.stats import mean_ci, welch
from plasticity.tables import mean_over_compactness

REPRODUCED, NOT_REPRODUCED, NOT_RUN = "reproduced", "not reproduced", "not run"
ACCURACY_METHODS = {"vanilla": "none", "L2": "l2", "L2 Init": "l2_init"}  # SWR's single-task baselines


class Missing(Exception):
    """The tables a claim needs are not built at this scale."""


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    source: str  # where the paper makes the claim
    claim: str  # the claim, in the paper's words where our transcription has them
    test: str  # the test over our tables, in words
    check: Callable[[Evidence, dict], tuple[bool, str]]  # (holds, the numbers behind it)


def _settings(evidence: Evidence, mapping: dict, table: str, keys: list[str]) -> list[tuple[str, str]]:
    """(published setting, our setting) at this scale for the published `keys` of `table`; Missing if none."""
    spec = mapping[table]
    found = [(key, spec["settings"][key][evidence.scale]) for key in keys if evidence.scale in spec["settings"][key]]
    if not found:
        raise Missing(f"no counterpart of {', '.join(keys)} at the {evidence.scale} scale")
    return found


def _runs(evidence: Evidence, study: str, setting: str) -> pd.DataFrame:
    if study not in evidence.runs:
        raise Missing(f"study {study} is not built at the {evidence.scale} scale")
    runs = evidence.runs[study]
    runs = runs[runs["setting"] == setting]
    if runs.empty:
        raise Missing(f"study {study} has no runs of {setting}")
    return runs


def _each_setting(evidence: Evidence, mapping: dict, table: str, keys: list[str], study: str, check) -> tuple[bool, str]:
    """Run `check(runs, setting) -> (holds, numbers)` on every one of our settings standing for the published
    `keys`; the claim holds if it holds on each that was built, and the numbers say which were not."""
    holds, parts, missing = True, [], []
    for setting in dict.fromkeys(ours for _, ours in _settings(evidence, mapping, table, keys)):
        try:
            runs = _runs(evidence, study, setting)
        except Missing as reason:
            missing.append(str(reason))
            continue
        setting_holds, numbers = check(runs, setting)
        holds &= setting_holds
        parts.append(numbers)
    if not parts:
        raise Missing("; ".join(missing))
    return holds, "; ".join(parts + [f"not run: {reason}" for reason in missing])


def _values(runs: pd.DataFrame, method: str, c: int, column: str) -> pd.Series:
    level = DENSE_TRAINING_C if method == "dense" else c
    return 100 * runs.loc[(runs["method"] == method) & (runs["c"] == level), column]


def _levels(runs: pd.DataFrame) -> list[int]:
    return sorted(c for c in runs["c"].unique() if c != DENSE_TRAINING_C)


def grow_beats_prune_cycle_acc(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    (_, setting), = _settings(evidence, mapping, "sp_table04_cifar100.csv", ["CIFAR-100 (i.i.d.)"])
    runs = _runs(evidence, "convnet", setting)
    holds, parts = True, []
    for c in _levels(runs):
        grow, prune = _values(runs, "grow", c, "cycle_acc"), _values(runs, "prune", c, "cycle_acc")
        p = welch(grow, prune)
        holds &= bool(grow.mean() > prune.mean() and p < 0.001)
        parts.append(f"c={c}: Grow {grow.mean():.2f} vs Prune {prune.mean():.2f}, p={p:.2g}")
    return holds, f"{setting}: " + "; ".join(parts)


def delta_positive_class_incremental(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    def check(runs: pd.DataFrame, setting: str) -> tuple[bool, str]:
        holds, parts = True, []
        for method in ("grow", "prune"):
            lows = []
            for c in _levels(runs):
                mean, ci = mean_ci(_values(runs, method, c, "delta_acc"))
                lows.append(mean - (0 if math.isnan(ci) else ci))
            over_c = 100 * mean_over_compactness(runs[runs["method"] == method], ["delta_acc"])["delta_acc"].mean()
            holds &= min(lows) > 0 and 5 <= over_c <= 12
            parts.append(f"{setting} {method}: mean over c {over_c:+.2f}, lowest CI bound {min(lows):+.2f}")
        return holds, "; ".join(parts)

    return _each_setting(evidence, mapping, "sp_table03_mlp_by_compactness.csv",
                         ["Split-MNIST (+Tiny ER)", "Split-Fashion (+Tiny ER)"], "mlp", check)


def tickets_indistinguishable(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    def check(runs: pd.DataFrame, setting: str) -> tuple[bool, str]:
        ps = {c: welch(_values(runs, "grow", c, "wt_acc"), _values(runs, "prune", c, "wt_acc")) for c in _levels(runs)}
        return all(p >= 0.05 for p in ps.values()), f"{setting}: " + ", ".join(f"c={c} p={p:.2g}" for c, p in ps.items())

    return _each_setting(evidence, mapping, "sp_table03_mlp_by_compactness.csv",
                         ["MNIST (IID)", "Split-MNIST (+Tiny ER)", "Split-Fashion (+Tiny ER)"], "mlp", check)


def dense_prune_cycle_taa_cifar10(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    (_, setting), = _settings(evidence, mapping, "sp_table10_cifar10.csv", ["CIFAR-10 (i.i.d.)"])
    runs = _runs(evidence, "convnet", setting)
    ps = {c: welch(_values(runs, "dense", c, "cycle_taa"), _values(runs, "prune", c, "cycle_taa"))
          for c in _levels(runs)}
    holds = all((p < 0.05) == (c != 50) for c, p in ps.items()) and 50 in ps
    return holds, f"{setting}: " + ", ".join(f"c={c} p={p:.2g}" for c, p in ps.items())


def _swr_selected(evidence: Evidence, study: str, setting: str) -> pd.DataFrame:
    if study not in evidence.runs:
        raise Missing(f"study {study} is not built at the {evidence.scale} scale")
    selected = evidence.selected(study)
    selected = selected[selected["base_setting"] == setting]
    if selected.empty:
        raise Missing(f"study {study} has no runs of {setting}")
    return selected


def _final_norm_ratio(norms: pd.DataFrame, setting: str) -> pd.Series:
    """Per layer: final weight norm over initial weight norm, averaged over seeds."""
    runs = norms[(norms["setting"] == setting) & (norms["phase"] == "cycle")]
    first = runs[runs["epoch"] == 0].set_index(["seed", "layer"])["weight_norm"]
    last = runs[runs["epoch"] == runs["epoch"].max()].set_index(["seed", "layer"])["weight_norm"]
    return (last / first).groupby("layer").mean()


def swr_bounded_and_accurate(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    spec = mapping["swr_table01_generalization.csv"]
    pairs = _settings(evidence, mapping, "swr_table01_generalization.csv", list(spec["settings"]))
    if "swr_single" not in evidence.norms:
        raise Missing(f"the weight norms of swr_single are not built at the {evidence.scale} scale")
    holds, parts = True, []
    for setting in dict.fromkeys(ours for _, ours in pairs):
        selected = _swr_selected(evidence, "swr_single", setting)
        swr, vanilla = (selected[selected["regularizer.kind"] == kind] for kind in ("swr", "none"))
        if swr.empty or vanilla.empty:
            raise Missing(f"{setting} lacks SWR or vanilla runs")
        ratios = {kind: _final_norm_ratio(evidence.norms["swr_single"], frame["setting"].iloc[0])
                  for kind, frame in (("swr", swr), ("none", vanilla))}
        bounded = bool((ratios["swr"] <= ratios["none"]).all())
        accurate = swr["cycle_acc"].mean() >= vanilla["cycle_acc"].mean() or welch(swr["cycle_acc"], vanilla["cycle_acc"]) >= 0.05
        holds &= bounded and accurate
        parts.append(f"{setting}: final/initial norm, largest layer ratio SWR {ratios['swr'].max():.2f} vs vanilla "
                     f"{ratios['none'].max():.2f}; accuracy SWR {100 * swr['cycle_acc'].mean():.2f} vs vanilla "
                     f"{100 * vanilla['cycle_acc'].mean():.2f}")
    return holds, "; ".join(parts)


def _improvement(evidence: Evidence, mapping: dict, table: str, study: str, kind: str, points: float) -> tuple[bool, str]:
    (_, setting), = _settings(evidence, mapping, table, ["TinyImageNet | VGG-16"])
    selected = _swr_selected(evidence, study, setting)
    means = {name: 100 * selected.loc[selected["regularizer.kind"] == regularizer, "cycle_acc"].mean()
             for name, regularizer in {**ACCURACY_METHODS, "ours": kind}.items()}
    best_other = max(value for name, value in means.items() if name != "ours")
    gain = means["ours"] - best_other
    return bool(gain > points), f"{setting}: {kind} {means['ours']:.2f} vs best other {best_other:.2f}: {gain:+.2f} points"


def swr_best_on_most(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    spec = mapping["swr_table01_generalization.csv"]
    pairs = _settings(evidence, mapping, "swr_table01_generalization.csv", list(spec["settings"]))
    wins, parts = 0, []
    for setting in dict.fromkeys(ours for _, ours in pairs):
        selected = _swr_selected(evidence, "swr_single", setting)
        means = selected.groupby("regularizer.kind")["cycle_acc"].mean()
        means = means[means.index.isin([*ACCURACY_METHODS.values(), "swr"])]
        wins += means.idxmax() == "swr"
        parts.append(f"{setting}: best {means.idxmax()} ({100 * means.max():.2f})")
    count = len(parts)
    return wins > count / 2, f"SWR best on {wins} of {count}: " + "; ".join(parts)


CONTINUAL_TABLE = "sp_table14_continual.csv"
RAPID_SHIFT = ["Permuted MNIST", "Random-Label MNIST", "Random-Label CIFAR", "Continual ImageNet"]
NEAR_BEST_POINTS = 2.0  # "best or near-best": within this many points of the best mean


def _continual_cells(evidence: Evidence, mapping: dict, keys: list[str], metric: str):
    """Per benchmark of `keys` run here, and c: the mean `metric` (%) of each of Table 14's methods (Dense, Prune,
    Grow and Grow's variants; not the activation control's Dense+RSL and Prune+RSL) at its selected LR, Dense (the
    full network) in every c's cell; plus the reasons of benchmarks not run."""
    if "continual" not in evidence.runs:
        raise Missing(f"study continual is not built at the {evidence.scale} scale")
    selected = evidence.selected("continual")
    selected = selected[(selected["variant"] == "none") | (selected["method"] == "grow")]  # Table 14's eight methods
    cells, missing = [], []
    for key, setting in _settings(evidence, mapping, CONTINUAL_TABLE, keys):
        runs = selected[selected["base_setting"] == setting]
        if runs.empty:
            missing.append(f"study continual has no runs of {setting}")
            continue
        means = runs.groupby(["method_name", "c"])[metric].mean().mul(100)
        dense = means[means.index.get_level_values("c") == DENSE_TRAINING_C].droplevel("c")
        for c in _levels(runs):
            cell = pd.concat([means.xs(c, level="c"), dense])
            cells.append((setting, c, cell))
    if not cells:
        raise Missing("; ".join(missing))
    return cells, [f"not run: {reason}" for reason in missing]


def prune_best_in_rapid_shift(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    cells, missing = _continual_cells(evidence, mapping, RAPID_SHIFT, "avg_acc")
    holds, parts = True, []
    for setting, c, cell in cells:
        gap = cell.max() - cell["Prune"]
        holds &= bool(gap <= NEAR_BEST_POINTS)
        parts.append(f"{setting} c={c}: Prune {cell['Prune']:.2f}, best {cell.idxmax()} {cell.max():.2f}")
    return holds, "; ".join(parts + missing)


def grow_rsl_most_robust(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    cells, missing = _continual_cells(evidence, mapping, list(mapping[CONTINUAL_TABLE]["settings"]), "avg_acc")
    ranks = pd.concat([cell[cell.index.str.startswith("Grow")].rank(ascending=False) for _, _, cell in cells], axis=1)
    mean_rank = ranks.mean(axis=1).sort_values()
    numbers = f"mean rank of Avg. Acc. among the Grow variants over {ranks.shape[1]} benchmark x c cells: " + \
        ", ".join(f"{name} {rank:.2f}" for name, rank in mean_rank.items())
    return mean_rank.index[0] == "Grow+RSL", "; ".join([numbers, *missing])


def dense_best_early_taa(evidence: Evidence, mapping: dict) -> tuple[bool, str]:
    cells, missing = _continual_cells(evidence, mapping, ["Permuted MNIST", "Continual ImageNet"], "early_taa")
    holds, parts = True, []
    for setting, c, cell in cells:
        holds &= bool(cell["Dense"] >= cell.max())
        parts.append(f"{setting} c={c}: Dense {cell['Dense']:.2f}, best {cell.idxmax()} {cell.max():.2f}")
    return holds, "; ".join(parts + missing)


CLAIMS = [
    Claim("sp_grow_beats_prune_cycle_acc_cifar100", "SP", "Sec. 4, Tables 4-5",
          "Grow has the higher Cycle ACC at every compactness on CIFAR-100; Grow vs Prune p < 0.001 throughout",
          "at every c: mean Cycle ACC of Grow > Prune and Welch p < 0.001", grow_beats_prune_cycle_acc),
    Claim("sp_delta_positive_class_incremental", "SP", "Sec. 4, Tables 1 and 3",
          "in class-incremental streams (Split-MNIST, Split-Fashion + TinyER) the retrained tickets beat the edit "
          "runs by 5-12 points (Delta WT - Cycle strongly positive)",
          "Grow and Prune: Delta ACC's 95% CI above 0 at every c, and its mean over c within [5, 12] points",
          delta_positive_class_incremental),
    Claim("sp_grow_prune_tickets_indistinguishable", "SP", "Sec. 4, Table 3",
          "the retrained tickets of Grow and Prune are statistically indistinguishable",
          "every MLP benchmark and c: Welch p of WT ACC, Grow vs Prune, >= 0.05", tickets_indistinguishable),
    Claim("sp_dense_prune_cycle_taa_cifar10", "SP", "Sec. 4, Table 12",
          "on CIFAR-10, Dense and Prune differ in Cycle TAA at every compactness except 50%",
          "Welch p of Cycle TAA, Dense (100%) vs Prune: < 0.05 at c = 20, 30, 40 and >= 0.05 at 50",
          dense_prune_cycle_taa_cifar10),
    Claim("sp_prune_best_in_rapid_shift", "SP", "Sec. 6, Table 14",
          "Prune is the best or near-best method in the rapid-shift streams",
          f"Permuted MNIST, Random-Label MNIST and CIFAR, Continual ImageNet, every c: Prune's mean Avg. Acc. (each "
          f"method at its selected LR, Dense the full network) within {NEAR_BEST_POINTS:g} points of the best",
          prune_best_in_rapid_shift),
    Claim("sp_grow_rsl_most_robust_growth", "SP", "Sec. 6, Table 14",
          "Grow+RSL is the most robust growth variant",
          "over every benchmark and c, Grow+RSL has the best (lowest) mean rank of Avg. Acc. among Grow and its "
          "interventions", grow_rsl_most_robust),
    Claim("sp_dense_best_early_taa", "SP", "Sec. 6, Table 14 and Figure 17",
          "Dense is best in Early-task TAA on Permuted MNIST and Continual ImageNet",
          "both benchmarks, every c: Dense's mean Early-task TAA at least every other method's",
          dense_best_early_taa),
    Claim("swr_bounded_norms_and_accuracy", "SWR", "Sec. 4.3, Table 1",
          "SWR keeps the weight norms bounded and is at least as accurate as vanilla training",
          "each single-task benchmark, selected lambda: every layer's final/initial weight norm no larger under SWR "
          "than vanilla, and SWR's mean accuracy >= vanilla's or not significantly lower (Welch p >= 0.05)",
          swr_bounded_and_accurate),
    Claim("swr_vgg16_over_4_points", "SWR", "Sec. 4.3 text (Table 1)",
          "SWR achieved an improvement of over 4% in test accuracy (VGG-16, TinyImageNet)",
          "SWR's mean accuracy minus the best of vanilla, L2 and L2 Init > 4 points",
          lambda evidence, mapping: _improvement(evidence, mapping, "swr_table01_generalization.csv", "swr_single",
                                                 "swr", 4)),
    Claim("swr_reinit_vgg16_over_8_points", "SWR", "App. E text (Table 5)",
          "SWR + re-init leads to an improvement of over 8% in test accuracy on VGG-16 (with LR decay)",
          "SWR + re-init's mean accuracy minus the best of vanilla, L2 and L2 Init > 8 points",
          lambda evidence, mapping: _improvement(evidence, mapping, "swr_table05_generalization_lr_decay.csv",
                                                 "swr_decay", "swr_reinit", 8)),
    Claim("swr_best_on_most", "SWR", "Sec. 4.3, Table 1",
          "SWR gives the best test accuracy on most of the single-task benchmarks",
          "SWR has the highest mean accuracy of vanilla, L2, L2 Init and SWR on more than half of them",
          swr_best_on_most),
]


def claims_table(evidence: Evidence, mapping: dict) -> pd.DataFrame:
    rows = []
    for claim in CLAIMS:
        try:
            holds, numbers = claim.check(evidence, mapping)
        except Missing as missing:
            result, numbers = NOT_RUN, str(missing)
        else:
            if evidence.protocol:
                result = REPRODUCED if holds else NOT_REPRODUCED
            else:
                result = "stand-in only: " + ("holds" if holds else "does not hold")
            if "not run:" in numbers:
                result += " (on the benchmarks run)"
        rows.append({"claim_id": claim.id, "paper": claim.paper, "source": claim.source, "claim": claim.claim,
                     "test": claim.test, "scale": evidence.scale, "result": result, "numbers": numbers})
    return pd.DataFrame(rows)


def claim_ids() -> set[str]:
    return {claim.id for claim in CLAIMS}
