"""`SRMLTrainer`: a thin `transformers.Trainer` subclass that trains with the SRML loss.

It changes three things and leaves the rest (optimiser, schedule, checkpoints, exact resume,
DeepSpeed/FSDP under `accelerate launch`) to transformers:
- `get_batch_samples` counts samples and think/result tokens over the whole optimiser step (all
  micro-batches, all ranks), so the loss is normalised exactly however the step is split;
- `compute_loss` calls the pure loss of `funreason.train.loss` (the full-logits or the chunked,
  memory-lean path) with α fixed, scheduled or learnable;
- `log` adds `loss_think`, `loss_result`, `alpha` and the segment token counts to each log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainerCallback, TrainerState
from transformers.trainer import TRAINER_STATE_NAME

from funreason.train.loss import (
    LearnableAlpha,
    StepNormalisers,
    scheduled_alpha,
    srml_loss,
    srml_loss_from_hidden,
    step_normalisers,
)

ALPHA_STATE = "srml_alpha.pt"


class SRMLTrainer(Trainer):
    """Trainer whose loss is `α·L_think + (1−α)·L_result` (or plain SFT), normalised per step.

    Batches must carry `labels` and `segment_ids` (see `funreason.train.collator.Collator`).
    """

    def __init__(
        self,
        *args: Any,
        loss: str = "srml",
        alpha: float = 0.7,
        alpha_mode: str = "fixed",
        alpha_end: float = 0.3,
        alpha_lr: float = 1e-2,
        reduction: str = "sample",
        chunk_size: int = 0,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if loss not in ("srml", "sft"):
            raise ValueError(f"loss must be 'srml' or 'sft', got {loss!r}")
        if alpha_mode not in ("fixed", "learnable", "scheduled"):
            raise ValueError(f"alpha_mode must be fixed, learnable or scheduled, got {alpha_mode!r}")
        if self.args.n_gpu > 1:
            raise ValueError(
                "several GPUs in one process (DataParallel) are not supported: "
                "use `accelerate launch` with one process per GPU"
            )
        if self.args.remove_unused_columns:
            raise ValueError("SRMLTrainer needs TrainingArguments(remove_unused_columns=False) to keep segment_ids")
        if chunk_size and (self.is_fsdp_enabled or _zero_stage(self) == 3):
            raise ValueError(
                "the chunked loss (--chunk-size) reads the output layer's full weight, which FSDP and "
                "DeepSpeed ZeRO-3 shard: use --chunk-size 0 there, or ZeRO-2"
            )
        self.loss_mode, self.reduction, self.chunk_size = loss, reduction, chunk_size
        self.alpha, self.alpha_mode, self.alpha_end = alpha, alpha_mode, alpha_end
        self.alpha_lr = alpha_lr
        self.learnable_alpha = LearnableAlpha(alpha).to(self.args.device) if alpha_mode == "learnable" else None
        if self.learnable_alpha is not None:
            self.add_callback(_AlphaSync(self.learnable_alpha))
        # Our loss is already each micro-batch's share of the step: transformers must not rescale it.
        self.loss_is_scaled_for_ga = True
        self._step_norm: StepNormalisers | None = None
        self._sums: dict[str, float] = {}

    # --- the loss ---------------------------------------------------------------------------------

    def current_alpha(self) -> float | torch.Tensor:
        if self.learnable_alpha is not None:
            return self.learnable_alpha()
        if self.alpha_mode == "scheduled":
            return scheduled_alpha(self.state.global_step, self.state.max_steps, self.alpha, self.alpha_end)
        return self.alpha

    def get_batch_samples(self, epoch_iterator: Any, num_batches: int, device: Any) -> tuple[list, Any]:
        batches, num_items = super().get_batch_samples(epoch_iterator, num_batches, device)
        if batches:
            self._step_norm = step_normalisers(
                [batch["segment_ids"] for batch in batches],
                [batch["labels"] for batch in batches],
                device=device,
            )
        return batches, num_items

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        labels = inputs.pop("labels")
        segment_ids = inputs.pop("segment_ids")
        # Outside training (evaluation) a batch is its own step.
        normalisers = self._step_norm if model.training else None
        options = {"mode": self.loss_mode, "reduction": self.reduction, "normalisers": normalisers}
        alpha = self.current_alpha()
        if self.chunk_size:
            outputs = model(**inputs, output_hidden_states=True, logits_to_keep=1)
            head = self.accelerator.unwrap_model(model).get_output_embeddings()
            result = srml_loss_from_hidden(
                outputs.hidden_states[-1], head.weight, labels, segment_ids, alpha,
                bias=head.bias, chunk_size=self.chunk_size, **options,
            )  # fmt: skip
        else:
            outputs = model(**inputs)
            result = srml_loss(outputs.logits, labels, segment_ids, alpha, **options)
        if model.training:
            self._accumulate(result)
        return (result.loss, outputs) if return_outputs else result.loss

    # --- optimiser and logging ----------------------------------------------------------------------

    def create_optimizer(self, model: Any = None) -> Any:
        optimizer = super().create_optimizer(model) if model is not None else super().create_optimizer()
        if self.learnable_alpha is not None:
            # θ has its own learning rate and no weight decay (DESIGN.md, the paper's v3 variant).
            optimizer.add_param_group(
                {"params": list(self.learnable_alpha.parameters()), "lr": self.alpha_lr, "weight_decay": 0.0}
            )
        return optimizer

    def _accumulate(self, result: Any) -> None:
        n_think, n_result = float(result.n_think), float(result.n_result)
        sums = self._sums
        sums["think"] = sums.get("think", 0.0) + float(result.loss_think) * n_think
        sums["result"] = sums.get("result", 0.0) + float(result.loss_result) * n_result
        sums["n_think"] = sums.get("n_think", 0.0) + n_think
        sums["n_result"] = sums.get("n_result", 0.0) + n_result
        sums["micro_batches"] = sums.get("micro_batches", 0.0) + 1

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._sums.get("micro_batches"):
            sums = self._sums
            logs["loss_think"] = sums["think"] / sums["n_think"] if sums["n_think"] else 0.0
            logs["loss_result"] = sums["result"] / sums["n_result"] if sums["n_result"] else 0.0
            logs["tokens_think"] = sums["n_think"]
            logs["tokens_result"] = sums["n_result"]
            if self.loss_mode == "srml":
                alpha = self.current_alpha()
                logs["alpha"] = float(alpha.detach()) if isinstance(alpha, torch.Tensor) else alpha
            self._sums = {}
        super().log(logs, start_time)


def _zero_stage(trainer: Trainer) -> int | None:
    plugin = getattr(trainer.accelerator.state, "deepspeed_plugin", None) if trainer.is_deepspeed_enabled else None
    return getattr(plugin, "zero_stage", None)


class _AlphaSync(TrainerCallback):
    """Looks after the learnable α's θ, which lives outside the (DDP-wrapped) model: averages its
    gradient over ranks, zeroes it after every optimiser step, and saves it with each checkpoint.

    The Trainer zeroes only the model's gradients (`model.zero_grad()`); without the zeroing here
    θ's gradient would pile up, and the update at step k would follow the sum of steps 1..k.
    """

    def __init__(self, module: LearnableAlpha):
        self.module = module

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.module.zero_grad(set_to_none=True)

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.module.zero_grad(set_to_none=True)

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        grad = self.module.theta.grad
        if grad is not None and torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(grad)
            grad /= torch.distributed.get_world_size()

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            torch.save(self.module.state_dict(), folder / ALPHA_STATE)


def load_alpha_state(trainer: SRMLTrainer, checkpoint: str | Path) -> None:
    """Restore the learnable α saved with `checkpoint` (no-op for fixed or scheduled α)."""
    path = Path(checkpoint) / ALPHA_STATE
    if trainer.learnable_alpha is not None and path.is_file():
        trainer.learnable_alpha.load_state_dict(torch.load(path, map_location=trainer.args.device))


def restore_finished(trainer: SRMLTrainer, checkpoint: str | Path) -> bool:
    """Load `checkpoint` into `trainer` instead of training, if it is already at the run's last step.

    `Trainer.train` looks for the end of a run only after taking a step, so resuming a finished run
    trained one step more than asked, and one more again on every rerun. Under DeepSpeed or FSDP the
    checkpoint can only be loaded into the prepared model, inside `train`: there it is left to `train`.
    """
    if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
        return False
    state = TrainerState.load_from_json(str(Path(checkpoint) / TRAINER_STATE_NAME))
    planned = trainer.set_initial_training_values(trainer.args, trainer.get_train_dataloader())[-1]
    if state.global_step > planned:
        raise ValueError(
            f"{checkpoint} is at step {state.global_step}, past this run's {planned} steps: "
            "raise max_steps (or the epochs), or train into a new output folder"
        )
    if state.global_step < planned:
        return False
    trainer._load_from_checkpoint(str(checkpoint))
    state.is_local_process_zero = trainer.state.is_local_process_zero
    state.is_world_process_zero = trainer.state.is_world_process_zero
    trainer.state = state
    return True
