"""Generation with one core kept busy by another job: torch's threads chosen from the free cores.

Claim: with one of the machine's cores busy with another process, local generation keeps at least
0.4x the tokens per second it reaches on the idle machine (torch's default, one thread per core,
reached about 0.1x here: its threads wait for each other on the busy core).

Each run is a fresh process (torch's thread count is chosen when the model loads) generating the
same greedy answers of the embedded SmolLM2-135M-Instruct to BFCL simple_python prompts:

- idle: nothing else running, threads chosen by funreason (`funreason.threads`);
- busy, chosen: one `while True: pass` process running, threads chosen by funreason;
- busy, one per core: the same, with `FUNREASON_THREADS` set to every usable core (torch's default).

Run on an otherwise quiet machine: `python benchmarks/busy_core.py [--prompts 8] [--max-tokens 48]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from _common import load_average


def generate(prompts: int, max_tokens: int) -> dict:
    """In this process: load the model (threads chosen then), generate, report tokens per second."""
    import asyncio

    import torch

    from funreason.evaluate.bfcl import load_category
    from funreason.llm.local import LocalGenerator
    from funreason.models import load_model

    model, tokenizer = load_model("smollm2-135m")
    generator = LocalGenerator(model, tokenizer, batch_size=prompts)
    messages = [entry.messages for entry in load_category("simple_python")[:prompts]]
    started = time.perf_counter()
    outputs = asyncio.run(generator.agenerate(messages, max_tokens=max_tokens))
    seconds = time.perf_counter() - started
    tokens = sum(g[0].completion_tokens for g in outputs)
    return {"threads": torch.get_num_threads(), "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}


def run(prompts: int, max_tokens: int, threads: int | None) -> dict:
    env = {**os.environ}
    env.pop("FUNREASON_THREADS", None)
    if threads is not None:
        env["FUNREASON_THREADS"] = str(threads)
    done = subprocess.run([sys.executable, __file__, "--child", str(prompts), str(max_tokens)], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(generate(*args.child)))
        return
    from funreason.threads import usable_cores

    cores = usable_cores()
    print(f"{args.prompts} simple_python prompts, {args.max_tokens} new tokens, greedy; {cores} usable cores; "
          f"load {load_average()}")  # fmt: skip
    idle = run(args.prompts, args.max_tokens, None)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        chosen = run(args.prompts, args.max_tokens, None)
        every = run(args.prompts, args.max_tokens, cores)
    finally:
        spinner.kill()
        spinner.wait()
    for name, result in (("idle", idle), ("busy, chosen", chosen), ("busy, one per core", every)):
        print(f"{name:20} {result['threads']} thread(s)  {result['tokens_per_s']:6.1f} tokens/s "
              f"({result['tokens']} tokens in {result['seconds']:.1f} s)  "
              f"= {result['tokens_per_s'] / idle['tokens_per_s']:.2f}x idle")  # fmt: skip
    print(f"load now {load_average()}")


if __name__ == "__main__":
    main()
