"""The trainer on a tiny random model: it learns, its step does not depend on how it is split,
its checkpoint reloads and generates, and a killed run resumes to the same loss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    PreTrainedTokenizerFast,
    TrainerCallback,
    TrainingArguments,
)

from funreason.records import write_jsonl
from funreason.synth import generate
from funreason.train.collator import Collator
from funreason.train.config import TrainConfig
from funreason.train.run import train
from funreason.train.segments import render_sample
from funreason.train.trainer import SRMLTrainer

SAMPLES = list(generate(24, seed=5))  # the samples the tiny tokenizer was trained on


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.jsonl"
    write_jsonl(path, SAMPLES)
    return path


def config_for(model: Path, data: Path, output: Path, **overrides) -> TrainConfig:
    base = dict(
        model=str(model), data=data, output=output, lora_r=0, learning_rate=1e-2, batch_size=4,
        max_steps=12, logging_steps=1, save_steps=100, warmup_ratio=0.0, max_length=4096, seed=7,
    )  # fmt: skip
    return TrainConfig(**{**base, **overrides})


def test_full_fine_tuning_learns_and_the_checkpoint_reloads_and_generates(
    tiny_model_dir, data_file, tmp_path
):
    summary = train(config_for(tiny_model_dir, data_file, tmp_path / "run"))

    losses = [row["loss"] for row in summary.log if "loss" in row]
    assert summary.steps == 12 and len(losses) == 12
    assert losses[-1] < 0.8 * losses[0]
    segment_rows = [row for row in summary.log if "loss_think" in row]
    assert segment_rows and all(row["alpha"] == 0.7 and row["tokens_result"] > 0 for row in segment_rows)

    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    after = AutoModelForCausalLM.from_pretrained(summary.output)
    assert not torch.equal(
        before.model.layers[0].mlp.up_proj.weight, after.model.layers[0].mlp.up_proj.weight
    )
    prompt = torch.tensor([[1, 5, 9, 12]])
    generated = after.generate(
        prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=5, do_sample=False
    )
    assert generated.shape[1] > prompt.shape[1]

    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["config"]["loss"] == "srml" and run["summary"]["steps"] == 12 and "git_commit" in run


def test_lora_trains_only_the_adapter(tiny_model_dir, data_file, tmp_path):
    summary = train(config_for(tiny_model_dir, data_file, tmp_path / "lora", lora_r=4, max_steps=3))
    saved = Path(summary.output)
    assert (saved / "adapter_config.json").is_file() and (saved / "adapter_model.safetensors").is_file()
    assert not (saved / "model.safetensors").exists()


def test_learnable_alpha_moves_and_stays_inside_its_bounds(tiny_model_dir, data_file, tmp_path):
    config = config_for(
        tiny_model_dir, data_file, tmp_path / "alpha", alpha_mode="learnable", alpha_lr=0.5, max_steps=6
    )
    alphas = [row["alpha"] for row in train(config).log if "alpha" in row]
    assert alphas[-1] != pytest.approx(0.7) and all(0.05 <= a <= 0.95 for a in alphas)


class _ThetaGradients(SRMLTrainer):
    """Records, per optimiser step, θ's gradient from that step's own micro-batches and the
    gradient the optimiser sees."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.own: list[float] = []
        self.seen: list[float] = []
        trainer = self

        class Watch(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                trainer.own.append(0.0)

            def on_pre_optimizer_step(self, args, state, control, **kwargs):
                trainer.seen.append(float(trainer.learnable_alpha.theta.grad))

        self.add_callback(Watch())

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        (grad,) = torch.autograd.grad(loss, self.learnable_alpha.theta, retain_graph=True)
        self.own[-1] += float(grad)
        return loss


def test_the_learnable_alphas_gradient_at_each_step_is_that_steps_own(tiny_model_dir, tmp_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny_model_dir)
    encoded = [render_sample(s, tokenizer) for s in SAMPLES[:16]]
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=2, gradient_accumulation_steps=2, max_steps=4,
        learning_rate=1e-2, lr_scheduler_type="constant", remove_unused_columns=False, report_to=[], use_cpu=True,
        save_strategy="no", seed=0, data_seed=0, disable_tqdm=True, logging_steps=1,
    )  # fmt: skip
    trainer = _ThetaGradients(
        model=model, args=args, train_dataset=encoded, data_collator=Collator(pad_token_id=tokenizer.pad_token_id),
        alpha_mode="learnable", alpha_lr=0.1,
    )  # fmt: skip
    trainer.train()
    assert len(trainer.seen) == len(trainer.own) == 4
    # Each step's own gradient differs, so a gradient left over from earlier steps would show.
    assert len({round(g, 6) for g in trainer.own}) == 4
    assert trainer.seen == pytest.approx(trainer.own, rel=1e-5, abs=1e-9)
    alphas = [row["alpha"] for row in trainer.state.log_history if "alpha" in row]
    assert len(alphas) == 4 and alphas[0] != alphas[-1]


def one_step_update(model_dir: Path, batch_size: int, grad_accum: int, output: Path, reduction: str) -> dict:
    """Parameters after one SGD step of 8 samples split into `grad_accum` micro-batches."""
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    encoded = [render_sample(s, tokenizer) for s in SAMPLES[:8]]
    args = TrainingArguments(
        output_dir=str(output), per_device_train_batch_size=batch_size, gradient_accumulation_steps=grad_accum,
        max_steps=1, learning_rate=1.0, optim="sgd", lr_scheduler_type="constant", max_grad_norm=0.0,
        remove_unused_columns=False, report_to=[], use_cpu=True, save_strategy="no", seed=0,
        data_seed=0, disable_tqdm=True, logging_steps=1,
    )  # fmt: skip
    trainer = SRMLTrainer(
        model=model, args=args, train_dataset=encoded,
        data_collator=Collator(pad_token_id=tokenizer.pad_token_id), reduction=reduction,
    )  # fmt: skip
    trainer._get_train_sampler = lambda *a, **k: torch.utils.data.SequentialSampler(encoded)
    trainer.train()
    loss = next(row["loss"] for row in trainer.state.log_history if "loss" in row)
    return {"loss": loss, **{name: p.detach().clone() for name, p in model.named_parameters()}}


@pytest.mark.parametrize("reduction", ["sample", "token"])
def test_a_step_split_into_micro_batches_gives_the_same_update(tiny_model_dir, tmp_path, reduction):
    whole = one_step_update(tiny_model_dir, 8, 1, tmp_path / "a", reduction)
    split = one_step_update(tiny_model_dir, 2, 4, tmp_path / "b", reduction)
    assert whole["loss"] == pytest.approx(split["loss"], rel=1e-5)
    for name, value in whole.items():
        if name != "loss":
            torch.testing.assert_close(split[name], value, rtol=1e-4, atol=1e-6, msg=name)


KILLER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from transformers import TrainerCallback
    from funreason.train.config import TrainConfig
    from funreason.train.run import train

    class Kill(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == int(sys.argv[2]):
                os._exit(9)  # like kill -9: no cleanup, no final save

    config = TrainConfig.model_validate_json(Path(sys.argv[1]).read_text())
    train(config, callbacks=[Kill()] if int(sys.argv[2]) else [])
    """
)


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_loss(tiny_model_dir, data_file, tmp_path):
    script = tmp_path / "run_train.py"
    script.write_text(KILLER)

    def run(output: Path, kill_at: int) -> int:
        config = config_for(tiny_model_dir, data_file, output, max_steps=8, save_steps=3)
        config_path = output.with_suffix(".json")
        config_path.write_text(config.model_dump_json())
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        return subprocess.run(
            [sys.executable, str(script), str(config_path), str(kill_at)], env=env
        ).returncode

    assert run(tmp_path / "straight", 0) == 0
    assert run(tmp_path / "killed", 5) == 9
    assert (tmp_path / "killed" / "checkpoint-3").is_dir() and not (tmp_path / "killed" / "final").exists()
    assert run(tmp_path / "killed", 0) == 0

    def losses(output: Path) -> dict[int, float]:
        rows = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]
        return {row["step"]: row["loss"] for row in rows if "loss" in row}

    straight, resumed = losses(tmp_path / "straight"), losses(tmp_path / "killed")
    assert sorted(resumed) == sorted(straight) == list(range(1, 9))
    for step in resumed:
        assert resumed[step] == pytest.approx(straight[step], rel=1e-4), step


@pytest.mark.parametrize("lora_r", [0, 4])
def test_rerunning_a_finished_run_trains_nothing_more(tiny_model_dir, data_file, tmp_path, lora_r):
    from safetensors.torch import load_file

    def saved(folder: str) -> dict[str, torch.Tensor]:
        (weights,) = Path(folder).glob("*.safetensors")
        return load_file(weights)

    config = config_for(tiny_model_dir, data_file, tmp_path / "run", max_steps=2, save_steps=2, lora_r=lora_r)
    first = train(config)
    weights = saved(first.output)
    again = train(config)  # Trainer.train alone would take a third step from checkpoint-2
    assert again.steps == 2 and again.resumed_from.endswith("checkpoint-2")
    assert [row["loss"] for row in again.log if "loss" in row] == [row["loss"] for row in first.log if "loss" in row]
    assert all(torch.equal(tensor, weights[name]) for name, tensor in saved(again.output).items())
    longer = train(config.model_copy(update={"max_steps": 3}))  # a raised budget still resumes
    assert longer.steps == 3 and [row["step"] for row in longer.log if "loss" in row] == [1, 2, 3]
    with pytest.raises(ValueError, match="past this run's 1 steps"):
        train(config.model_copy(update={"max_steps": 1}))


def test_the_chunked_loss_trains_like_the_full_logits_one(tiny_model_dir, data_file, tmp_path):
    runs = {
        chunk: train(config_for(tiny_model_dir, data_file, tmp_path / f"chunk{chunk}", chunk_size=chunk, max_steps=2))
        for chunk in (0, 64)
    }
    full, chunked = ([row["loss"] for row in runs[c].log if "loss" in row] for c in (0, 64))
    assert chunked == pytest.approx(full, rel=1e-4)
