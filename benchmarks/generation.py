"""Batched local generation: against one prompt at a time, and against the machine's compute limit.

Claim 1: `LocalGenerator` (left-padded batches, KV cache with room to grow, prefill in groups of rows,
finished rows leave the batch) generates at least 4x the tokens per second of one-at-a-time
generation at batch 16, on the CPU, with the embedded SmolLM2-135M-Instruct, greedy, on BFCL
simple_python prompts — with the same outputs.

Both modes use the same generator code (batch_size 16 vs 1) on the same prompts and max_tokens, so
they generate the same tokens; the script checks that the texts agree. They take turns, one batch of
prompts at a time, so that the noise of a shared machine falls on both. Reported per mode: wall
seconds, generated tokens per wall second, the prefill / decode split from `LocalGenerator.stats`,
and process CPU seconds (on a shared machine, CPU time is less disturbed by other load than wall
time). BFCL prompts are long (~450 tokens for simple_python) and prefill costs the same in both
modes, so the end-to-end ratio is bounded by the prefill share; the decode-only ratio is shown too.

Claim 2 (`--workload eval`): an evaluation's generation reaches at least half of the machine's
compute limit. The limit is measured here: the best float32 FLOP/s of square matrix products
(torch, the same threads). The work is counted with `llm.flops` (matrices and attention, padding
and the shared system prompt's reuse not counted as work) and reported as FLOP/s against the limit
for prefill, decode and end to end, with tokens per second, on prompts of the five BFCL categories
an experiment scores (`--model` a trained model to generate its real reasoning-and-call answers).

    python benchmarks/generation.py [--batch-size 16] [--prompts 32] [--max-tokens 64]
        [--prefill-tokens N] [--threads N]
    python benchmarks/generation.py --workload eval [--model PATH] [--batch-size 32] [--prompts 20]
        [--max-tokens 512]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field

import torch
from _common import load_average

from funreason.evaluate.bfcl import load_category
from funreason.llm.local import GenerationStats, LocalGenerator
from funreason.models import EMBEDDED_NAME, load_model


@dataclass
class Timing:
    """What one mode took over all rounds: wall and CPU seconds, the generator's stats, the texts."""

    generator: LocalGenerator
    wall_s: float = 0.0
    cpu_s: float = 0.0
    texts: list[str] = field(default_factory=list)

    @property
    def stats(self) -> GenerationStats:
        return self.generator.stats

    @property
    def tokens(self) -> int:
        return self.stats.completion_tokens

    def run(self, prompts: list[list[dict]], max_tokens: int) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        out = self.generator.generate(prompts, max_tokens=max_tokens)
        self.wall_s += time.perf_counter() - wall
        self.cpu_s += time.process_time() - cpu
        self.texts += [gens[0].text for gens in out]

    def line(self, label: str) -> str:
        return (
            f"{label:>15}: {self.tokens} tokens in {self.wall_s:7.1f} s wall = {self.tokens / self.wall_s:6.2f} tok/s"
            f" | prefill {self.stats.prefill_s:6.1f} s, decode {self.stats.decode_s:6.1f} s"
            f" = {self.tokens / self.stats.decode_s:6.2f} tok/s | CPU {self.cpu_s:7.1f} s"
        )


def matmul_flops_per_s(size: int = 2048, repeats: int = 5) -> float:
    """The machine's compute limit: the best float32 FLOP/s of `size`-square matrix products."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(2):
        a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        best = max(best, 4 * 2 * size**3 / (time.perf_counter() - start))
    return best


def eval_workload(args: argparse.Namespace) -> None:
    """Claim 2: generation of an evaluation against the machine's compute limit."""
    from funreason.experiment.config import BFCL_CATEGORIES

    peak = matmul_flops_per_s()
    model, tokenizer = load_model(args.model or EMBEDDED_NAME, device="cpu")
    prompts = [entry.messages for category in BFCL_CATEGORIES for entry in load_category(category)[: args.prompts]]
    generator = LocalGenerator(model, tokenizer, batch_size=args.batch_size, prefill_tokens=args.prefill_tokens)
    print(
        f"{args.model or EMBEDDED_NAME} on CPU ({torch.get_num_threads()} threads, {os.cpu_count()} cores); "
        f"{len(prompts)} prompts ({args.prompts} from each of {', '.join(BFCL_CATEGORIES)}), batch "
        f"{args.batch_size}, max_tokens {args.max_tokens}, greedy; load average {load_average()}"
    )
    print(f"compute limit: {peak / 1e9:.1f} GFLOP/s (float32 2048x2048 matrix products, best of 5)")
    generator.generate(prompts[:4], max_tokens=2)
    generator.stats = GenerationStats()
    wall = time.perf_counter()
    generator.generate(prompts, max_tokens=args.max_tokens)
    wall = time.perf_counter() - wall
    stats = generator.stats
    rows = [
        ("prefill", stats.prefill_tokens, stats.prefill_s, stats.prefill_flops),
        ("decode", stats.completion_tokens, stats.decode_s, stats.decode_flops),
        ("end to end", stats.prefill_tokens + stats.completion_tokens, wall, stats.prefill_flops + stats.decode_flops),
    ]
    for name, tokens, seconds, flops in rows:
        print(
            f"{name:>10}: {tokens} tokens in {seconds:6.1f} s = {tokens / seconds:7.1f} tok/s, "
            f"{flops / seconds / 1e9:6.1f} GFLOP/s = {flops / seconds / peak:.2f} of the limit"
        )
    print(f"load average after: {load_average()}; target: end to end >= 0.50 of the limit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("batching", "eval"), default="batching")
    parser.add_argument("--model", default=None, help="eval workload: model path (default: the embedded one)")
    parser.add_argument("--batch-size", type=int, default=None, help="default 16 (batching), 32 (eval)")
    parser.add_argument("--prompts", type=int, default=None, help="batching: first N simple_python prompts "
                        "(32); eval: first N of each category (20)")  # fmt: skip
    parser.add_argument("--max-tokens", type=int, default=None, help="default 64 (batching), 512 (eval)")
    parser.add_argument(
        "--prefill-tokens", type=int, default=None, help="prefill group size in tokens (default: LocalGenerator's)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    eval_mode = args.workload == "eval"
    args.batch_size = args.batch_size or (32 if eval_mode else 16)
    args.prompts = args.prompts or (20 if eval_mode else 32)
    args.max_tokens = args.max_tokens or (512 if eval_mode else 64)
    if eval_mode:
        eval_workload(args)
        return

    model, tokenizer = load_model(EMBEDDED_NAME, device="cpu")
    prompts = [entry.messages for entry in load_category("simple_python")[: args.prompts]]
    batched = LocalGenerator(model, tokenizer, batch_size=args.batch_size, prefill_tokens=args.prefill_tokens)
    single = LocalGenerator(model, tokenizer, batch_size=1, prefill_tokens=args.prefill_tokens)
    lengths = [len(batched.encode(prompt)) for prompt in prompts]
    print(
        f"{EMBEDDED_NAME} on CPU ({torch.get_num_threads()} threads, {os.cpu_count()} cores), "
        f"attention {model.config._attn_implementation}, {len(prompts)} prompts of "
        f"{min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
        f"max_tokens {args.max_tokens}, greedy"
    )
    load = os.getloadavg()
    print(f"load average before: {load_average()}")
    if load[0] > (os.cpu_count() or 1) and torch.get_num_threads() > 1:
        # Threads of one op wait for each other; on a busy machine each op then waits for the slowest.
        print("the machine is busy: figures with --threads 1 are steadier")
    for generator in (batched, single):  # warm-up: first-call allocations and kernel selection
        generator.generate(prompts[: args.batch_size], max_tokens=2)
        generator.stats = GenerationStats()

    # Rounds of one batch each, batched then one at a time, so a slow spell of a shared machine
    # falls on both modes rather than on whichever ran during it. Prompts go in by length, as one
    # `generate` call over all of them would batch them.
    prompts = [prompt for _, prompt in sorted(zip(lengths, prompts, strict=True), key=lambda pair: pair[0])]
    many, one = Timing(batched), Timing(single)
    for start in range(0, len(prompts), args.batch_size):
        for mode in (many, one):
            mode.run(prompts[start : start + args.batch_size], args.max_tokens)
    print(many.line(f"batch {args.batch_size}"))
    print(one.line("one at a time"))
    print(f"load average after: {load_average()}")

    same = sum(a == b for a, b in zip(many.texts, one.texts, strict=True))
    print(f"identical outputs: {same}/{len(prompts)}")
    end_to_end = (many.tokens / many.wall_s) / (one.tokens / one.wall_s)
    decode = (many.tokens / many.stats.decode_s) / (one.tokens / one.stats.decode_s)
    cpu = (many.tokens / many.cpu_s) / (one.tokens / one.cpu_s)
    print(f"ratio batched / one at a time: end to end {end_to_end:.2f}x (target >= 4x), ", end="")
    print(f"decode only {decode:.2f}x, per CPU second {cpu:.2f}x")


if __name__ == "__main__":
    main()
