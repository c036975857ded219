"""Training options: one pydantic model, parsed at the edge (CLI flags or YAML), saved with each run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from funreason.train.segments import ToolFormat


class TrainConfig(BaseModel):
    """Everything `funreason train` needs; unknown keys are an error so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("smollm2-135m", description="Model name, local path or hub id.")
    data: Path = Field(description="Training samples (funreason JSONL).")
    output: Path = Field(description="Folder for checkpoints, logs and the final model.")
    loss: Literal["srml", "sft"] = Field("srml", description="SRML (balanced think/result) or plain SFT.")
    alpha: float = Field(0.7, gt=0.0, lt=1.0, description="Weight of the reasoning segment (start value).")
    alpha_mode: Literal["fixed", "learnable", "scheduled"] = "fixed"
    alpha_end: float = Field(0.3, gt=0.0, lt=1.0, description="Final alpha of the `scheduled` mode.")
    alpha_lr: float = Field(1e-2, gt=0.0, description="Learning rate of the learnable alpha's logit.")
    reduction: Literal["sample", "token"] = Field("sample", description="Average per sample or per token.")
    lora_r: int = Field(16, ge=0, description="LoRA rank; 0 trains every parameter.")
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0)
    learning_rate: float = Field(2e-4, gt=0.0)
    epochs: float = Field(1.0, gt=0.0)
    max_steps: int = Field(-1, description="Stop after this many optimiser steps (-1: run the epochs).")
    batch_size: int = Field(4, ge=1, description="Samples per device per micro-batch.")
    grad_accum: int = Field(1, ge=1, description="Micro-batches per optimiser step.")
    max_length: int = Field(2048, ge=16, description="Longer samples are skipped and counted, never cut.")
    tool_format: ToolFormat = Field(
        "bfcl", description="How the prompt shows tools: bfcl (as BFCL's prompt at evaluation), json, or mix."
    )
    chunk_size: int = Field(0, ge=0, description="Sequence chunk of the memory-lean loss; 0 uses full logits.")
    gradient_checkpointing: bool = False
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0)
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(200, ge=1)
    save_total_limit: int = Field(2, ge=1)
    seed: int = 42
    report_to: list[str] = Field(["none"], description="Trainer loggers, e.g. tensorboard or wandb.")
    resume: bool = Field(True, description="Resume from the newest checkpoint in `output` if there is one.")

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.loss == "sft" and self.alpha_mode != "fixed":
            raise ValueError("alpha_mode applies to the srml loss only; drop it or use --loss srml")
        return self
