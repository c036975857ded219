"""Training throughput of `funreason train` against TRL's `SFTTrainer`: input tokens per second.

Claim (issue 3): `funreason train` (`SRMLTrainer`, SRML loss) trains at least as many tokens per
second as TRL's `SFTTrainer` on the same model, data and settings.

Same data: `--samples` synth samples written to JSONL; funreason trains on the file through
`funreason.train.run.train` (the whole `funreason train` path), TRL on the same file rendered by the
same `run.encode_samples`, as a pre-tokenized dataset of `input_ids` and `labels` (TRL keeps given
labels), so both train exactly the same tokens. Same settings: TRL's `SFTConfig` copies funreason's
`TrainingArguments` (batch, accumulation, learning rate, schedule, seed and so the same shuffled
order, precision), no gradient checkpointing, no packing; the same LoRA (`run.add_lora`) or full
fine-tuning. TRL computes its loss with its own fused, chunked LM head (and logs entropy and token
accuracy, as it does by default); funreason with full logits, or chunked with `--chunk-size`.

Throughput: non-padding input tokens (the attention mask's sum, counted by a forward pre-hook on the
trained model) per second of wall time between the end of step `--skip` and the end of the last step
(a `TrainerCallback`), so model loading, data preparation and the first steps are not counted; per
process CPU second too, which load from other processes disturbs less. With `--rounds` above 1 the
order alternates (funreason, TRL, TRL, funreason, ...) and the median is reported.

TRL is a benchmark-only dependency (`pip install trl`; the `bench` extra).

    python benchmarks/train_throughput.py --tiny   # random 4-layer Qwen2: about a minute on 2 cores
    python benchmarks/train_throughput.py          # embedded SmolLM2-135M, LoRA r16: ~15 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from _common import load_average, markdown_row
from transformers import AutoModelForCausalLM, Qwen2Config, TrainerCallback

from funreason.models import EMBEDDED_NAME, load_model, load_tokenizer
from funreason.records import write_jsonl
from funreason.synth import generate
from funreason.train.config import TrainConfig
from funreason.train.run import add_lora, encode_samples, train, training_arguments

# TrainingArguments that SFTConfig copies from funreason's, so both runs share them.
SHARED_ARGS = (
    "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "num_train_epochs",
    "max_steps", "lr_scheduler_type", "warmup_steps", "weight_decay", "optim", "logging_steps", "save_steps",
    "save_total_limit", "seed", "data_seed", "bf16", "fp16", "use_cpu", "report_to",
    "dataloader_num_workers", "disable_tqdm",
)  # fmt: skip


class StepMeter(TrainerCallback):
    """Wall and CPU time at the end of every optimiser step, and the non-padding tokens of each step."""

    def __init__(self) -> None:
        self.ends: list[tuple[float, float]] = []
        self.tokens: list[int] = []
        self._pending = 0
        self._hook: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._hook = model.register_forward_pre_hook(self._count, with_kwargs=True)
        self.ends.append((time.perf_counter(), time.process_time()))  # step 0: the start

    def _count(self, module: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        mask = kwargs.get("attention_mask")
        ids = kwargs.get("input_ids", args[0] if args else None)
        self._pending += int(mask.sum()) if mask is not None else ids.numel()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.ends.append((time.perf_counter(), time.process_time()))
        self.tokens.append(self._pending)
        self._pending = 0

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._hook.remove()

    def result(self, skip: int) -> dict[str, Any]:
        """Tokens per wall and CPU second over steps `skip + 1` to the last."""
        if len(self.tokens) <= skip:
            raise ValueError(f"only {len(self.tokens)} steps ran; --steps must exceed --skip ({skip})")
        tokens = sum(self.tokens[skip:])
        wall = self.ends[-1][0] - self.ends[skip][0]
        cpu = self.ends[-1][1] - self.ends[skip][1]
        return {"steps": len(self.tokens) - skip, "tokens": tokens, "wall": wall, "cpu": cpu,
                "tok_s": tokens / wall, "tok_cpu_s": tokens / cpu, "per_step": list(self.tokens)}  # fmt: skip


def run_funreason(config: TrainConfig, skip: int) -> dict[str, Any]:
    meter = StepMeter()
    train(config, callbacks=[meter])
    return meter.result(skip)


def run_trl(config: TrainConfig, data: list[dict[str, list[int]]], skip: int) -> dict[str, Any]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    has_cuda = torch.cuda.is_available()
    ours = training_arguments(config, has_cuda=has_cuda)
    args = SFTConfig(
        output_dir=str(config.output),
        **{name: getattr(ours, name) for name in SHARED_ARGS},
        gradient_checkpointing=config.gradient_checkpointing,
        max_length=config.max_length,
        packing=False,
        padding_free=False,
    )
    if args.activation_checkpointing != config.gradient_checkpointing:
        raise RuntimeError("SFTConfig did not take the gradient checkpointing setting")
    model, tokenizer = load_model(config.model, dtype=torch.float32 if not has_cuda else None)
    if config.lora_r:
        model = add_lora(model, config)
    meter = StepMeter()
    dataset = Dataset.from_list([{"input_ids": d["input_ids"], "labels": d["labels"]} for d in data])
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, callbacks=[meter]
    )
    trainer.train()
    return meter.result(skip)


TINY = "tiny random Qwen2 (4 layers, hidden 128, SmolLM2 vocabulary)"


def tiny_model(folder: Path, tokenizer: Any, seed: int) -> str:
    """A random 4-layer Qwen2 with the embedded tokenizer, saved to `folder`."""
    config = Qwen2Config(
        hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
        vocab_size=len(tokenizer), max_position_embeddings=4096, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)
    AutoModelForCausalLM.from_config(config, dtype=torch.float32).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a random 4-layer Qwen2 instead of SmolLM2-135M")
    parser.add_argument("--model", default=EMBEDDED_NAME, help="model name or path (ignored with --tiny)")
    parser.add_argument("--steps", type=int, default=8, help="optimiser steps per run")
    parser.add_argument("--skip", type=int, default=1, help="first steps not timed")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--grad-accum", type=int, default=1)
    parser.add_argument(
        "--max-length", type=int, default=1024, help="longer samples are skipped (both trainers)"
    )
    parser.add_argument("--lora-r", type=int, default=16, help="LoRA rank; 0 trains every parameter")
    parser.add_argument("--loss", choices=("srml", "sft"), default="srml", help="funreason's loss")
    parser.add_argument("--chunk-size", type=int, default=0, help="funreason's chunked loss (0: full logits)")
    parser.add_argument(
        "--samples", type=int, default=None, help="synth samples (default: enough for --steps)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs per trainer, alternating order")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.steps <= args.skip:
        parser.error("--steps must exceed --skip")
    return args


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    setup = f"LoRA r{args.lora_r}" if args.lora_r else "full fine-tuning"
    loss = f"{args.loss}, " + (f"chunked {args.chunk_size}" if args.chunk_size else "full logits")
    with tempfile.TemporaryDirectory(prefix="train-throughput-") as tmp:
        folder = Path(tmp)
        tokenizer = load_tokenizer(EMBEDDED_NAME)
        model = tiny_model(folder / "tiny", tokenizer, args.seed) if args.tiny else args.model
        data = folder / "synth.jsonl"
        write_jsonl(
            data, generate(args.samples or 2 * args.steps * args.batch_size * args.grad_accum + 8, args.seed)
        )
        encoded, shapes, _ = encode_samples(data, load_tokenizer(model), args.max_length, folder)
        skipped = sum(counts["skipped"] for counts in shapes.values())
        lengths = [len(e["input_ids"]) for e in encoded]
        print(
            f"model {TINY if args.tiny else model}, {setup}, {torch.get_num_threads()} threads; "
            f"funreason loss {loss}; TRL SFTTrainer nll (fused LM head)"
        )
        print(
            f"{len(encoded)} samples of {min(lengths)}-{max(lengths)} tokens ({skipped} longer than "
            f"{args.max_length} skipped), batch {args.batch_size} x accum {args.grad_accum}, "
            f"{args.steps} steps, first {args.skip} not timed"
        )
        load_before = load_average()
        print(f"load average before: {load_before}")
        results: dict[str, list[dict[str, Any]]] = {"funreason": [], "trl": []}
        for round_ in range(args.rounds):
            for name in ("funreason", "trl") if round_ % 2 == 0 else ("trl", "funreason"):
                config = TrainConfig(
                    model=model, data=data, output=folder / f"{name}-{round_}", loss=args.loss,
                    lora_r=args.lora_r, batch_size=args.batch_size, grad_accum=args.grad_accum,
                    max_length=args.max_length, max_steps=args.steps, chunk_size=args.chunk_size,
                    logging_steps=args.steps, save_steps=args.steps + 1, seed=args.seed, resume=False,
                )  # fmt: skip
                r = (
                    run_funreason(config, args.skip)
                    if name == "funreason"
                    else run_trl(config, encoded, args.skip)
                )
                gc.collect()
                results[name].append(r)
                print(
                    f"round {round_ + 1} {name:>9}: {r['tokens']} tokens in {r['steps']} steps, "
                    f"{r['wall']:.1f} s wall = {r['tok_s']:.1f} tok/s, {r['cpu']:.1f} s CPU = "
                    f"{r['tok_cpu_s']:.1f} tok/CPU-s | tokens per step {r['per_step']} | load {load_average()}"
                )
    load_after = load_average()
    print(f"load average after: {load_after}")

    same = all(r["per_step"] == results["funreason"][0]["per_step"] for rs in results.values() for r in rs)
    print(f"same batches in every run (tokens per step): {'yes' if same else 'NO'}")
    ours, theirs = (statistics.median(r["tok_s"] for r in results[name]) for name in ("funreason", "trl"))
    ours_cpu, theirs_cpu = (
        statistics.median(r["tok_cpu_s"] for r in results[name]) for name in ("funreason", "trl")
    )
    print(
        f"funreason {ours:.1f} tok/s, TRL {theirs:.1f} tok/s: ratio {ours / theirs:.3f}x wall "
        f"({ours_cpu / theirs_cpu:.3f}x per CPU second); target funreason >= TRL -> "
        f"{'met' if ours >= theirs else 'NOT met'}"
    )
    print()
    header = ["model", "setup", "batch x accum x steps", "funreason tok/s", "TRL tok/s", "ratio", "load avg"]
    cells = [
        "tiny Qwen2" if args.tiny else model, f"{setup}, {loss}",
        f"{args.batch_size}x{args.grad_accum}x{args.steps}", f"{ours:.1f}", f"{theirs:.1f}",
        f"{ours / theirs:.3f}x", f"{load_before.split()[0]} / {load_after.split()[0]}",
    ]  # fmt: skip
    print("\n".join(markdown_row(r) for r in (header, ["---"] * len(header), cells)))


if __name__ == "__main__":
    main()
