"""Every table and figure kind, declared once: what it is (table or figure), what it is made per (one per study,
per setting of a study, or one from several studies: `combined_outputs`), which collected tables it reads, its
builder (plasticity.builders), caption and file name. plasticity.outputs resolves the outputs a config asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Kind:
    form: str  # "table" (.csv, .md, .tex) or "figure" (.pdf, .png)
    per: str  # "study", "setting" (a base setting of the study: all its regulariser grid points), or "studies"
    reads: tuple[str, ...]  # collected tables, concatenated over the settings it shows (runs: their devices too)
    builder: str  # plasticity.builders.<name>(tables, output, cfg, files) -> (tidy, formatted) or a Figure
    caption: str  # formatted with label, scale, title
    stem: str  # file name below figures/<scale>/, formatted with study, setting, kind, name
    title: str = "setting"  # setting | model | ablation | readings: how the figure title is made
    files: tuple[str, ...] = ()  # other inputs by name: "mapping" (the scorecard mapping)


_COMPARISON = "{label} study ({scale} scale)"
KINDS = {
    "summary": Kind("table", "study", ("runs",), "summary", _COMPARISON + ": winning-ticket accuracy and WT - Cycle gap per "
                    "benchmark and method; Grow and Prune averaged over compactness levels (each seed averaged over c "
                    "first), Dense the full network (c = 100); mean ± 95% CI over seeds, in %.", "{study}_summary"),
    "compactness": Kind("table", "study", ("runs",), "compactness", _COMPARISON + ": Cycle and WT accuracy per benchmark, "
                        "compactness c (%) and method (Dense at c < 100: its one-shot magnitude-pruned ticket; at 100: "
                        "the full network); mean ± 95% CI over seeds, in %.", "{study}_compactness"),
    "welch": Kind("table", "study", ("runs",), "welch", _COMPARISON + ": Welch two-sample t-test p-values (two-sided, "
                  "unadjusted) per benchmark and compactness; Dense at c: Cycle metrics of the full network, WT metrics "
                  "of its pruned ticket (the scorecard tests against the full network's WT, as the papers do).",
                  "{study}_welch"),
    "cycle_vs_ticket": Kind("figure", "setting", ("runs",), "cycle_vs_ticket",
                            "{title}: test accuracy of Dense, Grow and Prune at each compactness c (% of hidden units "
                            "kept), at the end of the last cycle (Cycle) and after retraining the final mask from the "
                            "run's initialisation (winning ticket, WT); mean and 95% t-interval over the seeds of the "
                            "{scale} scale. Dense trains with all units (the reference line); its tickets keep the top-c "
                            "units by one-shot magnitude pruning.", "{study}_{setting}"),
    "birth_parity": Kind("figure", "setting", ("probe", "runs"), "birth_parity",
                         "{title}. Log-parity at each cycle boundary: Grow newborns vs incumbents right after the birth "
                         "(Post), and Prune pruned vs kept units at the end of the cycle where Prune decides (Exit), for "
                         "activity and gradient; mean and 95% CI over seeds.", "{study}_{setting}_birth_parity"),
    "post_birth": Kind("figure", "setting", ("probe", "runs"), "post_birth",
                       "{title}. Activity and gradient log-ratio newborn / incumbent after each birth, against newborn "
                       "age in epochs, until the next edit; one line per birth event, mean and 95% CI over seeds.",
                       "{study}_{setting}_post_birth"),
    "taa_vs_parity": Kind("figure", "setting", ("probe", "runs"), "taa_vs_parity",
                          "{title}. Cycle TAA of each run against its event-local log-parity (newborn/incumbent over "
                          "newborn ages 0–{early} epochs after each birth, averaged over births), gradient and activity; Spearman rank "
                          "correlation in each panel.", "{study}_{setting}_taa_vs_parity"),
    "geometry": Kind("figure", "setting", ("probe", "runs"), "geometry",
                     "{title}. Parity geometry: log activity parity against log gradient parity, one point per run and "
                     "edit (births at Post, prunes at Exit), coloured by cycle boundary. Newborns in the lower right are "
                     "forward-active but backward-starved.", "{study}_{setting}_geometry"),
    "selector_table": Kind("table", "study", ("runs",), "selector_table",
                           "Grow selection heuristics ({scale} scale): activation- vs gradient-based selection of the "
                           "units to grow, per dataset and compactness c; mean ± 95% CI over seeds in %, Welch p "
                           "(activation vs gradient).", "{study}_table"),
    "allocation_table": Kind("table", "study", ("runs",), "allocation_table",
                             "Grow allocation schedules ({scale} scale): how the compactness budget is split over "
                             "FC1-FC3 (Neutral, FC1-Protect, FC3-Protect, Ends-Skewed), per dataset and c; mean ± 95% CI "
                             "over seeds in %.", "{study}_table"),
    "heuristic": Kind("figure", "study", ("probe", "runs"), "heuristic",
                      "{title}. Grow with activation- vs gradient-based selection: birth log-parity per boundary and "
                      "gradient log-ratio against newborn age.", "{study}_heuristic", "ablation"),
    "cycles": Kind("figure", "study", ("runs",), "cycles",
                   "{title}. Growth-cycle stress test: Cycle TAA, Cycle ACC and WT ACC against the number of cycles K at "
                   "a fixed total epoch budget, per method; mean and 95% CI over seeds.", "{study}_cycles", "ablation"),
    "age": Kind("figure", "study", ("probe", "runs"), "age",
                "{title}. Growth-cycle stress test: newborn/incumbent gradient log-ratio against newborn age in epochs, "
                "one line per K.", "{study}_age", "ablation"),
    "parity": Kind("figure", "study", ("probe", "runs"), "parity",
                   "{title}. Grow with and without Soft Weight Rescaling (SWR applied after every step while units are "
                   "grown; masked-off units' incoming weights are rescaled too): birth log-parity per boundary and "
                   "gradient log-ratio against newborn age.", "{study}_parity", "ablation"),
    "accuracy": Kind("figure", "setting", ("epochs", "runs"), "accuracy",
                     "{title}. Soft Weight Rescaling and its baselines, each at the lambda with the best mean final "
                     "validation accuracy (held-out training data, never the test set): test accuracy after every "
                     "epoch, mean and 95% t-interval over seeds; dotted lines mark data changes.",
                     "{study}_{setting}_accuracy", "model"),
    "norms": Kind("figure", "setting", ("norms", "epochs", "runs"), "norms",
                  "{title}. Soft Weight Rescaling and its baselines at their selected lambda: Frobenius norm of each "
                  "weight layer (forward order; the head is the classifier) at initialisation (epoch 0) and after every "
                  "epoch, mean and 95% t-interval over seeds; dotted lines mark data changes.",
                  "{study}_{setting}_norms", "model"),
    "swr_single_task": Kind("table", "studies", ("runs",), "swr_single_task",
                            "Soft Weight Rescaling, single task ({scale} scale): final test accuracy per model, dataset "
                            "and LR schedule, each regulariser at the lambda with the best mean final validation accuracy "
                            "(held-out training data); mean ± 95% CI over seeds, in %.", "{name}"),
    "gcg_table": Kind("table", "study", ("epochs", "runs"), "gcg_table",
                      "{label} study ({scale} scale): test accuracy after training, final density and training cost "
                      "(FLOPs of every step, growth phases and IMP rounds included, over those of one dense "
                      "training of the same seed) per benchmark, target density c (%; growth methods at 100: "
                      "stopped by the rule) and method; mean ± 95% CI over seeds; Welch p of PathGrow against the "
                      "method at the same c (accuracy, two-sided, unadjusted).", "{study}_table"),
    "gcg_density": Kind("figure", "setting", ("epochs", "runs"), "gcg_density",
                        "{title}: test accuracy against final density per method (target densities c; stars: "
                        "growth runs at c = 100, at the density where the stopping rule ended growth); mean and 95% "
                        "CI over seeds in both directions.", "{setting}_density"),
    "gcg_cost": Kind("figure", "setting", ("epochs", "runs"), "gcg_cost",
                     "{title}: test accuracy against training cost, the FLOPs of every training step (forward and "
                     "backward of the masked network; growth phases and IMP rounds included) over one dense "
                     "training's; mean and 95% CI over seeds.", "{setting}_cost"),
    "gcg_stopping": Kind("figure", "setting", ("epochs", "runs"), "gcg_stopping",
                         "{title}: the stopping rule of each growth run at c = 100: validation accuracy after each "
                         "growth stage against density, the logistic fitted in log10(density), and (dotted) the "
                         "density growth stopped at, with the reason (fit, fallback, budget).",
                         "{setting}_stopping"),
    "intervention_table": Kind("table", "studies", ("runs", "probe"), "intervention_table",
                               "Interventions on newborn integration ({scale} scale): per dataset, compactness c and "
                               "method, Cycle and WT accuracy (ACC final, TAA time-averaged), Δ = WT − Cycle (all in "
                               "%), and the early post-birth log-parities ln(newborn / incumbent) over newborn ages "
                               "0–{early} epochs, averaged over each run's births; mean ± 95% CI over seeds. (p): Welch "
                               "p (two-sided, unadjusted) of each Grow intervention against plain Grow, Moment "
                               "Transplant against Grow under the same SGD with momentum 0.9.", "{name}"),
    "intervention_synthesis": Kind("figure", "studies", ("probe", "runs"), "intervention_synthesis",
                                   "{title}. Intervention synthesis: (a) early post-birth gradient and (b) activity "
                                   "log-parity (newborn / incumbent over newborn ages 0–{early} epochs, averaged over "
                                   "each run's births) against Cycle TAA, and (c) WT ACC against Cycle TAA; large "
                                   "markers are method means, light ones single runs (seed x compactness); Spearman ρ "
                                   "over the method means and over the runs.", "{name}"),
    "rsl_parity": Kind("figure", "studies", ("probe", "runs"), "rsl_parity",
                       "{title}. Grow with ReLU and with Randomized Smooth-Leaky (RSL) activations: (a) newborn / "
                       "incumbent log-parity at Post for activity and gradient per birth event, (b) the gradient "
                       "log-ratio against newborn age; mean and 95% CI over seeds (each averaged over c).", "{name}"),
    "two_speed_sweep": Kind("figure", "studies", ("runs",), "two_speed_sweep",
                            "{title}. Two-Speed sweep: Cycle TAA and WT ACC of Grow with newborn updates amplified r "
                            "times for N optimizer steps after each birth, per r x N; mean ± 95% CI over seeds (each "
                            "averaged over c), plain Grow in each panel's title; blank cells: not run at this scale.", "{name}"),
    "continual_table": Kind("table", "study", ("runs",), "continual_table",
                            "Continual benchmarks ({scale} scale; [SP] Table 14): average accuracy over the stream "
                            "(Avg. Acc.: the online accuracy of every mini-batch before its update, pooled; 5+1: hard "
                            "tasks only; class pairs / Continual ImageNet: the task's test accuracy at its end) and "
                            "Early-task TAA (online accuracy over the first part of each task), per benchmark, c and "
                            "method, each at the LR of the grid with its best mean Avg. Acc. (shown; continual_lrs); "
                            "Dense is the full network (c = 100); mean ± 95% CI over seeds, in %.", "{study}_table"),
    "continual_lrs": Kind("table", "study", ("runs",), "continual_lrs",
                          "Continual benchmarks ({scale} scale): mean Avg. Acc. (%) of each method at every LR of the "
                          "grid; * marks the LR Table 14 (continual_table) takes, the best mean over seeds.", "{study}_lrs"),
    "continual_figure": Kind("figure", "study", ("runs",), "continual_figure",
                             "{title}. Continual benchmarks ([SP] Figure 5): average accuracy (Avg. Acc.) of each "
                             "method against compactness c, at its selected LR; seeds as light points, mean and 95% "
                             "CI; Dense (full network) as a line with its band.", "{study}_avg_acc"),
    "continual_early_figure": Kind("figure", "study", ("runs",), "continual_early_figure",
                                   "{title}. Continual benchmarks ([SP] Figure 17): Early-task TAA (online accuracy "
                                   "over the first part of each task) of each method against compactness c, at its "
                                   "selected LR; seeds as light points, mean and 95% CI; Dense as a line.", "{study}_early_taa"),
    "activation_deltas": Kind("figure", "studies", ("runs",), "activation_deltas",
                              "{title}. Activation control ([SP] Figure 14): RSL − ReLU of each benchmark's headline "
                              "metric (streams: Avg. Acc., each activation at its selected LR; i.i.d.: Cycle ACC), per "
                              "method and c; error bars: the two 95% t half-widths combined in quadrature.", "{name}"),
    "benchmarks_table": Kind("table", "study", (), "benchmarks_table",
                             "Continual benchmarks as this config runs them at the {scale} scale ([SP] Table 2, with "
                             "our decisions where the study is silent): per-task data, batch, epochs and optimizer "
                             "steps per task, tasks, the tasks before which units are edited, optimizer and LR grid.",
                             "{study}_benchmarks"),
    "rsl_table": Kind("table", "studies", (), "rsl_table",
                      "Randomized Smooth-Leaky settings as this config runs them at the {scale} scale ([SP] Table 13): "
                      "f(x) = r x + (1 − r) x σ(c x / p), r ~ U[lower, upper] in training, their mean at evaluation; "
                      "the LR grid each RSL run's LR is selected from.", "{name}"),
    "online_curves": Kind("figure", "setting", ("tasks", "runs"), "online_curves",
                          "{title}. Online accuracy of each task (its mini-batches before their updates) over the "
                          "stream, per method at its selected LR; mean and 95% CI over seeds; one panel per c.",
                          "{study}_{setting}_online", "model"),
    "readings_table": Kind("table", "studies", ("runs",), "readings_table",
                           "{title}: every reading of what the protocol leaves open, each differing from the default in "
                           "the keys named; Grow and Prune averaged over c per seed, Dense the full network; mean ± 95% CI "
                           "over seeds, in %; the published summary (SP Tables 1 and 3) beside it.{verdicts}", "{name}", "readings",
                           ("mapping",)),
    "readings_figure": Kind("figure", "studies", ("runs",), "readings_figure",
                            "{title}: every reading of what the protocol leaves open (each a setting differing from the "
                            "default in the keys named on the left), Dense (full network), Grow and Prune (each seed "
                            "averaged over compactness), mean and 95% CI over seeds with the seeds as light points; the "
                            "published value of each method as a line (band: its published interval, where printed).",
                            "{name}", "readings", ("mapping",)),
}
