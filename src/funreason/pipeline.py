"""The whole method from one config: data -> reasoning -> FCDR -> SRML training -> BFCL scores ->
self-refinement -> report. `funreason run CONFIG.yaml` and `funreason demo` both run this.

Each stage writes under `out/` and is skipped when its output is already there, so a stopped run
starts again where it stopped (refinement, training, evaluation and self-refinement also resume
inside a stage).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from rich.console import Console

from funreason.configfile import load_config_file
from funreason.llm.settings import EndpointSettings, ModelEndpoint, check_reach, check_rounds
from funreason.models import EMBEDDED_NAME


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSection(_Section):
    source: str = Field("synth", description="'synth' (offline generator), a dataset file, or hf:<owner>/<name>.")
    format: str = Field("native", description="Format of the data (see `funreason convert --help`), or auto.")
    samples: int = Field(2000, ge=1, description="Samples to generate (synth) or to take from the file.")
    fault_share: float = Field(0.0, ge=0.0, le=1.0, description="Share of calls corrupted on purpose (demo).")


class CotSection(EndpointSettings):
    """Reasoning for the data: kept, from the offline template, or from a teacher LLM at `endpoint`."""

    teacher: Literal["keep", "template", "llm"] = Field("keep", description="keep: use the data's reasoning.")


class RefineSection(EndpointSettings):
    """FCDR: the judge (its endpoint for llm and hybrid), and the teacher that rewrites stage 4-5 failures."""

    judge: Literal["rules", "llm", "hybrid", "ensemble"] = "rules"
    judges: list[EndpointSettings] = Field(
        default_factory=list, description="ensemble: the LLM judges that vote, each the section's endpoint settings "
                                          "with its own changes (usually only `model`).")
    vote: str = Field("unanimous", description="ensemble: unanimous, majority, or mean>=τ (a share of passes).")
    max_regenerations: int = Field(2, ge=0, description="Attempts to correct or rewrite a stage 4-5 failure.")
    undecided: Literal["pass", "fail", "hard"] = Field("pass", description="What an undecided verdict counts as.")
    regenerator: EndpointSettings | None = Field(
        None, description="The teacher LLM that rewrites stage 4-5 failures; None: they go to the hard pool.")

    @model_validator(mode="after")
    def _ensemble(self) -> RefineSection:
        from funreason.refine.llm_judge import check_vote

        if self.judge == "ensemble":
            if len(self.judges) < 2:
                raise ValueError("judge: ensemble needs two or more `judges` (e.g. [{model: A}, {model: B}])")
            check_vote(self.vote)
        elif self.judges:
            raise ValueError(f"`judges` are the voters of judge: ensemble, and the judge is {self.judge}")
        return self

    def judge_options(self) -> dict[str, Any]:
        """`make_judge` options of the section's judge: its endpoint settings as set (none for rules),
        for an ensemble each voter's settings over the section's."""
        if self.judge == "rules":
            return {}
        shared = self.model_dump(include=set(EndpointSettings.model_fields), exclude_unset=True)
        if self.judge == "ensemble":
            judges = [{"kind": "llm", **shared, **judge.model_dump(exclude_unset=True)} for judge in self.judges]
            return {"judges": judges, "vote": self.vote}
        return shared


class TrainSection(_Section):
    samples: int | None = Field(None, ge=1, description="Train on the first N refined samples only.")
    accelerate_config: Path | None = Field(None, description="Run training under `accelerate launch` with this.")
    options: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields (max_steps, lora_r...).")


class EvalSection(ModelEndpoint):
    """BFCL evaluation of the base, trained and self-refined models: locally, or, with `endpoint`,
    on a server (which gets the trained models as `load` says)."""

    categories: list[str] = Field(["non_live", "live"], description="BFCL categories or groups.")
    limit: int | None = Field(None, ge=1, description="First N entries per category.")
    max_tokens: int = Field(1024, ge=1, description="Longest answer generated.")
    batch_size: int = Field(16, ge=1, description="Prompts per batch of local generation.")
    base: bool = Field(True, description="Also evaluate the model before training.")
    enabled: bool = True

    @field_validator("temperature")
    @classmethod
    def _greedy(cls, value: float | None) -> float | None:
        if value:
            raise ValueError("evaluation is greedy (temperature 0, as BFCL scores); leave temperature out")
        return value


class SelfRefineSection(ModelEndpoint):
    """Self-refinement rounds: rollouts from the trained model (locally, or, with `endpoint`, on a
    server that gets the trained model as `load` says), filtered by the refine section's judge."""

    rounds: int = Field(0, ge=0, description="Self-refinement rounds after training (0: none).")
    queries: int | None = Field(None, ge=1, description="Queries asked per round (first N of the data).")
    hard_only: bool = False
    samples_per_query: int = Field(1, ge=1)
    temperature: float = Field(0.7, ge=0.0, description="Sampling temperature of the rollouts.")
    replay: float = Field(0.0, ge=0.0)
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields for each round.")


class PipelineConfig(_Section):
    """The whole run; every section has offline defaults, so `{}` plus `out` is a valid config."""

    model: str = Field(EMBEDDED_NAME, description="Model name, local path or hub id.")
    out: Path = Field(Path("runs/pipeline"), description="Folder for every artifact.")
    seed: int = 0
    data: DataSection = DataSection()
    cot: CotSection = CotSection()
    refine: RefineSection = RefineSection()
    train: TrainSection = TrainSection()
    evaluate: EvalSection = EvalSection()
    selfrefine: SelfRefineSection = SelfRefineSection()

    @model_validator(mode="after")
    def _trained_models_reach_the_server(self) -> PipelineConfig:
        """Evaluation and rollouts ask for models trained in the run: an endpoint there must get them."""
        rounds = self.selfrefine.rounds
        if self.evaluate.endpoint and self.evaluate.enabled:  # the trained model, then each round's
            check_reach(self.evaluate.load, 1 + rounds, "evaluation asks for", "evaluate.load")
        if self.selfrefine.endpoint:  # the rounds start from the model trained here, not the served one
            check_rounds(rounds, False, self.selfrefine.load, None, "selfrefine.load")
        return self


def load_config(path: str | Path, **overrides: Any) -> PipelineConfig:
    """A `PipelineConfig` from a YAML (or JSON) file; `overrides` replace top-level keys."""
    raw = load_config_file(path) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    return PipelineConfig.model_validate({**raw, **{k: v for k, v in overrides.items() if v is not None}})


def train_in_subprocess(config: Any, accelerate_config: Path, console: Console) -> None:
    """Run `funreason train --config` under `accelerate launch` (one process per GPU)."""
    config_path = Path(config.output) / "train_config.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(config.model_dump_json(indent=2), encoding="utf-8")
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config),
               "-m", "funreason", "train", "--config", str(config_path)]  # fmt: skip
    console.print(f"$ {' '.join(command)}")
    subprocess.run(command, check=True)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
