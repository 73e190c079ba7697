"""config.yaml: validation with defaults, cross-checks, and the grid of runs it defines.

The schema (src/plasticity/config.schema.yaml) checks types, ranges and key names; this module adds
the checks a schema cannot express and resolves each run into the flat dict of RunConfig fields that
training receives and Snakemake compares to rerun what changed.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
from pathlib import Path

import jsonschema
import yaml

from plasticity.hooks import EPOCH_METRICS, FIXED_DENSITY_METHODS, METHODS, REGULARIZERS
from plasticity.output_kinds import KINDS
from plasticity.published import swr_published_pick
from plasticity.run import RunConfig

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")
DENSE_C = 100  # dense networks train with every unit; their tickets prune that run to each c


class ConfigError(ValueError):
    """A problem in the config, named by its key path."""


def _extend_with_default(validator_class):
    """jsonschema's recipe: fill each property's `default` into the instance, then validate it."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for key, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(key, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _extend_with_default(jsonschema.Draft202012Validator)
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
for _name, _registry in (("method", METHODS), ("regularizer_kind", REGULARIZERS), ("epoch_metric", EPOCH_METRICS)):
    SCHEMA["$defs"][_name]["enum"] = list(_registry)


def _key_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def _describe(error: jsonschema.ValidationError) -> list[str]:
    """One line per problem, naming the key path; unknown keys get the closest allowed name."""
    parts = list(error.absolute_path)
    if error.validator != "additionalProperties":
        return [f"config key {_key_path(parts)}: {error.message}"]
    allowed = sorted(error.schema.get("properties", {}))
    lines = []
    for key in sorted(set(error.instance) - set(allowed)):
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        lines.append(
            f"config key {_key_path([*parts, key])} is unknown; {hint}allowed keys: {', '.join(allowed)}"
        )
    return lines


def _lookup(mapping: dict, name: str, section: str):
    if name not in mapping:
        raise ConfigError(f"unknown {section} '{name}'; known: {', '.join(sorted(mapping))}")
    return mapping[name]


def _merged(base: dict, override: dict) -> dict:
    """override on top of base; nested dicts (grow, prune, replay) merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if nested else value
    return merged


def _check_names(cfg: dict) -> list[str]:
    """Every scale, study, setting and dataset named anywhere exists."""
    problems = []

    def check(name: str, known: dict, section: str, key_path: str):
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(f"config key {key_path}: unknown {section} '{name}'; {hint}known: {', '.join(known)}")

    check(cfg["scale"], cfg["scales"], "scale", "scale")
    for i, study in enumerate(cfg["only_studies"]):
        check(study, cfg["studies"], "study", f"only_studies[{i}]")
    for study, plan in cfg["studies"].items():
        for variant, methods in plan.get("variant_methods", {}).items():
            check(variant, plan.get("variants", {}), "variant", f"studies.{study}.variant_methods.{variant}")
            for i, method in enumerate(methods):
                check(method, dict.fromkeys(plan["methods"]), "method of the study",
                      f"studies.{study}.variant_methods.{variant}[{i}]")
    for study, plan in cfg["studies"].items():
        for i, kind in enumerate(plan["outputs"]):
            check(kind, {k: v for k, v in KINDS.items() if v.per != "studies"}, "output kind", f"studies.{study}.outputs[{i}]")
    for name, combined in cfg["combined_outputs"].items():
        check(combined["kind"], {k: v for k, v in KINDS.items() if v.per == "studies"}, "output kind",
              f"combined_outputs.{name}.kind")
        for i, study in enumerate(combined["studies"] + combined["show"]):
            check(study, cfg["studies"], "study", f"combined_outputs.{name}.studies[{i}]")
    protocol = [scale for scale, values in cfg["scales"].items() if values["protocol"]]
    if len(protocol) != 1:
        problems.append(f"exactly one scale must have protocol: true (the publications' protocols), got {protocol}")
    for setting, values in cfg["settings"].items():
        check(values["dataset"], cfg["data"]["datasets"], "dataset", f"settings.{setting}.dataset")
    for study, plan in cfg["studies"].items():
        for i, setting in enumerate(plan["settings"]):
            check(setting, cfg["settings"], "setting", f"studies.{study}.settings[{i}]")
    for scale, overrides in cfg["scales"].items():
        for study, plan in overrides["studies"].items():
            check(study, cfg["studies"], "study", f"scales.{scale}.studies.{study}")
            for i, setting in enumerate(plan.get("settings", [])):
                check(setting, cfg["settings"], "setting", f"scales.{scale}.studies.{study}.settings[{i}]")
        for setting in overrides["settings_run"]:
            check(setting, cfg["settings"], "setting", f"scales.{scale}.settings_run.{setting}")
    return problems


def _point(kind: str, strengths: dict) -> tuple[str, dict]:
    """A grid point's name and regularizer keys, e.g. ('swr-0.01-0.001', {kind, strength, head_strength});
    kind `none` is named "": it is the base setting itself."""
    keys = {"kind": kind, **strengths}
    name = "" if kind == "none" else kind
    for key in ("strength", "head_strength"):
        if key in strengths:
            name += f"-{strengths[key]:g}"
    return name.lstrip("-"), keys


def regularizer_grid(grid: dict) -> list[tuple[str, dict]]:
    """(name, regularizer keys) of every point of a study's `regularizers` grid: per kind, the cross product
    of its `strength` and `head_strength` lists (a kind without lists is one point), named e.g.
    `head_reset`, `l2-0.01` or `swr-0.01-0.001`. Kind `none` is named "": it is the base setting itself, so
    its runs are shared with every study of that setting."""
    points = []
    for kind, lists in grid.items():
        for strength, head_strength in itertools.product(lists.get("strength", [None]), lists.get("head_strength", [None])):
            values = {"strength": strength, "head_strength": head_strength}
            points.append(_point(kind, {key: value for key, value in values.items() if value is not None}))
    return points


def published_grid(grid: dict, run: dict) -> list[tuple[str, dict]]:
    """lambda_selection `published`: per kind of the grid, the one point the SWR publication lists for the run's
    experiment, dataset and model (published/protocol_swr_table02..04). Raises ConfigError where it lists none."""
    experiment = run["stream"] if run["stream"] in ("warm_start", "chunks") else "single"
    dataset, model = DATASET_NAMES.get(run["dataset"], run["dataset"]), MODEL_NAMES[run["model"]]
    points = []
    for kind in grid:
        if kind in ("none", "head_reset"):
            points.append(_point(kind, {}))
            continue
        pick = swr_published_pick(experiment, run["access"], dataset, model, kind)
        if pick is None:
            raise ConfigError(f"setting {run['setting']}: the SWR publication lists no lambda of {kind} for {model} "
                              f"on {dataset} ({experiment}); use lambda_selection: validation")
        points.append(_point(kind, pick))
    return points


def variant_setting(base: str, point: str) -> str:
    return f"{base}-{point}" if point else base


def base_setting(setting: str) -> str:
    """The setting a variant `<base>-<point>` is built from (setting names have no '-')."""
    return setting.split("-", 1)[0]


def grid_points(cfg: dict, scale: str, plan: dict, base: str) -> list[tuple[str, dict]]:
    """(name, run overrides) of every variant a study runs on its base setting `base` at `scale`: the cross
    product of its regulariser grid points, its `variants` and its `lrs`, named e.g. `l2-0.01`, `rsl-lr0.001`;
    the name "" (no overrides) is the base setting itself (see study_plan)."""
    grid = plan.get("regularizers", {})
    if plan["lambda_selection"] == "published" and grid:
        regularizers = published_grid(grid, run_config(cfg, scale, base, "dense", DENSE_C, 1))
    else:
        regularizers = regularizer_grid(grid) or [("", {"kind": "none"})]
    axes = [
        [(name, {"regularizer": keys} if name else {}) for name, keys in regularizers],
        [("" if name == "none" else name, overrides) for name, overrides in plan.get("variants", {"none": {}}).items()],
        [(f"lr{lr:g}", {"lr": lr}) for lr in plan["lrs"]] if plan.get("lrs") else [("", {})],
    ]
    points = []
    for combination in itertools.product(*axes):
        overrides: dict = {}
        for _, layer in combination:
            overrides = _merged(overrides, layer)
        points.append(("-".join(name for name, _ in combination if name), overrides))
    return points


def _variant_settings(cfg: dict) -> tuple[dict, dict, list[str]]:
    """Every variant of a setting that a study of some scale asks for, its overrides, and any clash."""
    variants, overrides_of, problems = {}, {}, []
    for scale in cfg["scales"]:
        for study in cfg["studies"]:
            plan = {**cfg["studies"][study], **cfg["scales"][scale]["studies"].get(study, {})}
            for base in plan["settings"]:
                if plan.get("regularizers") and cfg["settings"][base].get("regularizer", {}).get("kind", "none") != "none":
                    problems.append(f"settings.{base}: the base setting of study {study}'s regularizer grid "
                                    "must not set a regularizer kind (the grid point `none` is the base itself)")
                try:
                    points = grid_points(cfg, scale, plan, base)
                except ConfigError as error:
                    problems.append(f"scale {scale}, study {study}: {error}")
                    continue
                names = [name for name, _ in points]
                if len(set(names)) < len(names):
                    problems.append(f"scale {scale}, study {study}: two grid points print alike in {names}")
                for name, overrides in points:
                    setting = variant_setting(base, name)
                    if not name:
                        continue
                    if overrides_of.get(setting, overrides) != overrides:
                        problems.append(f"setting {setting}: studies define it differently "
                                        f"({overrides_of[setting]} and {overrides}); name the variants apart")
                    overrides_of[setting] = overrides
                    variants[setting] = _merged(cfg["settings"][base], overrides)
    return variants, overrides_of, problems


def _lost_overrides(resolved: dict, overrides: dict, path: str = "") -> list[str]:
    """The keys of a variant's overrides that its resolved run does not keep (a scale override replaced them)."""
    lost = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            lost += _lost_overrides(resolved[key], value, f"{path}{key}.")
        elif resolved[key] != (list(value) if isinstance(value, tuple) else value):
            lost.append(f"{path}{key}")
    return lost


def _check_runs(cfg: dict, overrides_of: dict) -> list[str]:
    """Checks on the resolved runs of every scale (the dataset may come from a scale override)."""
    problems = []
    for scale in cfg["scales"]:
        settings = {setting for study in cfg["studies"] for setting in study_plan(cfg, scale, study)["settings"]}
        for setting in sorted(settings):
            run = run_config(cfg, scale, setting, "dense", DENSE_C, 1)
            where = f"scale {scale}, setting {setting}"
            lost = _lost_overrides(run, overrides_of.get(setting, {}))
            if lost:
                problems.append(f"{where}: scales.{scale}.settings_run.{base_setting(setting)} overrides what the "
                                f"variant sets ({', '.join(lost)}); move those keys into the base setting or the variant")
            if run["edit_events"] > (run["cycles"] - 1) // run["edit_every_tasks"]:
                problems.append(f"{where}: edit_events {run['edit_events']} do not fit in {run['cycles']} tasks with "
                                f"an edit every {run['edit_every_tasks']}")
            if run["steps_per_epoch"] and run["stream"] == "split" and run["replay"]["enabled"]:
                problems.append(f"{where}: steps_per_epoch does not combine with replay; set one of them")
            if run["dataset"] not in cfg["data"]["datasets"]:
                problems.append(f"{where}: dataset '{run['dataset']}' is not in data.datasets")
            if run["stream"] == "warm_start" and run["cycles"] != 2:
                problems.append(f"{where}: a warm_start stream trains 2 cycles (part of the data, then all), "
                                f"but cycles is {run['cycles']}")
            regularizer = run["regularizer"]
            if regularizer["kind"] in ("swr", "swr_reinit", "shrink_perturb") and not (
                    0 <= regularizer["strength"] <= 1 and 0 <= regularizer["head_strength"] <= 1):
                problems.append(f"{where}: a {regularizer['kind']} lambda must lie in [0, 1], got {regularizer}")
            if run["grow"]["transplant"] and run["optimizer"] == "sgd" and run["momentum"] == 0:
                problems.append(f"{where}: grow.transplant copies optimizer state, but SGD without momentum keeps "
                                f"none; set momentum (the study runs Moment Transplant with 0.9) or optimizer: adam")
            if run["activation"] == "rsl":
                if regularizer["kind"] in ("swr", "swr_reinit"):
                    problems.append(f"{where}: SWR's rescaling keeps the network's function (argmax) only for a "
                                    f"positively homogeneous activation such as ReLU; RSL is not one (f(a x) != a f(x)), "
                                    f"so activation: rsl with regularizer {regularizer['kind']} is refused")
                if run["model"] in ("resnet20", "resnet18"):
                    problems.append(f"{where}: model {run['model']} is built with ReLU only; use activation: relu")
                if run["rsl"]["lower"] > run["rsl"]["upper"]:
                    problems.append(f"{where}: rsl.lower {run['rsl']['lower']} is above rsl.upper {run['rsl']['upper']}")
            if run["stream"] == "split" and run["tasks"] != run["cycles"]:
                problems.append(
                    f"{where}: a split stream trains one task per cycle, but tasks is "
                    f"{run['tasks']} and cycles is {run['cycles']} "
                    f"(set scales.{scale}.settings_run.{setting}.tasks)"
                )
    return problems


def load_config(raw: dict) -> dict:
    """The validated config with defaults filled; raises ConfigError listing every problem."""
    cfg = copy.deepcopy(raw)
    errors = sorted(
        DefaultFillingValidator(SCHEMA).iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path]
    )
    problems = [line for error in errors for line in _describe(error)]
    if not problems:
        problems = _check_names(cfg)
    if not problems:
        for study, plan in cfg["studies"].items():
            plan.setdefault("label", study)
        variants, overrides_of, problems = _variant_settings(cfg)
        cfg["settings"].update(variants)  # from here on a variant is a setting like any other
    if not problems:
        problems = _check_runs(cfg, overrides_of)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return cfg


def built_studies(cfg: dict) -> list[str]:
    """The studies the DAG builds: `only_studies`, or every study."""
    return cfg["only_studies"] or list(cfg["studies"])


def study_plan(cfg: dict, scale: str, study: str) -> dict:
    """The study's methods, compactness values, seed count and settings at this scale.

    A study with a `regularizers` grid, `variants` or `lrs` runs every point of them on each of its settings: its
    `settings` are then the variants `<base>-<point>`, and `base_settings` the settings they are built from.
    """
    overrides = _lookup(cfg["scales"], scale, "scale")["studies"].get(study, {})
    plan = {**_lookup(cfg["studies"], study, "study"), **overrides}
    plan["base_settings"] = plan["settings"]
    plan["settings"] = [variant_setting(base, name) for base in plan["base_settings"]
                        for name, _ in grid_points(cfg, scale, plan, base)]
    return plan


def trained_c(method: str, c: int) -> int:
    """Compactness of the training run whose final mask a ticket at c starts from."""
    return DENSE_C if method == "dense" else int(c)


def run_config(cfg: dict, scale: str, setting: str, method: str, c: int, seed: int) -> dict:
    """The flat RunConfig dict of one run: defaults <- setting <- scale run <- scale settings_run.

    A run does not depend on the study that asks for it: studies are views over shared runs. A regularised
    variant of a setting takes the scale's settings_run of its base setting.
    """
    overrides = _lookup(cfg["scales"], scale, "scale")
    values = cfg["defaults"]
    for layer in (_lookup(cfg["settings"], setting, "setting"), overrides["run"],
                  overrides["settings_run"].get(base_setting(setting), {})):
        values = _merged(values, layer)
    values = {**values, "setting": setting, "method": method, "c": int(c),
              "seed": int(seed), "device": cfg["device"]}
    if method == "imp":  # one training per pruning round: the rounds follow from c
        values["cycles"] = imp_rounds(int(c), values["sparse"]["imp_fraction"]) + 1
    return RunConfig.from_dict(values).to_dict()


def imp_rounds(c: int, fraction: float) -> int:
    """IMP's pruning rounds from a dense network to density c% at `fraction` of the remaining weights per round
    (the last round prunes only what is left to reach c)."""
    return max(0, math.ceil(math.log(c / 100) / math.log(1 - fraction) - 1e-9))


def default_run(cfg: dict, **fields) -> RunConfig:
    """config.yaml's defaults with `fields` on top (nested blocks merge key by key): a run that needs no setting,
    for tests, benchmarks and notebooks. `fields` must name at least the grid fields and the dataset."""
    return RunConfig.from_dict({"device": cfg["device"], **_merged(cfg["defaults"], fields)})


def setting_methods(plan: dict, setting: str) -> list[str]:
    """The study's methods that run on one of its settings: those its variant allows (`variant_methods`), or all."""
    for part in setting.split("-")[1:]:
        if part in plan.get("variant_methods", {}):
            return [method for method in plan["methods"] if method in plan["variant_methods"][part]]
    return plan["methods"]


def _grid(cfg: dict, scale: str, study: str, compactness_of) -> list[dict]:
    plan = study_plan(cfg, scale, study)
    return [
        run_config(cfg, scale, setting, method, c, seed)
        for setting in plan["settings"]
        for method in setting_methods(plan, setting)
        for c in compactness_of(method, plan["compactness"])
        for seed in range(1, plan["seeds"] + 1)
    ]


def run_grid(cfg: dict, scale: str, study: str) -> list[dict]:
    """Every training run of the study: dense once per seed at c=100, every other method at each c, but a
    fixed-density method (IMP, RigL, SET, PHEW) not at c=100, where it would be a dense training again."""
    return _grid(cfg, scale, study, lambda method, levels: sorted(
        {trained_c(method, c) for c in levels if not (method in FIXED_DENSITY_METHODS and c == DENSE_C)}))


def ticket_grid(cfg: dict, scale: str, study: str) -> list[dict]:
    """Every winning-ticket retraining: each method at each c and seed, but Dense at c = 100, whose ticket
    would repeat its training run (every unit, the same initialisation and data)."""
    return _grid(cfg, scale, study, lambda method, levels: [c for c in levels if (method, c) != ("dense", DENSE_C)])


def run_dir(run: dict) -> str:
    """A run's directory below results/{scale}/ (shared by its train/ and ticket/ outputs and by every study)."""
    return f"runs/{run['setting']}/{run['method']}/c{run['c']}/seed{run['seed']}"


DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
                 "tinyimagenet": "TinyImageNet", "imagenet32": "ImageNet 32x32", "synthetic": "synthetic data"}


def figure_title(cfg: dict, scale: str, setting: str) -> str:
    """Dataset, benchmark and scale of a setting, e.g. 'Split-Fashion-MNIST, 5 tasks + TinyER (quick)'."""
    run = run_config(cfg, scale, setting, "dense", DENSE_C, 1)
    dataset = DATASET_NAMES.get(run["dataset"], run["dataset"])
    if run["stream"] == "split":
        replay = " + TinyER" if run["replay"]["enabled"] else ", no replay"
        benchmark = f"Split-{dataset}, {run['tasks']} tasks{replay}"
    elif run["stream"] == "permuted":
        benchmark = f"Permuted {dataset}, {run['cycles']} tasks"
    elif run["stream"] == "random_label":
        benchmark = f"Random-Label {dataset}, {run['cycles']} tasks"
    elif run["stream"] == "class_tasks" and run["task_labels"] == "local":
        benchmark = f"{dataset} class pairs, {run['cycles']} tasks" if run["task_classes"] == [2] else \
            f"{dataset} tasks of {'/'.join(map(str, run['task_classes']))} classes, {run['cycles']} tasks"
    elif run["stream"] == "class_tasks":
        benchmark = f"{'+'.join(map(str, run['task_classes']))} {dataset}, {run['cycles']} tasks"
    elif run["stream"] == "warm_start":
        benchmark = f"{dataset} warm start ({100 * run['warm_fraction']:g}% of the data, then all)"
    elif run["stream"] == "chunks":
        benchmark = f"{dataset}, {run['cycles']} chunks, {run['access']} access"
    elif run["lr_schedule"] == "step":
        benchmark = f"{dataset} single task, LR step decay"
    else:
        benchmark = f"{dataset} i.i.d."
    return f"{benchmark} ({scale})"


MODEL_NAMES = {"mlp": "MLP", "convnet": "ConvNet", "cnn": "CNN", "cnn_bn": "CNN-BN", "vgg16": "VGG-16",
               "resnet20": "ResNet-20", "resnet18": "ResNet-18"}


def model_title(cfg: dict, scale: str, setting: str) -> str:
    """figure_title with the model in front, e.g. 'CNN on Fashion-MNIST warm start (...) (quick)'."""
    run = run_config(cfg, scale, setting, "dense", DENSE_C, 1)
    return f"{MODEL_NAMES[run['model']]} on {figure_title(cfg, scale, setting)}"


def ablation_title(cfg: dict, scale: str, study: str) -> str:
    """Datasets, study and scale of an ablation figure, e.g. 'Fashion-MNIST ConvNet: cycles ablation (quick)'."""
    settings = study_plan(cfg, scale, study)["settings"]
    runs = [run_config(cfg, scale, setting, "grow", DENSE_C, 1) for setting in settings]
    datasets = ", ".join(sorted({DATASET_NAMES.get(run["dataset"], run["dataset"]) for run in runs}))
    models = ", ".join(sorted({"ConvNet" if run["model"] == "convnet" else "MLP" for run in runs}))
    return f"{datasets} {models}: {study} ablation ({scale})"
