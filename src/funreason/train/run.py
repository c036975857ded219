"""`funreason train`: load, render, train with SRML, save — the orchestration around `SRMLTrainer`."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from transformers import TrainerCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from funreason.models import load_model, resolve_model
from funreason.records import SHAPES, Rejects, read_samples, refuse_overwrite, write_jsonl
from funreason.runinfo import run_info
from funreason.train.collator import Collator
from funreason.train.config import TrainConfig
from funreason.train.curves import plot_losses
from funreason.train.segments import Encoded, SampleTooLong, ToolFormat, render_sample
from funreason.train.trainer import SRMLTrainer, load_alpha_state, restore_finished

FINAL_DIR = "final"


class NoTrainableSamples(ValueError):
    """Every sample of the data was malformed or longer than `max_length`."""


@dataclass
class TrainSummary:
    """What a training run did, for the CLI's closing table and for the demo report."""

    output: str
    samples: int
    skipped: int
    rejected: int
    steps: int
    seconds: float
    resumed_from: str | None
    log: list[dict[str, float]] = field(default_factory=list)
    shapes: dict[str, dict[str, int]] = field(default_factory=dict)  # shape -> trained / skipped counts
    warnings: list[str] = field(default_factory=list)

    @property
    def first_loss(self) -> float | None:
        losses = [row["loss"] for row in self.log if "loss" in row]
        return losses[0] if losses else None

    @property
    def last_loss(self) -> float | None:
        losses = [row["loss"] for row in self.log if "loss" in row]
        return losses[-1] if losses else None


SHAPE_LOSS_WARNING = 1 / 3  # warn when the length filter takes more than this share of a call shape


def encode_samples(
    data: Path, tokenizer: Any, max_length: int, output: Path, tool_format: ToolFormat = "bfcl"
) -> tuple[list[Encoded], dict[str, dict[str, int]], int]:
    """Render every sample of `data`; too-long samples, malformed lines and records that cannot be
    rendered (a think tag inside the reasoning) are skipped, written and counted.

    Returns (encoded, shapes, rejected_lines); `shapes` maps each call shape (`Sample.shape`) to the
    number of its samples `trained` and `skipped` as longer than `max_length`.
    """
    encoded: list[Encoded] = []
    too_long = []
    shapes: dict[str, dict[str, int]] = {}
    with Rejects(output / "rejects.jsonl") as rejects:
        for sample in read_samples(data, rejects):
            try:
                rendered = render_sample(sample, tokenizer, max_length=max_length, tool_format=tool_format)
            except SampleTooLong as exc:
                too_long.append({"id": sample.id, "shape": sample.shape, "error": str(exc)})
                shapes.setdefault(sample.shape, {"trained": 0, "skipped": 0})["skipped"] += 1
                continue
            except ValueError as exc:  # a record that cannot be rendered as a turn: rejected, not a crash
                rejects.add(f"{data}:{sample.id}", str(exc), sample.model_dump(mode="json"))
                continue
            encoded.append(rendered)
            shapes.setdefault(sample.shape, {"trained": 0, "skipped": 0})["trained"] += 1
    if too_long:
        write_jsonl(output / "skipped.jsonl", too_long)
    order = {shape: i for i, shape in enumerate(SHAPES)}
    return encoded, dict(sorted(shapes.items(), key=lambda item: order.get(item[0], len(order)))), rejects.count


def shape_warnings(shapes: dict[str, dict[str, int]], max_length: int) -> list[str]:
    """One line per call shape of which the length filter skipped more than a third."""
    lines = []
    for shape, counts in shapes.items():
        total = counts["trained"] + counts["skipped"]
        if total and counts["skipped"] > SHAPE_LOSS_WARNING * total:
            lines.append(
                f"max_length {max_length} skipped {counts['skipped']} of {total} {shape} samples "
                f"({counts['skipped'] / total:.0%}): the model sees few of them; raise max_length or shorten them"
            )
    return lines


def training_arguments(config: TrainConfig, *, has_cuda: bool) -> TrainingArguments:
    """transformers' arguments for our config; bf16 and gradient checkpointing where they apply."""
    return TrainingArguments(
        output_dir=str(config.output),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        lr_scheduler_type="cosine",
        warmup_steps=config.warmup_ratio,
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        bf16=has_cuda and torch.cuda.is_bf16_supported(),
        use_cpu=not has_cuda,
        activation_checkpointing=config.gradient_checkpointing,
        remove_unused_columns=False,
        report_to=config.report_to,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def add_lora(model: Any, config: TrainConfig) -> Any:
    """Wrap `model` with LoRA adapters on every linear layer but the output head (rank `lora_r`)."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def train(
    config: TrainConfig,
    *,
    console: Console | None = None,
    callbacks: Sequence[TrainerCallback] = (),
) -> TrainSummary:
    """Train `config.model` on `config.data`; resumes from the newest checkpoint in `config.output`.

    The final model (LoRA adapter or full weights) and its tokenizer go to `output/final`; the
    resolved config, package version and git commit to `output/run.json`.
    """
    console = console or Console(stderr=True)
    start = time.perf_counter()
    output = config.output
    refuse_overwrite([config.data], rejects=output / "rejects.jsonl", skipped=output / "skipped.jsonl",
                     log=output / "log.jsonl")
    output.mkdir(parents=True, exist_ok=True)
    set_seed(config.seed)
    has_cuda = torch.cuda.is_available()

    model, tokenizer = load_model(config.model, dtype=torch.float32 if not has_cuda else None)
    encoded, shapes, rejected = encode_samples(config.data, tokenizer, config.max_length, output, config.tool_format)
    skipped = sum(counts["skipped"] for counts in shapes.values())
    if not encoded:
        raise NoTrainableSamples(
            f"no trainable sample in {config.data} ({skipped} longer than max_length {config.max_length}, "
            f"{rejected} malformed)"
        )
    mix = ", ".join(f"{shape} {c['trained']}" + (f" (-{c['skipped']})" if c["skipped"] else "") for shape, c in shapes.items())
    console.print(f"training on {len(encoded)} samples: {mix}; {skipped} too long, {rejected} malformed skipped")
    warnings = shape_warnings(shapes, config.max_length)
    for line in warnings:
        console.print(f"[yellow]warning: {line}[/]")
    if config.lora_r:
        model = add_lora(model, config)
    if config.gradient_checkpointing and config.lora_r:
        model.enable_input_require_grads()

    args = training_arguments(config, has_cuda=has_cuda)
    trainer = SRMLTrainer(
        model=model,
        args=args,
        train_dataset=encoded,
        data_collator=Collator(pad_token_id=tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=list(callbacks),
        loss=config.loss,
        alpha=config.alpha,
        alpha_mode=config.alpha_mode,
        alpha_end=config.alpha_end,
        alpha_lr=config.alpha_lr,
        reduction=config.reduction,
        chunk_size=config.chunk_size,
    )
    checkpoint = get_last_checkpoint(str(output)) if config.resume else None
    if checkpoint:
        console.print(f"resuming from {checkpoint}")
        load_alpha_state(trainer, checkpoint)
    if checkpoint and restore_finished(trainer, checkpoint):
        console.print(f"{Path(checkpoint).name} is the run's last step: nothing left to train")
    else:
        trainer.train(resume_from_checkpoint=checkpoint)

    final = output / FINAL_DIR
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    if config.lora_r:
        record_adapter_base(final, resolve_model(config.model))
    summary = TrainSummary(
        output=str(final),
        samples=len(encoded),
        skipped=skipped,
        rejected=rejected,
        steps=trainer.state.global_step,
        seconds=time.perf_counter() - start,
        resumed_from=checkpoint,
        log=[row for row in trainer.state.log_history if _finite(row)],
        shapes=shapes,
        warnings=warnings,
    )
    info = run_info(config.model_dump(mode="json"))
    info["summary"] = {k: v for k, v in asdict(summary).items() if k != "log"}
    (output / "run.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (output / "log.jsonl").write_text("".join(json.dumps(row) + "\n" for row in summary.log), encoding="utf-8")
    plot_losses(summary.log, output / "loss.png", title=f"{config.loss} training of {config.model}")
    return summary


def record_adapter_base(adapter: Path, base: str) -> None:
    """Point a saved adapter at what it was trained on (peft records the innermost checkpoint, which
    is wrong when the model was itself a merged adapter, as in self-refinement)."""
    path = adapter / "adapter_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = str(Path(base).resolve()) if Path(base).exists() else base
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _finite(row: dict[str, Any]) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for v in row.values())
