"""Self-refinement (FunReason, Sec. 3.3): the model answers the source queries, FCDR filters its
answers, and the model trains further on what passed; round after round.

Each round writes under `OUT/round_K/`: `generated.jsonl` (the rollouts), `mismatched.jsonl`
(a call where the reference says no tool fits, or prose where it calls), `refine/` (FCDR), `train/`
(the checkpoint) and `eval/` (BFCL scores), then `round.json`. A round with `round.json` is done
and is never redone; a round stopped inside resumes its unfinished step (refine, training and
evaluation each resume on their own).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rich.console import Console

from funreason.calls import CallParseError, parse_calls, split_think
from funreason.llm.settings import ModelEndpoint, check_rounds, model_generator
from funreason.models import EMBEDDED_NAME
from funreason.records import Rejects, Sample, read_samples, refuse_overwrite, write_jsonl
from funreason.refine import make_judge, refine
from funreason.refine.rules import RAW_ANSWER
from funreason.runinfo import run_info
from funreason.train.config import TrainConfig
from funreason.train.run import NoTrainableSamples, train
from funreason.train.segments import chat_messages

ROUND_FILE = "round.json"
DEFAULT_EVAL = ("simple_python", "multiple", "parallel", "irrelevance")


class SelfRefineConfig(BaseModel):
    """Options of `funreason selfrefine`; `train` holds `TrainConfig` fields for each round's training."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(EMBEDDED_NAME, description="The starting model: name, path or adapter folder.")
    queries: Path = Field(description="Source samples: their queries are asked, their answers are the reference.")
    out: Path = Field(description="Folder for the rounds.")
    rounds: int = Field(1, ge=1)
    hard_only: bool = Field(False, description="From round 2, ask only the queries whose answers failed before.")
    samples_per_query: int = Field(1, ge=1)
    temperature: float = Field(0.7, ge=0.0)
    max_queries: int | None = Field(None, ge=1, description="Use the first N queries only.")
    max_new_tokens: int = Field(512, ge=1, description="Longest rollout.")
    eval_max_tokens: int | None = Field(None, ge=1, description="Longest answer at each round's evaluation "
                                                                "(default: max_new_tokens).")
    generation_batch_size: int = Field(16, ge=1)
    replay: float = Field(0.0, ge=0.0, description="Earlier refined samples mixed in, as a fraction of the new ones.")
    replay_data: Path | None = Field(None, description="Refined data from before self-refinement, for replay.")
    judge: str = Field("rules", description="FCDR judge: rules (offline) or an endpoint judge via judge_options.")
    judge_options: dict[str, Any] = Field(default_factory=dict)
    rollout_endpoint: ModelEndpoint | None = Field(
        None, description="Roll out on this server instead of locally (a vLLM server with `load: lora` is the usual way).")
    eval_endpoint: ModelEndpoint | None = Field(None, description="Evaluate each round on this server instead of locally.")
    served: str | None = Field(None, description="The model the endpoints serve as is (default: `model`); "
                                                 "other models reach them as their `load` says.")
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig fields, e.g. max_steps, lora_r.")
    eval_categories: list[str] = Field(list(DEFAULT_EVAL), description="BFCL categories evaluated after each round.")
    eval_limit: int | None = Field(20, ge=1, description="Entries per BFCL category (None: all).")
    evaluate: bool = True
    seed: int = 0

    @model_validator(mode="after")
    def _check_endpoints(self) -> SelfRefineConfig:
        check_rounds(self.rounds, self.model == (self.served or self.model),
                     self.rollout_endpoint.load if self.rollout_endpoint else None,
                     self.eval_endpoint.load if self.eval_endpoint and self.evaluate else None)
        return self

    @model_validator(mode="after")
    def _check_train_options(self) -> SelfRefineConfig:
        reserved = {"model", "data", "output"} & set(self.train)
        if reserved:
            raise ValueError(f"train options may not set {sorted(reserved)}: self-refinement sets them per round")
        TrainConfig(model=self.model, data=self.queries, output=self.out, **self.train)  # reject bad keys now
        return self


def rollout_samples(
    queries: Sequence[Sample], outputs: Sequence[Sequence[Any]], round_index: int
) -> tuple[list[Sample], list[Sample], int]:
    """Turn generations into samples: (answers to refine, answers of the wrong kind, failed generations).

    The text after `</think>` is parsed as calls in any syntax (`calls.parse_calls`: python, or JSON
    or Hermes, which calls python cannot write come in; FCDR's format stage makes any other form
    canonical); text that is no call becomes a statement answer.
    An answer whose kind (call or statement) differs from the reference's is set aside: FCDR's first
    stage would otherwise keep any prose as a valid "no call" answer.
    """
    kept, mismatched, failed = [], [], 0
    for query, generations in zip(queries, outputs, strict=True):
        for j, generation in enumerate(generations):
            if generation.error:
                failed += 1
                continue
            reasoning, text = split_think(generation.text)
            try:
                answer: list[Any] | str = parse_calls(text) or text
            except CallParseError:
                answer = text
            sample = query.model_copy(
                update={
                    "id": f"{query.id}-r{round_index}-s{j}",
                    "source": f"selfrefine-r{round_index}",
                    "reasoning": reasoning,
                    "answer": answer,
                    "verdicts": [],
                    "history": [],
                    "meta": {**query.meta, RAW_ANSWER: text, "query_id": query.id, "round": round_index},
                }
            )
            sample = Sample.model_validate(sample.model_dump())
            (kept if sample.is_call == query.is_call else mismatched).append(sample)
    return kept, mismatched, failed


def failed_query_ids(round_dir: Path) -> set[str]:
    """Queries none of whose answers were refined in a round: the next round's hard pool."""
    asked = {s.meta["query_id"] for s in read_samples(round_dir / "generated.jsonl")}
    asked |= {s.meta["query_id"] for s in read_samples(round_dir / "mismatched.jsonl")}
    passed = {s.meta["query_id"] for s in read_samples(round_dir / "refine" / "refined.jsonl")}
    return asked - passed


def training_mix(new: list[Sample], earlier: list[Sample], replay: float, seed: int) -> list[Sample]:
    """The new refined samples plus `replay`·len(new) samples drawn from the earlier ones."""
    count = min(len(earlier), round(replay * len(new)))
    return new + random.Random(seed).sample(earlier, count)


def selfrefine(
    config: SelfRefineConfig,
    *,
    console: Console | None = None,
    on_round_end: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the rounds of `config` (resuming finished ones); returns each round's `round.json`."""
    console = console or Console(stderr=True)
    refuse_overwrite([config.queries], rejects=config.out / "rejects.jsonl", config=config.out / "config.json")
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "config.json").write_text(json.dumps(run_info(config.model_dump(mode="json")), indent=2) + "\n")
    with Rejects(config.out / "rejects.jsonl") as rejects:
        queries = list(read_samples(config.queries, rejects))[: config.max_queries]
    if not queries:
        raise ValueError(f"no usable query in {config.queries}")
    model, results = config.model, []
    for k in range(1, config.rounds + 1):
        round_dir = config.out / f"round_{k}"
        done = round_dir / ROUND_FILE
        if done.is_file():
            result = json.loads(done.read_text())
            console.print(f"round {k}: already done, trained model {result['model_out']}")
        else:
            asked = queries
            if config.hard_only and k > 1:
                hard = failed_query_ids(config.out / f"round_{k - 1}")
                asked = [q for q in queries if q.id in hard]
            result = run_round(k, asked, model, config, console)
            done.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        results.append(result)
        model = result["model_out"]
        if on_round_end is not None:
            on_round_end(k)
    return results


def run_round(k: int, queries: list[Sample], model: str, config: SelfRefineConfig, console: Console) -> dict[str, Any]:
    """One round: roll out, refine, train, evaluate; each step resumes if it was cut short."""
    start = time.perf_counter()
    round_dir = config.out / f"round_{k}"
    round_dir.mkdir(parents=True, exist_ok=True)
    generated, mismatched = round_dir / "generated.jsonl", round_dir / "mismatched.jsonl"
    failed = 0
    if not generated.is_file():
        console.rule(f"round {k}: the model answers {len(queries)} queries")
        failed = generate_rollouts(k, queries, model, config, generated, mismatched)

    console.rule(f"round {k}: FCDR")
    refined = refine(generated, round_dir / "refine", make_judge(config.judge, **config.judge_options), progress=False)

    console.rule(f"round {k}: training on what passed")
    new = list(read_samples(round_dir / "refine" / "refined.jsonl"))
    earlier = [s for j in range(1, k) for s in read_samples(config.out / f"round_{j}" / "refine" / "refined.jsonl")]
    if config.replay_data:
        earlier += list(read_samples(config.replay_data))
    mix = training_mix(new, earlier, config.replay, config.seed + k)
    result: dict[str, Any] = {
        "round": k, "model_in": model, "queries": len(queries), "generation_failures": failed,
        "generated": _count(generated), "mismatched": _count(mismatched), "refine": refined.as_dict(),
        "train_samples": len(mix),
    }  # fmt: skip
    result.update(model_out=model, train=None)
    write_jsonl(round_dir / "train.jsonl", mix)
    options = {"seed": config.seed + k, **config.train}
    try:
        summary = train(TrainConfig(model=model, data=round_dir / "train.jsonl", output=round_dir / "train", **options),
                        console=console)  # fmt: skip
    except NoTrainableSamples as exc:  # nothing passed FCDR, or all of it is too long: keep the model
        console.print(f"[yellow]round {k}: the model is not trained this round: {exc}[/]")
        result["train_skipped"] = str(exc)
    else:
        result.update(model_out=summary.output, train={"steps": summary.steps, "first_loss": summary.first_loss,
                                                       "last_loss": summary.last_loss, "samples": summary.samples})
    if config.evaluate:
        result["scores"] = evaluate_model(result["model_out"], round_dir / "eval", config)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def generate_rollouts(
    k: int, queries: list[Sample], model: str, config: SelfRefineConfig, generated: Path, mismatched: Path
) -> int:
    """Generate with the current model and write the round's rollouts; returns failed generations."""
    import asyncio

    outputs: list = []
    if queries:
        import torch

        torch.manual_seed(config.seed + k)  # sampled rollouts: the same seed draws the same answers
        generator = model_generator(model, config.rollout_endpoint, config.served or config.model,
                                    config.generation_batch_size)
        tool_format = config.train.get("tool_format", "bfcl")  # the prompt the model trains on
        prompts = [chat_messages(q, tool_format=tool_format)[:-1] for q in queries]
        outputs = asyncio.run(
            generator.agenerate(prompts, max_tokens=config.max_new_tokens, temperature=config.temperature,
                                n=config.samples_per_query)
        )  # fmt: skip
    kept, wrong_kind, failed = rollout_samples(queries, outputs, k)
    write_jsonl(mismatched, wrong_kind)
    # Written last and whole (`write_jsonl` is atomic): its presence means the rollout step is finished.
    write_jsonl(generated, kept)
    return failed


def evaluate_model(model: str, out: Path, config: SelfRefineConfig) -> dict[str, Any]:
    """BFCL scores of `model` on the configured subset (resumes an interrupted evaluation)."""
    from funreason.evaluate.run import evaluate_bfcl

    generator = model_generator(model, config.eval_endpoint, config.served or config.model,
                                config.generation_batch_size)
    summary = evaluate_bfcl(
        generator, out, categories=config.eval_categories, limit=config.eval_limit,
        max_tokens=config.eval_max_tokens or config.max_new_tokens, seed=config.seed, meta={"model": model}, progress=False,
    )  # fmt: skip
    accuracy = {name: score.accuracy for name, score in summary.scores.items()}
    counts = {name: {"correct": score.correct, "total": score.total} for name, score in summary.scores.items()}
    # BFCL's summaries need every category of a group; on a subset the plain mean is what is comparable.
    mean = sum(accuracy.values()) / len(accuracy) if accuracy else None
    return {"categories": accuracy, "counts": counts, "subset_mean": mean, **summary.summary}


def _count(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())
