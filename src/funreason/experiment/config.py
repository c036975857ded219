"""What an experiment runs: arms (training recipes) x seeds on one dataset, scored on fixed entries.

`ExperimentConfig` is parsed from YAML at the edge (`load_experiment`); unknown keys are errors. An
arm is one of three kinds:

- `base`: the model as it is (greedy decoding makes it seed-independent: evaluated once);
- `train`: the model trained on the experiment's refined data (`data: refined`) or on the same
  data before FCDR (`data: raw`), with the shared `train` options plus the arm's own (`loss`,
  `alpha`, `alpha_mode`, ...);
- `selfrefine`: `rounds` self-refinement rounds on top of another arm's trained model of the same
  seed (rounds are shared: `srml+sr2` continues the run whose first round is `srml+sr1`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from funreason.configfile import load_config_file
from funreason.models import EMBEDDED_NAME
from funreason.train.config import TrainConfig

BFCL_CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSection(_Section):
    samples: int = Field(3000, ge=1, description="Synthetic samples generated once for the whole experiment.")
    fault_share: float = Field(0.2, ge=0.0, le=1.0, description="Share of call samples corrupted before FCDR.")
    seed: int = Field(0, description="Seed of the synthetic data and its faults (the same for every arm and seed).")
    train_samples: int | None = Field(
        None, ge=1, description="Samples each arm trains on, drawn per seed (None: all of them)."
    )


class EvalSection(_Section):
    categories: list[str] = Field(list(BFCL_CATEGORIES), description="BFCL single-turn categories.")
    split: Literal["dev", "test"] = Field("test", description="Score dev entries (tuning) or test entries (reporting).")
    split_seed: int = Field(0, description="Seed of the stratified dev/test split, drawn once.")
    dev: int = Field(20, ge=0, description="Dev entries per category.")
    test: int | None = Field(40, ge=1, description="Test entries per category (None: the whole rest of it).")
    max_tokens: int = Field(512, ge=1, description="Generation budget per BFCL entry (reasoning + calls).")
    batch_size: int = Field(32, ge=1, description="Rows decoded together.")
    humaneval: int = Field(40, ge=0, description="HumanEval problems drawn once (0: skip the forgetting check).")
    humaneval_max_tokens: int = Field(384, ge=1)


class SelfRefineSection(_Section):
    queries: int = Field(256, ge=1, description="Training queries each round asks (the first N of the seed's data).")
    samples_per_query: int = Field(1, ge=1)
    temperature: float = Field(0.7, ge=0.0)
    max_new_tokens: int = Field(512, ge=1)
    replay: float = Field(0.0, ge=0.0, description="Earlier refined samples mixed in, as a share of the new ones.")
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields for each round's training.")


class ArmSpec(_Section):
    kind: Literal["base", "train", "selfrefine"] = "train"
    data: Literal["refined", "raw"] = Field("refined", description="train: FCDR's output or the data before it.")
    train: dict[str, Any] = Field(default_factory=dict, description="train: TrainConfig fields over the shared ones.")
    start: str | None = Field(None, description="selfrefine: the arm whose trained model the rounds start from.")
    rounds: int = Field(1, ge=1, description="selfrefine: how many rounds.")

    @model_validator(mode="after")
    def _check(self) -> ArmSpec:
        if self.kind == "selfrefine" and not self.start:
            raise ValueError("a selfrefine arm needs `start`: the train arm its rounds begin from")
        if self.kind != "selfrefine" and self.start:
            raise ValueError("`start` applies to selfrefine arms only")
        if self.kind == "base" and (self.train or self.data != "refined"):
            raise ValueError("a base arm trains nothing: drop `train` and `data`")
        return self


DEFAULT_ARMS: dict[str, dict[str, Any]] = {
    "base": {"kind": "base"},
    "sft": {"train": {"loss": "sft"}},
    "srml": {"train": {"loss": "srml", "alpha": 0.7}},
    "srml-learnable": {"train": {"loss": "srml", "alpha_mode": "learnable"}},
    "srml-raw": {"data": "raw", "train": {"loss": "srml", "alpha": 0.7}},
    "srml+sr1": {"kind": "selfrefine", "start": "srml", "rounds": 1},
    "srml+sr2": {"kind": "selfrefine", "start": "srml", "rounds": 2},
}
DEFAULT_COMPARISONS = [
    ["srml", "sft"], ["srml", "srml-raw"], ["srml-learnable", "srml"], ["srml+sr1", "srml"], ["srml+sr2", "srml"],
    ["sft", "base"], ["srml", "base"], ["srml-learnable", "base"], ["srml-raw", "base"], ["srml+sr1", "base"],
    ["srml+sr2", "base"],
]  # fmt: skip


class ExperimentConfig(_Section):
    """Arms x seeds; every field has a default, so `{}` is the default experiment."""

    model: str = Field(EMBEDDED_NAME, description="Model name, local path or hub id.")
    out: Path = Field(Path("runs/experiment"), description="Folder of the experiment (resumable).")
    seeds: list[int] = Field([0, 1], min_length=1, description="Training seeds; one seed fixes one data order.")
    data: DataSection = DataSection()
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields shared by every arm.")
    eval: EvalSection = EvalSection()
    selfrefine: SelfRefineSection = SelfRefineSection()
    arms: dict[str, ArmSpec] = Field(default_factory=lambda: {k: ArmSpec(**v) for k, v in DEFAULT_ARMS.items()})
    comparisons: list[tuple[str, str]] = Field(
        default_factory=lambda: [tuple(pair) for pair in DEFAULT_COMPARISONS],
        description="Paired differences A - B reported with intervals (pairs naming absent arms are left out).",
    )

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if self.eval.split == "dev" and self.eval.dev < 1:
            raise ValueError("eval.split is dev but eval.dev is 0: draw at least one dev entry per category")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must differ from each other, got {self.seeds}")
        for name, arm in self.arms.items():
            if arm.kind == "selfrefine":
                start = self.arms.get(arm.start or "")
                if start is None or start.kind != "train":
                    raise ValueError(f"arm {name!r}: start {arm.start!r} must name a train arm of this experiment")
        for key in ("model", "data", "output", "seed"):
            if key in self.train or any(key in arm.train for arm in self.arms.values()) or key in self.selfrefine.train:
                raise ValueError(f"train options may not set {key!r}: the experiment sets it per arm and seed")
        for arm in self.arms.values():  # every arm's options must make a valid TrainConfig now
            if arm.kind == "train":
                TrainConfig(data=Path("x"), output=Path("x"), **{**self.train, **arm.train})
        TrainConfig(data=Path("x"), output=Path("x"), **{**self.train, **self.selfrefine.train})
        return self

    def train_options(self, arm: str) -> dict[str, Any]:
        return {**self.train, **self.arms[arm].train}


def load_experiment(path: str | Path, **overrides: Any) -> ExperimentConfig:
    """An `ExperimentConfig` from a YAML file; `overrides` (None skipped) replace top-level keys,
    and `split` the eval split."""
    raw = load_config_file(path) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    split = overrides.pop("split", None)
    raw.update({key: value for key, value in overrides.items() if value is not None})
    if split is not None:
        raw["eval"] = {**(raw.get("eval") or {}), "split": split}
    return ExperimentConfig.model_validate(raw)
