"""Suites: TOML file → validated :class:`Suite` → list of :class:`Cell`.

A suite is ``defaults`` (settings every cell shares) plus a ``matrix`` of axes whose
cartesian product gives the cells, minus ``exclude`` entries, plus explicit ``include``
cells, each run ``repeat`` times. Every setting is a field of :class:`CellSettings`;
pydantic validates types strictly and this module turns its errors into one line naming
the file, the key path and what was expected (with the nearest valid key for a typo).
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import re
import tomllib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rnnbench.identity import digest, identity
from rnnbench.errors import UserError

BackendName = Literal["torch", "keras-tensorflow", "keras-torch", "keras-jax", "fake"]
BACKENDS: tuple[str, ...] = ("torch", "keras-tensorflow", "keras-torch", "keras-jax", "fake")


class CellSettings(BaseModel):
    """Every setting of one cell. Field descriptions are the suite format's reference."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    # model
    arch: str = Field("gru", description="recurrent architecture: gru | lstm | rnn (SimpleRNN) | mingru | minlstm "
                      "(Feng et al. 2024), a plugin registered in the rnnbench.architectures entry-point group, or "
                      "\"package.module:Name\" (an rnnbench.architectures.Architecture; see docs/guides/plugins.md)")
    backend: BackendName = Field("torch", description="framework adapter running the cell")
    impl: Literal["fused", "cell"] = Field(
        "fused", description="fused library layer, or an explicit cell written from the equations"
    )
    units: int = Field(128, ge=1, description="hidden units per layer and direction")
    layers: int = Field(1, ge=1, le=8, description="stacked recurrent layers")
    bidirectional: bool = Field(False, description="run each layer in both directions (concat)")
    dropout: float = Field(
        0.0, ge=0.0, lt=1.0, description="dropout on each recurrent layer's output (between layers and before the head)"
    )
    recurrent_dropout: float = Field(
        0.0, ge=0.0, lt=1.0, description="Keras recurrent_dropout (leaves the fused kernel; Keras only)"
    )
    gru_reset: Literal["after", "before"] = Field(
        "after",
        description="GRU reset gate applied after the recurrent matmul (cuDNN/PyTorch, Keras reset_after=True) "
        "or before it (Cho et al. 2014)",
    )
    init: Literal["framework", "keras", "torch"] = Field(
        "framework", description="weight initialization scheme: each framework's own, or Keras's / PyTorch's on both"
    )
    embedding_dim: int = Field(128, ge=1, description="embedding width")
    mode: Literal["eager", "compiled"] = Field(
        "eager", description="execution mode: eager (PyTorch's eager ops; Keras's own default: tf.function "
        "graphs without XLA on TensorFlow, jax.jit on JAX) or compiled (torch.compile on PyTorch, "
        "jit_compile = True on Keras: XLA on TensorFlow and JAX). The record says what really compiled")
    compile_rnn: bool = Field(
        False, description="PyTorch, mode = \"compiled\": let TorchDynamo trace into nn.GRU/LSTM/RNN "
        "(torch._dynamo.config.allow_rnn), unrolling the time loop into the graph: minutes of compilation at "
        "maxlen 200. Off (the default), Dynamo skips the model's forward and it runs eagerly")
    # training
    batch_size: int = Field(64, ge=1, description="training batch size")
    epochs: int = Field(3, ge=1, description="training epochs (the first is reported apart)")
    optimizer: Literal["adam", "rmsprop"] = Field(
        "adam", description="adam | rmsprop (the classic Keras IMDB text's optimizer); Keras's defaults otherwise"
    )
    learning_rate: float = Field(1e-3, gt=0.0, description="the optimizer's learning rate")
    adam_epsilon: float | None = Field(
        None, gt=0.0, description="Adam epsilon; unset = the framework's default (Keras 1e-7, PyTorch 1e-8)"
    )
    adam_update: Literal["framework", "keras"] = Field(
        "framework",
        description="the optimizer's update rule on PyTorch: its own, or Keras's on every backend (Adam: epsilon "
        "added to sqrt(v) before bias correction, PyTorch adds it after; RMSprop: Keras's rho 0.9 and epsilon "
        "inside the square root, PyTorch's alpha 0.99 and epsilon outside)",
    )
    max_steps_per_epoch: int | None = Field(None, ge=1, description="cap on training steps per epoch")
    validation_split: float = Field(
        0.0, ge=0.0, lt=1.0, description="hold out this last fraction of the training split as validation data "
        "(Keras's validation_split; the same reviews on every backend and train_size), evaluated after every epoch",
    )
    train_eval_size: int = Field(
        0, ge=0, description="after every epoch, evaluate on the first N training reviews for the training "
        "accuracy (a fixed subset, outside the timed steps; 0 = not measured)",
    )
    epoch_test_size: int | None = Field(
        None, ge=1, description="evaluate only the first N test reviews after each epoch (for the curves) and the "
        "whole test set once, with the selected epoch's weights restored (unset = the whole test set every epoch)",
    )
    select_epoch: Literal["best_val", "last"] = Field(
        "best_val", description="whose test accuracy is the result: the epoch with the best validation accuracy "
        "(needs validation_split; else the last) or the last epoch",
    )
    warmup_steps: int = Field(5, ge=0, description="steps of each epoch left out of the steady-state step sample")
    eval_batch_size: int = Field(512, ge=1, description="batch size for evaluation")
    # inference
    task: Literal["train", "infer"] = Field(
        "train", description="train: the training protocol; infer: forward-only latency of single requests at "
        "batch 1 and at batch_size (p50/p90/p99, throughput) and streaming one token at a time with the state "
        "carried (per-token latency), on test reviews")
    train_first: bool = Field(
        False, description="task = \"infer\": train the model first (the training protocol, recorded as usual) "
        "and serve the trained weights; off, the freshly initialized model is served")
    infer_requests: int = Field(200, ge=10, description="task = \"infer\": timed requests per batch size, after "
                                "warmup_steps untimed ones")
    stream_tokens: int = Field(2000, ge=0, description="task = \"infer\": timed tokens streamed one at a time "
                               "(review after review, the state reset at each; 0 = no streaming)")
    seed: int = Field(0, ge=0, description="seed for weights, shuffling and dropout")
    # data
    dataset: Literal["sample", "imdb"] = Field(
        "sample", description="sample = real reviews embedded in the package; imdb = the full imported data set"
    )
    encoding: Literal["rnnbench", "keras"] = Field(
        "rnnbench", description="word ids from the training split's frequencies, or Keras's imdb.load_data ids"
    )
    num_words: int = Field(20000, ge=4, description="vocabulary size (ids >= num_words become out-of-vocabulary)")
    maxlen: int = Field(200, ge=1, description="sequence length after padding/truncation")
    padding: Literal["pre", "post"] = Field("pre", description="where padding goes")
    truncating: Literal["pre", "post"] = Field("pre", description="which end long reviews lose")
    train_size: int | None = Field(
        None, ge=1, description="use only the first N training reviews (of those left after validation_split)"
    )
    test_size: int | None = Field(None, ge=1, description="use only the first N test reviews")
    # environment
    threads: int | None = Field(None, ge=1, description="intra-op threads; unset = all cores")
    flush_denormal: bool = Field(
        True, description="flush denormal floats to zero (PyTorch's RNN backward is ~9x slower without)"
    )
    onednn: bool = Field(
        True, description="let PyTorch and TensorFlow use oneDNN kernels (false: PyTorch's LSTM runs ATen's "
        "own loop like its GRU; TensorFlow gets TF_ENABLE_ONEDNN_OPTS=0)",
    )
    huge_pages: bool = Field(
        False, description="back the worker's memory with transparent huge pages (glibc's malloc and PyTorch's "
        "allocator ask for 2 MB pages): made rare the per-process slow state that put 1 in 5 LSTM/torch processes "
        "~27% behind here; needs the kernel's THP set to madvise or always",
    )
    reuse_memory: bool = Field(
        False, description="glibc's malloc keeps the memory a step frees for the next step (no chunk mmapped "
        "and unmapped, no heap trimmed: GLIBC_TUNABLES mmap_max=0, trim_threshold), so steady steps fault next to no "
        "pages; each record keeps steady_page_faults_per_step. Made LSTM/torch pairs 4x steadier here",
    )
    aslr: bool = Field(
        True, description="false: start the worker with address-space layout randomization off (Linux "
        "personality ADDR_NO_RANDOMIZE, as setarch -R does), so every process of a cell gets the same virtual "
        "memory layout instead of drawing its own; each record keeps aslr",
    )
    device: str = Field(
        "cpu", description="where the model trains: cpu, cuda (any free GPU: "
        "each concurrent cell gets its own) or cuda:N (that GPU). A GPU cell on a machine without one is recorded "
        "as skipped. On a machine with a GPU, CPU cells see none (CUDA_VISIBLE_DEVICES is emptied), so no "
        "framework picks one up unasked")
    timeout: float = Field(3600.0, gt=0, description="seconds before the cell's process is killed")
    retries: int = Field(
        0, ge=0, le=10, description="run a cell again, up to this many times, when its process crashed, it timed "
        "out or its Ray node was lost (each earlier attempt is kept in the record's attempts); errors in the "
        "cell itself are not retried")
    ray_resources: str = Field(
        "", description="custom Ray resources each cell's task asks for, NAME=AMOUNT[, ...] (e.g. \"timing_node=1\" "
        "with a node started --resources '{\"timing_node\": 1}' keeps timing cells one per node); "
        "--executor ray only")
    memory_limit_mb: float | None = Field(
        None, gt=0, description="cap the worker's address space (RLIMIT_AS, MiB): a cell that needs more ends as "
        "out_of_memory instead of swapping or waking the kernel's OOM killer. Virtual memory, not RSS: frameworks "
        "reserve far more than they touch (measured after import: PyTorch 0.6 GiB, TensorFlow 1.3 GiB; a small "
        "PyTorch cell needed more than 1.5 GiB), so leave room")
    # measurement extras
    target_accuracy: float = Field(
        0.85, gt=0.0, le=1.0, description="accuracy for time and epochs to target (validation accuracy when there "
        "is a validation split, else test accuracy)",
    )
    extra_work: float = Field(
        0.0, ge=0.0, le=10.0, description="busy-wait this fraction of each measured step (to test regression detection)"
    )
    fault: Literal["none", "crash", "hang", "error", "exit"] = Field(
        "none", description="inject a fault in the worker (for testing the harness)"
    )

    @field_validator("arch")
    @classmethod
    def _check_arch(cls, v: str) -> str:
        from rnnbench.architectures import check_name

        return check_name(v)

    @field_validator("device")
    @classmethod
    def _check_device(cls, v: str) -> str:
        if not re.fullmatch(r"cpu|cuda(:[0-9]+)?", v):
            raise ValueError(f"expected cpu, cuda or cuda:N (a GPU's index), got {v!r}")
        return v

    @field_validator("ray_resources")
    @classmethod
    def _check_ray_resources(cls, v: str) -> str:
        parse_resources(v)
        return v

    @model_validator(mode="after")
    def _check_combinations(self) -> "CellSettings":
        from rnnbench.architectures import BUILTIN, CLASSIC, load

        if self.arch in BUILTIN:
            load(self.arch).check(self)  # rnnbench's own: imported without a framework, checked now
        if self.arch not in CLASSIC:
            for name, value, default in (("impl", self.impl, "fused"), ("init", self.init, "framework"),
                                         ("recurrent_dropout", self.recurrent_dropout, 0.0),
                                         ("gru_reset", self.gru_reset, "after"), ("compile_rnn", self.compile_rnn, False)):
                if value != default:
                    raise ValueError(f"{name} = {value!r} applies to the built-in gru, lstm and rnn only, "
                                     f"not to arch = {self.arch!r}")
        if self.backend == "torch" and self.recurrent_dropout > 0:
            raise ValueError("recurrent_dropout is a Keras setting; PyTorch's layers have none")
        if self.impl == "cell" and self.recurrent_dropout > 0:
            raise ValueError('recurrent_dropout needs impl = "fused" (the explicit cells have none)')
        if self.task == "train" and self.train_first:
            raise ValueError('train_first needs task = "infer"')
        if self.task == "infer":
            if self.mode != "eager":
                raise ValueError('task = "infer" serves the eager model (mode = "compiled" compiles the training step)')
            if self.backend == "fake":
                raise ValueError('backend = "fake" has no inference: task = "infer" needs a framework')
            if self.warmup_steps < 1:
                raise ValueError('task = "infer" needs warmup_steps >= 1: the first request traces the model')
        if self.compile_rnn and (self.mode != "compiled" or self.backend != "torch"):
            raise ValueError('compile_rnn needs mode = "compiled" on backend = "torch" (it is a TorchDynamo switch)')
        if self.max_steps_per_epoch is not None and self.warmup_steps >= self.max_steps_per_epoch:
            raise ValueError(f"warmup_steps = {self.warmup_steps} leaves no steady-state step of the "
                             f"{self.max_steps_per_epoch} per epoch (max_steps_per_epoch): lower warmup_steps")
        return self

    def run_problem(self) -> str | None:
        """Why this cell cannot run as asked (checked when a suite is loaded), or None."""
        if self.backend == "torch" and self.arch == "gru" and self.gru_reset == "before" and self.impl == "fused":
            return ('PyTorch\'s fused nn.GRU only applies the reset gate after the matmul; '
                    'use impl = "cell" for gru_reset = "before"')
        return None


def parse_resources(text: str) -> dict[str, float]:
    """``ray_resources``: ``"NAME=AMOUNT, ..."`` → ``{NAME: AMOUNT}`` (ValueError naming the bad part)."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, amount = (x.strip() for x in part.partition("="))
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name) or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", amount):
            raise ValueError(f"expected NAME=AMOUNT[, NAME=AMOUNT ...] (e.g. \"timing_node=1\"), got {part!r}")
        out[name] = float(amount)
    return out


SETTING_NAMES: tuple[str, ...] = tuple(CellSettings.model_fields)
SUITE_KEYS = ("name", "description", "repeat", "defaults", "matrix", "exclude", "include", "regression", "report")
REGRESSION_KEYS = ("time", "memory", "accuracy_drop", "alpha", "max_cv", "trim", "faults")
REPORT_KEYS = ("formats", "rows", "cols", "metric", "target")  # what rnnbench report reads of [report]
REGRESSION_RANGES: dict[str, tuple[float, float, str]] = {  # open intervals
    "time": (1.0, math.inf, "a step-time ratio above 1 (e.g. 1.05 = 5% slower counts)"),
    "memory": (1.0, math.inf, "a peak-RSS ratio above 1 (e.g. 1.10)"),
    "accuracy_drop": (0.0, 1.0, "an absolute accuracy drop between 0 and 1 (e.g. 0.01)"),
    "alpha": (0.0, 1.0, "a significance level between 0 and 1 (e.g. 0.05)"),
    "max_cv": (0.0, math.inf, "a coefficient of variation above 0 (e.g. 0.10)"),
    "trim": (0.0, 0.5, "a fraction of pairs trimmed from each end, from 0 up to below 0.5 (e.g. 0.125)"),
    "faults": (1.0, math.inf, "a ratio of page faults per step above 1 (e.g. 2.0)"),
}
REGRESSION_CLOSED_LOW = frozenset({"trim"})  # 0 allowed: no trimming


@dataclass(frozen=True)
class Cell:
    """One cell of a suite: settings plus which repeat it is."""

    settings: CellSettings
    repeat: int = 0
    stored_key: str | None = field(default=None, compare=False)  # the key a stored run gave it (with_stored_keys)

    @property
    def identity(self) -> dict[str, Any]:
        """The settings that define what is measured (no seed, repeat, or harness knobs)."""
        return identity(self.settings.model_dump())

    @property
    def group_key(self) -> str:
        """Cells with equal group keys are repeats of the same measurement (seeds pooled)."""
        return digest(self.identity)

    @property
    def key(self) -> str:
        """Unique within a run: all settings (seed included) and repeat."""
        if self.stored_key:
            return self.stored_key
        return f"{self.label_slug}-{digest({**self.settings.model_dump(), '_repeat': self.repeat})}"

    @property
    def label(self) -> str:
        s = self.settings
        from rnnbench.architectures import label

        parts = [label(s.arch)]
        if s.bidirectional:
            parts.append("bi")
        if s.layers > 1:
            parts.append(f"x{s.layers}")
        if s.impl == "cell":
            parts.append("cell")
        return f"{'-'.join(parts)} / {s.backend}"

    @property
    def label_slug(self) -> str:
        return self.label.replace(" / ", "-").replace(" ", "").lower()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "group": self.group_key, "label": self.label, "repeat": self.repeat,
                "settings": self.settings.model_dump()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Cell":
        return cls(settings=CellSettings.model_validate(data["settings"]), repeat=int(data["repeat"]))


def with_stored_keys(cells: tuple[Cell, ...], stored: list[dict[str, Any]]) -> tuple[Cell, ...]:
    """The cells of a re-read suite under the keys their run gave them when it started.

    A key digests every setting, so a setting added to rnnbench since then would give every
    cell of an older run a new key, and ``--resume`` would run them all again (and ``ab``
    would find none of its pairs). A cell takes the key of the stored cell whose settings
    agree on every setting the stored run knew, and whose repeat is the same."""
    index: dict[str, str] = {}
    for s in stored:
        if "key" in s and "settings" in s:
            index[digest({**s["settings"], "_repeat": s.get("repeat", 0)})] = s["key"]
    if not index:
        return cells
    known = set(stored[0]["settings"])
    out = []
    for c in cells:
        dump = c.settings.model_dump()
        key = index.get(digest({**{k: v for k, v in dump.items() if k in known}, "_repeat": c.repeat}))
        out.append(dataclasses.replace(c, stored_key=key) if key and key != c.key else c)
    return tuple(out)


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    path: str
    cells: tuple[Cell, ...]
    varying: tuple[str, ...]  # settings that differ between cells (report columns)
    regression: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    source_text: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    only: dict[str, Any] = field(default_factory=dict)
    repeat: int = 1

    @property
    def fingerprint(self) -> str:
        """Changes whenever the set of cells or their settings change (used by --resume)."""
        return digest([c.key for c in self.cells])


def regression_problem(key: str, value: Any) -> str | None:
    """What is wrong with a threshold (a suite's ``[regression]`` entry, or the option of ab or
    compare that overrides it): an unknown key, not a number, or out of its range; None if fine."""
    if key not in REGRESSION_KEYS:
        return f"unknown key{_suggest(key, REGRESSION_KEYS)}"
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return f"expected a number, got {value!r}"
    lo, hi, what = REGRESSION_RANGES[key]
    if not (lo <= value if key in REGRESSION_CLOSED_LOW else lo < value) or not value < hi:
        return f"expected {what}, got {value!r}"
    return None


def _fail(path: str, key: str, message: str) -> UserError:
    return UserError(f"{path}: {key}: {message}")


def _suggest(name: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else f"; expected one of: {', '.join(choices)}"


def _describe_error(err: dict[str, Any]) -> str:
    """One pydantic error → 'expected …, got …'."""
    value = err.get("input")
    msg = err["msg"]
    typ = err["type"]
    got = f"got {value!r} ({type(value).__name__})"
    if typ == "value_error":  # our own validators say what they expected and got
        return msg.removeprefix("Value error, ")
    if typ == "literal_error":
        ctx = err.get("ctx", {}).get("expected", "")
        return f"expected one of {ctx}, {got}"
    if typ.endswith("_type") or typ.endswith("_parsing"):
        return f"{msg[0].lower()}{msg[1:]}, {got}".replace("Input should be", "expected").replace(
            "input should be", "expected"
        )
    return f"{msg[0].lower()}{msg[1:]}, {got}".replace("input should be", "expected")


def setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with setting ``name`` to ``value`` on its own ('unknown setting …', 'expected …,
    got …'), or None. Combinations of settings are judged per cell, once all are merged."""
    if name not in CellSettings.model_fields:
        return f"unknown setting '{name}'{_suggest(name, SETTING_NAMES)}"
    try:
        CellSettings.model_validate({name: value})
    except ValidationError as e:
        errs = [x for x in e.errors() if x["loc"] and x["loc"][0] == name]
        if errs:
            return _describe_error(errs[0]) + _dataset_hint(name, value)
    return None


def _dataset_hint(name: str, value: Any) -> str:
    """A ``dataset`` that looks like where the user keeps IMDB: say how to import it."""
    if name != "dataset" or not isinstance(value, str) or value in ("sample", "imdb"):
        return ""
    return (f"; to use the IMDB copy at {value}, import it once with `rnnbench data import {value}`, "
            "then dataset = 'imdb'")


def settings_error(e: ValidationError) -> str:
    """A cell's settings ValidationError in one line: its first error, 'KEY: expected …, got …'."""
    err = e.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    return f"{where}: {_describe_error(err)}" if where else _describe_error(err)


def _check_setting(path: str, where: str, name: str, value: Any) -> None:
    problem = setting_problem(name, value)
    if problem:
        raise _fail(path, where, problem)


def _check_report_key(path: str, k: str, v: Any) -> None:
    """``[report]``: the keys ``rnnbench report`` reads, each of its type (a typo is an error, not ignored)."""
    if k not in REPORT_KEYS:
        raise _fail(path, f"report.{k}", f"unknown key{_suggest(k, REPORT_KEYS)}")
    if k == "target":
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 1:
            raise _fail(path, "report.target", f"expected an accuracy in (0, 1], got {v!r}")
    elif not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
        raise _fail(path, f"report.{k}", f"expected a string or a list of strings, got {v!r}")


def _table(path: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, key, f"expected a table ([{key}]), got {type(value).__name__}")
    return value


def parse_cli_value(raw: str) -> Any:
    """``--set``/``--only`` values: TOML literals (``64``, ``true``, ``[1, 2]``), else a bare string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} epochs=1")
        out[key.strip()] = parse_cli_value(raw.strip())
    return out


def parse_suite(
    text: str,
    path: str = "<suite>",
    overrides: dict[str, Any] | None = None,
    only: dict[str, Any] | None = None,
    repeat: int | None = None,
) -> Suite:
    """Validate a suite's TOML text and expand it into cells. Raises :class:`UserError`.

    ``overrides`` (``run --set``) replace a setting for every cell (a matrix axis of that
    name collapses to the one value); ``only`` (``run --only``) keeps the cells whose
    setting equals the value (or one of a list of values); ``repeat`` (``run --repeat``)
    replaces the suite's repeat count.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: invalid TOML: {e}") from None
    if not data:
        raise UserError(f"{path}: the suite is empty", hint="give at least [defaults] or [matrix]; "
                        "see rnnbench/suites/quick.toml")
    if overrides:
        data["defaults"] = {**data.get("defaults", {}), **overrides}
        data["matrix"] = {k: v for k, v in data.get("matrix", {}).items() if k not in overrides}
    if repeat is not None:
        data["repeat"] = repeat
    for key in data:
        if key not in SUITE_KEYS:
            hint = ""
            if key in SETTING_NAMES:
                hint = f"; '{key}' is a cell setting: put it under [defaults] or [matrix]"
            raise _fail(path, key, f"unknown key{hint or _suggest(key, SUITE_KEYS)}")
    for k, v in (overrides or {}).items():
        _check_setting(path, f"--set {k}", k, v)

    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "name", f"expected a non-empty string, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(path, "description", f"expected a string, got {type(description).__name__}")
    repeat = data.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise _fail(path, "repeat", f"expected a positive integer, got {repeat!r}")

    defaults = _table(path, data, "defaults")
    for k, v in defaults.items():
        _check_setting(path, f"defaults.{k}", k, v)

    matrix = _table(path, data, "matrix")
    axes: dict[str, list[Any]] = {}
    for k, values in matrix.items():
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise _fail(path, f"matrix.{k}", "expected a non-empty list of values")
        if k not in CellSettings.model_fields:
            raise _fail(path, f"matrix.{k}", f"unknown setting '{k}'{_suggest(k, SETTING_NAMES)}")
        for i, v in enumerate(values):
            _check_setting(path, f"matrix.{k}[{i}]", k, v)
        axes[k] = values

    def _entries(key: str) -> list[dict[str, Any]]:
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise _fail(path, key, f"expected an array of tables ([[{key}]])")
        for i, entry in enumerate(raw):
            for k, v in entry.items():
                vals = v if (key == "exclude" and isinstance(v, list)) else [v]
                for val in vals:
                    _check_setting(path, f"{key}[{i}].{k}", k, val)
        return raw

    excludes = _entries("exclude")
    includes = _entries("include")

    regression = _table(path, data, "regression")
    for k, v in regression.items():
        problem = regression_problem(k, v)
        if problem:
            raise _fail(path, f"regression.{k}", problem)
    report = _table(path, data, "report")
    for k, v in report.items():
        _check_report_key(path, k, v)

    combos: list[dict[str, Any]] = []
    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)) if names else [()]:
        combo = dict(zip(names, values))
        if any(_matches(combo, ex, defaults) for ex in excludes):
            continue
        combos.append(combo)
    field_defaults = {k: f.default for k, f in CellSettings.model_fields.items()}
    seen_combos = {json.dumps({**field_defaults, **defaults, **c}, sort_keys=True) for c in combos}
    for i, inc in enumerate(includes):
        full = json.dumps({**field_defaults, **defaults, **inc}, sort_keys=True)
        if full in seen_combos:
            desc = ", ".join(f"{k}={v}" for k, v in inc.items()) or "no settings"
            raise _fail(path, f"include[{i}]", f"duplicates a cell the suite already has ({desc}): "
                        "remove it, or raise repeat to run a cell again")
        seen_combos.add(full)
    combos.extend(includes)
    for k, v in (only or {}).items():
        if k not in CellSettings.model_fields:
            raise UserError(f"--only {k}: unknown setting '{k}'{_suggest(k, SETTING_NAMES)}")
        wanted = v if isinstance(v, list) else [v]
        combos = [c for c in combos if {**defaults, **c}.get(k, CellSettings.model_fields[k].default) in wanted]
    if not combos:
        raise UserError(f"{path}: the matrix minus its excludes leaves no cells")

    all_settings: list[CellSettings] = []
    for combo in combos:
        merged = {**defaults, **combo}
        try:
            all_settings.append(CellSettings.model_validate(merged))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "cell"
            desc = ", ".join(f"{k}={v}" for k, v in combo.items())
            raise _fail(path, where, f"{err['msg'].removeprefix('Value error, ')} (cell {desc})") from None
        problem = all_settings[-1].run_problem()
        if problem:
            desc = ", ".join(f"{k}={v}" for k, v in combo.items())
            raise _fail(path, "cell", f"{problem} (cell {desc})")
    # Repeats round-robin (every cell once, then every cell again, ...): a slow spell of the
    # machine then hits one repeat of many cells instead of every repeat of one cell.
    cells: list[Cell] = []
    seen: set[str] = set()
    for r in range(repeat):
        for settings in all_settings:
            cell = Cell(settings=settings, repeat=r)
            if cell.key in seen:
                continue
            seen.add(cell.key)
            cells.append(cell)

    dumps = [c.settings.model_dump() for c in cells]
    varying = tuple(
        k for k in SETTING_NAMES if len({json.dumps(d[k], sort_keys=True) for d in dumps}) > 1
    )
    return Suite(
        name=name.strip(),
        description=description,
        path=path,
        cells=tuple(cells),
        varying=varying,
        regression={k: float(v) for k, v in regression.items()},
        report=dict(report),
        source_text=text,
        overrides=dict(overrides or {}),
        only=dict(only or {}),
        repeat=repeat,
    )


def _matches(combo: dict[str, Any], exclude: dict[str, Any], defaults: dict[str, Any]) -> bool:
    for k, v in exclude.items():
        actual = combo.get(k, defaults.get(k, CellSettings.model_fields[k].default))
        allowed = v if isinstance(v, list) else [v]
        if actual not in allowed:
            return False
    return True


def load_suite(path: str | Path, overrides: dict[str, Any] | None = None,
               only: dict[str, Any] | None = None, repeat: int | None = None) -> Suite:
    """Read and validate a suite file. A bare name (``quick``) is looked up as :func:`resolve_suite_path` says."""
    p = resolve_suite_path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as e:
        raise UserError(f"{p}: cannot read suite: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{p}: not a text suite: byte {e.start} is not UTF-8",
                        hint="a suite is a TOML text file, e.g. rnnbench/suites/quick.toml") from None
    return parse_suite(text, str(p), overrides, only, repeat)


def resolve_suite_path(path: str | Path) -> Path:
    """The suite file ``path`` names. The user's folder wins over the package.

    In order: the path itself, ``<path>.toml``, ``./suites/<path>[.toml]``, then (for a bare
    name) the ready suite shipped inside the package, so ``rnnbench run quick`` works from
    any folder once rnnbench is installed.
    """
    p = Path(path)
    cands = [p, Path(f"{p}.toml"), Path("suites") / p, Path("suites") / f"{p}.toml"]
    if len(p.parts) == 1:
        cands += [packaged_suites_dir() / p.name, packaged_suites_dir() / f"{p.name}.toml"]
    for cand in cands:
        if cand.is_file():
            return cand
    available = ", ".join(sorted(x.stem for x in list_suites()))
    raise UserError(f"{path}: no such suite file", hint=f"ready suites: {available}" if available else None)


def packaged_suites_dir() -> Path:
    """The ready suites shipped as package data (``rnnbench/suites``; the repository's ``suites/`` links here)."""
    return Path(__file__).resolve().parent / "suites"


def suite_source(path: Path) -> Literal["packaged", "local"]:
    """Whether a suite file is one shipped with rnnbench or one in the user's folder."""
    try:
        packaged = path.resolve().parent == packaged_suites_dir()
    except OSError:
        packaged = False
    return "packaged" if packaged else "local"


def list_suites() -> list[Path]:
    """The ready suites by name (``./suites`` and the package's), each as the file ``run NAME`` would load."""
    names: set[str] = set()
    for d in (Path("suites"), packaged_suites_dir()):
        if d.is_dir():
            names.update(f.stem for f in d.glob("*.toml"))
    return [resolve_suite_path(n) for n in sorted(names)]
