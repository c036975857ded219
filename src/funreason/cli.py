"""The `funreason` command line: one thin sub-command per stage; the work lives in the library."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import track

from funreason import __version__

app = typer.Typer(
    name="funreason",
    help="Make open LLMs better at function calling: synthesise and convert data, refine it (FCDR), "
    "train with the SRML loss, evaluate on BFCL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

STRICT_HELP = "Stop at the first malformed record instead of writing it to the rejects file and going on."


def user_errors(command: F) -> F:
    """Turn user errors (bad input, bad option values, missing files) into one clear line, exit 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ValueError, FileNotFoundError, RuntimeError, OSError) as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"funreason {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="CPU threads for torch (generation, training).",
                                 show_default="the cores other jobs leave free")
    ] = None,
) -> None:
    """funreason: FunReason's data refinement and SRML training for function calling."""
    if threads is not None:  # read when a model is loaded, here and in subprocesses (accelerate)
        from funreason.threads import ENV

        os.environ[ENV] = str(threads)


def report_rejects(
    count: int, examples: list[str], rejects_path: Path | None = None, notes: dict[str, int] | None = None
) -> None:
    """One line about malformed input, so a skipped record is never silent; one per tolerance used."""
    if count:
        where = f", written to {rejects_path}" if rejects_path else ""
        console.print(f"[yellow]{count} malformed record(s) skipped[/]{where}; first: {examples[0]}", highlight=False)
    for what, n in (notes or {}).items():
        console.print(f"[yellow]note:[/] {n} {what}", highlight=False)


SOURCE_HELP = (
    "Input: a JSONL or JSON-array file, a Parquet or Arrow file (needs pyarrow), - for standard input, "
    "or hf:OWNER/NAME[:SPLIT] for a Hugging Face hub dataset (needs funreason\\[hf])."
)
FROM_HELP = (
    "Input format: bfcl, glaive, hermes, llamafactory, native, openai, sharegpt, tooln1, xlam, "
    "or auto (told from the first rows, said on stderr)."
)


def open_input(source: str, from_format: str) -> tuple[Any, str]:
    """The opened source and its format, sniffed (and said on stderr) for `auto`."""
    from funreason.formats import AUTO, open_source, reader, sniff

    if from_format != AUTO:
        reader(from_format)  # a bad name fails before standard input is read
    opened = open_source(source)
    if from_format != AUTO:
        return opened, from_format
    fmt, why = sniff(opened)
    console.print(f"--from auto: reading {opened.name} as {why}", highlight=False)
    return opened, fmt


@app.command()
@user_errors
def synth(
    output: Annotated[Path, typer.Argument(help="JSONL file to write the generated samples to.")],
    n: Annotated[int, typer.Option("-n", "--num", min=1, help="How many samples to generate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
) -> None:
    """Generate an offline synthetic function-calling dataset (tools, queries, calls, reasoning)."""
    from funreason.records import write_jsonl
    from funreason.synth import generate

    samples = track(generate(n, seed), total=n, description="synth", console=console, transient=True)
    written = write_jsonl(output, samples)
    out.print(f"wrote {written} samples to {output}")


@app.command()
@user_errors
def convert(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    output: Annotated[Path, typer.Argument(help="Output JSONL file.")],
    from_format: Annotated[str, typer.Option("--from", help=FROM_HELP)] = "native",
    to_format: Annotated[str, typer.Option("--to", help="Output format: native, openai, sharegpt or trl.")] = "native",
    rejects_path: Annotated[
        Path | None,
        typer.Option("--rejects", help="Where malformed records go.", show_default="OUTPUT.rejects.jsonl"),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Convert a dataset between formats. Readers: auto, bfcl, glaive, hermes, llamafactory, native, openai,
    sharegpt, tooln1, xlam (sharegpt, hermes, glaive and llamafactory give one sample per assistant turn).
    Writers: native, openai, sharegpt, trl."""
    from funreason.formats import convert as convert_file
    from funreason.formats import writer
    from funreason.records import Rejects, refuse_overwrite

    writer(to_format)
    opened, from_format = open_input(source, from_format)
    rejects_path = rejects_path or output.with_suffix(".rejects.jsonl")
    refuse_overwrite([source], output=output, rejects=rejects_path)
    with Rejects(rejects_path, strict=strict) as rejects:
        written = convert_file(opened, output, from_format, to_format, rejects)
    out.print(f"converted {written} samples {from_format} -> {to_format}: {output}")
    report_rejects(rejects.count, rejects.examples, rejects_path, rejects.notes)


@app.command()
@user_errors
def stats(
    source: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    from_format: Annotated[str, typer.Option("--from", help=FROM_HELP)] = "native",
    tokenizer: Annotated[
        str, typer.Option(help="Tokenizer to count tokens with: a model name, path or hub id.")
    ] = "smollm2-135m",
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table instead.")] = False,
) -> None:
    """Print the paper's Table 1 for a dataset: counts by call shape, reasoning vs result token lengths."""
    from funreason.formats import read as read_format
    from funreason.models import load_tokenizer
    from funreason.records import Rejects, require_valid
    from funreason.stats import dataset_stats, stats_markdown, stats_table

    opened, from_format = open_input(source, from_format)
    rejects = Rejects()
    samples = require_valid(read_format(opened, from_format, rejects), rejects, opened.name)
    table = dataset_stats(samples, load_tokenizer(tokenizer))
    out.print(stats_markdown(table) if markdown else stats_table(table))
    report_rejects(rejects.count, rejects.examples, notes=rejects.notes)


RESPONSES_HELP = (
    "Score answers generated elsewhere instead of generating: bfcl-eval's result/ folder (one answer set per "
    "model folder), a model folder, BFCL_v4_<category>_result.json files or {id, result} JSONL (one set per "
    "path). Repeat for more; several sets are scored each into OUT/<set name>/."
)
COMPARE_HELP = "With several answer sets: print one table comparing them (the first is the baseline); also OUT/compare.md."
ENDPOINT_HELP = (
    "OpenAI-compatible API root, e.g. http://localhost:8000/v1 (vLLM, SGLang, llama.cpp); "
    "where an LLM is asked for, $OPENAI_BASE_URL when not given."
)


EXTRA_BODY_HELP = ("JSON object merged into every request body, e.g. "
                   "'{\"chat_template_kwargs\": {\"enable_thinking\": false}}' for Qwen3 on vLLM.")
LOAD_HELP = ("How the endpoint gets each round's trained model: none (it serves --model only), lora (vLLM runtime "
             "LoRA loading) or path (it loads a checkpoint folder named as the model, as `transformers serve` does).")
API_KEY_HELP = "API key for the endpoint (vLLM accepts any)."
TIMEOUT_HELP = "Seconds one endpoint request may take before it is retried (a reasoning model or a busy server needs more)."
DEADLINE_HELP = "Seconds the command may spend on the endpoint in all; past it the run stops, keeping what finished."

# The endpoint options every command that talks to a server shares; `endpoint_settings` turns them
# into the `EndpointSettings` that config sections hold too (same names: --request-timeout is request_timeout).
EndpointOpt = Annotated[str | None, typer.Option(help=ENDPOINT_HELP)]
ApiKeyOpt = Annotated[str | None, typer.Option(envvar="OPENAI_API_KEY", help=API_KEY_HELP, show_default="EMPTY")]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="Endpoint requests in flight at once.")]
TimeoutOpt = Annotated[float, typer.Option(min=0.001, help=TIMEOUT_HELP)]
ExtraBodyOpt = Annotated[str | None, typer.Option(help=EXTRA_BODY_HELP)]
DeadlineOpt = Annotated[float | None, typer.Option(min=0.001, help=DEADLINE_HELP, show_default="none")]


def endpoint_settings(
    endpoint: str | None, model: str | None, api_key: str | None, concurrency: int, request_timeout: float,
    extra_body: str | None, deadline: float | None, **request: Any,
) -> Any:
    """The shared `EndpointSettings` from a command's endpoint options (`request`: max_tokens, temperature)."""
    from funreason.llm.settings import EndpointSettings

    return EndpointSettings(endpoint=endpoint, model=model, api_key=api_key, concurrency=concurrency,
                            request_timeout=request_timeout, extra_body=parse_extra_body(extra_body),
                            deadline=deadline, **request)  # fmt: skip


def parse_extra_body(text: str | None) -> dict[str, Any]:
    """`--extra-body`: a JSON object, or a clear error naming the option."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--extra-body is not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise ValueError(f"--extra-body must be a JSON object, not {type(value).__name__}")
    return value


@app.command()
@user_errors
def cot(
    source: Annotated[Path, typer.Argument(help="Samples (funreason JSONL).", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Argument(help="Where to write the samples with reasoning.")],
    teacher: Annotated[str, typer.Option(help="template (offline rules) or llm (needs --endpoint).")] = "template",
    endpoint: EndpointOpt = None,
    teacher_model: Annotated[str | None, typer.Option(help="Model name served by the endpoint.", show_default="the only model it lists")] = None,
    api_key: ApiKeyOpt = None,
    concurrency: ConcurrencyOpt = 64,
    request_timeout: TimeoutOpt = 60.0,
    max_tokens: Annotated[int, typer.Option(min=1, help="Longest teacher reply (a reasoning teacher needs more).")] = 2048,
    temperature: Annotated[float, typer.Option(min=0.0, help="The teacher's sampling temperature (first attempt).")] = 0.0,
    extra_body: ExtraBodyOpt = None,
    deadline: DeadlineOpt = None,
    overwrite: Annotated[bool, typer.Option(help="Replace reasoning that is already there.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Add chain-of-thought reasoning that walks from each query to its reference call."""
    from funreason.cot import add_reasoning
    from funreason.records import Rejects

    if teacher not in ("template", "llm"):
        raise ValueError(f"--teacher must be template or llm, not {teacher!r}")
    settings = endpoint_settings(endpoint, teacher_model, api_key, concurrency, request_timeout, extra_body, deadline)
    generator = settings.generator(role="--teacher llm") if teacher == "llm" else "template"
    rejects_path = output.with_suffix(".rejects.jsonl")
    with Rejects(rejects_path, strict=strict) as rejects:
        summary = add_reasoning(source, output, generator, overwrite=overwrite, rejects=rejects,
                                max_tokens=max_tokens, temperature=temperature)
    out.print(
        f"wrote {summary.written} samples to {output}: {summary.generated} new reasoning, {summary.kept} kept, "
        f"{summary.errors} failed"
        + (f" (see {summary.errors_path})" if summary.errors else "")
    )
    report_rejects(rejects.count, rejects.examples, rejects_path)


@app.command()
@user_errors
def refine(
    source: Annotated[Path, typer.Argument(help="Samples to refine (funreason JSONL).", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--out", help="Folder for refined/hard/dropped/errors and the report.")],
    judge: Annotated[str | None, typer.Option(help="rules, llm, hybrid, or ensemble (several LLM judges voting).", show_default="hybrid with --endpoint, else rules")] = None,
    endpoint: EndpointOpt = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model name served by the endpoint; for ensemble, several, comma-separated.", show_default="the only model it lists")] = None,
    vote: Annotated[str, typer.Option(help="How an ensemble decides: unanimous, majority, or mean>=τ (a share of passes).")] = "unanimous",
    teacher_model: Annotated[str | None, typer.Option(help="Teacher model that rewrites stage 4-5 failures "
                                                           "(without one they go to the hard pool).")] = None,
    teacher_endpoint: Annotated[str | None, typer.Option(help="The teacher's API root, if not --endpoint.")] = None,
    api_key: ApiKeyOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Judge (and teacher) requests in flight at once.")] = 64,
    request_timeout: TimeoutOpt = 60.0,
    judge_max_tokens: Annotated[int, typer.Option(min=1, help="Longest judge reply (a reasoning judge needs more).")] = 1024,
    teacher_max_tokens: Annotated[int, typer.Option(min=1, help="Longest teacher reply.")] = 4096,
    extra_body: ExtraBodyOpt = None,
    deadline: DeadlineOpt = None,
    max_regenerations: Annotated[int, typer.Option(min=0, help="Attempts to correct or rewrite a failing sample at stages 4-5.")] = 2,
    undecided: Annotated[str, typer.Option(help="What a verdict the judge cannot settle counts as: pass, fail or hard.")] = "pass",
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per judge batch.")] = 256,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Refine data with FCDR's five judged stages; resumable (rerun the same command after a crash)."""
    from funreason.refine import make_judge
    from funreason.refine import refine as run_refine
    from funreason.refine.teacher import TeacherRegenerator

    kind = judge or ("hybrid" if endpoint else "rules")
    if kind not in ("rules", "llm", "hybrid", "ensemble"):
        raise ValueError(f"--judge must be rules, llm, hybrid or ensemble, not {kind!r}")
    if teacher_endpoint and not teacher_model:
        raise ValueError("--teacher-endpoint needs --teacher-model NAME")
    judge_settings = endpoint_settings(endpoint, judge_model, api_key, concurrency, request_timeout, extra_body,
                                       deadline, max_tokens=judge_max_tokens)  # fmt: skip
    options = {} if kind == "rules" else judge_settings.model_dump(exclude_defaults=True)
    if kind == "ensemble":
        models = [name.strip() for name in (judge_model or "").split(",") if name.strip()]
        if len(models) < 2:
            raise ValueError("--judge ensemble needs two or more judge models: --judge-model A,B[,C...]")
        options = {"judges": [{"kind": "llm", **options, "model": name} for name in models], "vote": vote}
    teacher = None
    if teacher_model:
        teacher_settings = judge_settings.model_copy(update={"endpoint": teacher_endpoint or endpoint, "model": teacher_model})
        teacher = TeacherRegenerator(teacher_settings.generator(role="--teacher-model"), max_tokens=teacher_max_tokens)
    summary = run_refine(
        source, output, make_judge(kind, **options), max_regenerations=max_regenerations,
        regenerator=teacher, undecided=undecided,
        batch_size=batch_size, strict=strict,
    )  # fmt: skip
    out.print(refine_table(summary))
    if summary.undecided_kept:
        console.print(f"[yellow]{summary.undecided_kept} refined sample(s) passed a stage on an undecided verdict "
                      "counted as pass[/]; use --undecided hard (or a hybrid judge) to keep only decided ones",
                      highlight=False)


def refine_table(summary: Any) -> Any:
    """The FCDR funnel and outcome counts as a rich table."""
    from rich.table import Table

    table = Table(title=f"FCDR funnel ({summary.seconds:.1f} s)")
    table.add_column("stage")
    table.add_column("passed", justify="right")
    for stage, count in summary.funnel.items():
        table.add_row(stage, str(count))
    table.add_section()
    for name in ("refined", "statements", "hard", "dropped", "errors", "rejects"):
        table.add_row(name, str(getattr(summary, name)))
    table.add_section()
    table.add_row("answers regenerated (by the teacher)", f"{summary.regenerated} ({summary.rewritten})")
    table.add_row("unusable teacher replies", str(summary.unusable))
    table.add_row("kept after regeneration", str(summary.kept_after_regeneration))
    table.add_row("given up after regeneration", str(summary.given_up))
    table.add_row("judge calls (cached)", f"{summary.judged} ({summary.cached})")
    return table


@app.command()
@user_errors
def train(
    data: Annotated[Path | None, typer.Option("--data", help="Training samples (funreason JSONL).", exists=True, dir_okay=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder for checkpoints and the final model.")] = None,
    config_file: Annotated[Path | None, typer.Option("--config", help="A TrainConfig as YAML/JSON; replaces the other options.", exists=True, dir_okay=False)] = None,
    model: Annotated[str, typer.Option(help="Model name, local path or hub id.")] = "smollm2-135m",
    loss: Annotated[str, typer.Option(help="srml (balanced think/result) or sft.")] = "srml",
    alpha: Annotated[float, typer.Option(help="Weight of the reasoning segment (start value).")] = 0.7,
    alpha_mode: Annotated[str, typer.Option(help="fixed, learnable or scheduled.")] = "fixed",
    alpha_end: Annotated[float, typer.Option(help="Final alpha of the scheduled mode.")] = 0.3,
    reduction: Annotated[str, typer.Option(help="Average per sample or per token.")] = "sample",
    lora_r: Annotated[int, typer.Option(help="LoRA rank; 0 fine-tunes every parameter.")] = 16,
    learning_rate: Annotated[float, typer.Option("--lr", help="Peak learning rate.")] = 2e-4,
    epochs: Annotated[float, typer.Option(help="Passes over the data.")] = 1.0,
    max_steps: Annotated[int, typer.Option(help="Stop after this many optimiser steps (-1: run the epochs).")] = -1,
    batch_size: Annotated[int, typer.Option(help="Samples per device per micro-batch.")] = 4,
    grad_accum: Annotated[int, typer.Option(help="Micro-batches per optimiser step.")] = 1,
    max_length: Annotated[int, typer.Option(help="Longer samples are skipped and counted.")] = 2048,
    tool_format: Annotated[str, typer.Option(help="How the prompt shows tools: bfcl (as at BFCL evaluation), json or mix.")] = "bfcl",
    chunk_size: Annotated[int, typer.Option(help="Memory-lean loss: tokens per logits chunk (0: off).")] = 0,
    gradient_checkpointing: Annotated[bool, typer.Option(help="Recompute activations to save memory.")] = False,
    save_steps: Annotated[int, typer.Option(help="Checkpoint every this many steps.")] = 200,
    logging_steps: Annotated[int, typer.Option(help="Log every this many steps.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    report_to: Annotated[list[str], typer.Option(help="Trainer loggers (tensorboard, wandb, ...).")] = ["none"],  # noqa: B006
    resume: Annotated[bool, typer.Option(help="Resume from the newest checkpoint in OUTPUT.")] = True,
) -> None:
    """Fine-tune a model with the SRML loss (or plain SFT), LoRA by default."""
    from funreason.configfile import load_config_file
    from funreason.train.config import TrainConfig
    from funreason.train.run import train as run_training

    if config_file is not None:
        config = TrainConfig.model_validate(load_config_file(config_file))
        out.print(train_table(run_training(config, console=console)))
        return
    if data is None or output is None:
        raise ValueError("give --data FILE and --output DIR (or --config FILE)")
    config = TrainConfig(
        model=model, data=data, output=output, loss=loss, alpha=alpha, alpha_mode=alpha_mode,
        alpha_end=alpha_end, reduction=reduction, lora_r=lora_r, learning_rate=learning_rate,
        epochs=epochs, max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum,
        max_length=max_length, tool_format=tool_format, chunk_size=chunk_size,
        gradient_checkpointing=gradient_checkpointing, save_steps=save_steps, logging_steps=logging_steps, seed=seed, report_to=report_to, resume=resume,
    )  # fmt: skip
    summary = run_training(config, console=console)
    out.print(train_table(summary))


@app.command()
@user_errors
def selfrefine(
    queries: Annotated[Path, typer.Option("--queries", help="Source samples (their answers are the reference).", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--out", help="Folder for round_1, round_2, ...")],
    model: Annotated[str, typer.Option(help="Starting model: name, path or adapter folder.")] = "smollm2-135m",
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of rollout -> FCDR -> training -> evaluation.")] = 1,
    hard_only: Annotated[bool, typer.Option("--hard-only", help="From round 2, ask only queries that failed before.")] = False,
    samples_per_query: Annotated[int, typer.Option(min=1, help="Answers sampled per query.")] = 1,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature of the rollouts.")] = 0.7,
    max_queries: Annotated[int | None, typer.Option(min=1, help="Use only the first N queries.")] = None,
    replay: Annotated[float, typer.Option(min=0.0, help="Earlier refined samples mixed in, as a fraction of the new.")] = 0.0,
    replay_data: Annotated[Path | None, typer.Option(help="Refined data from before self-refinement, for replay.")] = None,
    max_steps: Annotated[int, typer.Option(help="Training steps per round (-1: one epoch).")] = -1,
    lora_r: Annotated[int, typer.Option(help="LoRA rank of each round's training; 0 trains all weights.")] = 16,
    eval_limit: Annotated[int, typer.Option(min=1, help="BFCL entries per category evaluated each round.")] = 20,
    endpoint: Annotated[str | None, typer.Option(help="OpenAI-compatible API root that serves --model: rollouts run "
                                                      "there instead of locally (and evaluations, with --load lora|path).")] = None,
    served_model: Annotated[str | None, typer.Option(help="Name the endpoint serves --model under.", show_default="the only model it lists")] = None,
    load: Annotated[str, typer.Option(help=LOAD_HELP)] = "none",
    api_key: ApiKeyOpt = None,
    concurrency: ConcurrencyOpt = 64,
    request_timeout: TimeoutOpt = 60.0,
    extra_body: ExtraBodyOpt = None,
    deadline: DeadlineOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Self-refinement: the model answers the queries, FCDR keeps what is right, the model trains on it."""
    from funreason.selfrefine import SelfRefineConfig
    from funreason.selfrefine import selfrefine as run_rounds

    server = None
    if endpoint:
        settings = endpoint_settings(endpoint, served_model, api_key, concurrency, request_timeout, extra_body, deadline)
        server = {**settings.model_dump(exclude_defaults=True), "load": load}

    config = SelfRefineConfig(
        model=model, queries=queries, out=output, rounds=rounds, hard_only=hard_only,
        samples_per_query=samples_per_query, temperature=temperature, max_queries=max_queries, replay=replay,
        replay_data=replay_data, train={"max_steps": max_steps, "lora_r": lora_r}, eval_limit=eval_limit, seed=seed,
        rollout_endpoint=server, eval_endpoint=server if load != "none" else None,
    )  # fmt: skip
    results = run_rounds(config, console=console)
    out.print(rounds_table(results))


def rounds_table(results: list[dict[str, Any]]) -> Any:
    """One row per self-refinement round: what was asked, kept, trained and scored."""
    from rich.table import Table

    table = Table(title="self-refinement rounds")
    for column in ("round", "queries", "answers", "wrong kind", "refined", "train steps", "BFCL subset mean"):
        table.add_column(column, justify="right")
    for row in results:
        overall = (row.get("scores") or {}).get("subset_mean")
        table.add_row(
            str(row["round"]), str(row["queries"]), str(row["generated"] + row["mismatched"]), str(row["mismatched"]),
            str(row["refine"]["refined"]), str((row.get("train") or {}).get("steps", 0)),
            "-" if overall is None else f"{overall:.1%}",
        )  # fmt: skip
    return table


@app.command()
@user_errors
def evaluate(
    output: Annotated[Path | None, typer.Option("--out", help="Folder for results.jsonl, scores.json/.md/.png.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name, path or adapter folder to generate with.")] = None,
    endpoint: Annotated[str | None, typer.Option(help=ENDPOINT_HELP + " Generates there instead of locally.")] = None,
    served_model: Annotated[str | None, typer.Option(help="Model name served by the endpoint.", show_default="--model, else the only model the endpoint lists")] = None,
    api_key: ApiKeyOpt = None,
    concurrency: ConcurrencyOpt = 64,
    request_timeout: TimeoutOpt = 60.0,
    extra_body: ExtraBodyOpt = None,
    deadline: DeadlineOpt = None,
    mode: Annotated[str, typer.Option(help="prompt (BFCL's prompting format, any model) or fc (BFCL's function-calling "
                                           "format: functions as the OpenAI tools field, calls from tool_calls; --endpoint).")] = "prompt",
    suite: Annotated[str, typer.Option(help="bfcl, or humaneval (the forgetting check).")] = "bfcl",
    categories: Annotated[str, typer.Option(help="BFCL categories or groups (non_live, live, all, multi_turn), comma-separated.")] = "non_live,live",
    limit: Annotated[int | None, typer.Option(min=1, help="First N entries of each category (or HumanEval problems).")] = None,
    ids: Annotated[str | None, typer.Option(help="Only these BFCL entries (comma-separated ids) of the categories.")] = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="Longest answer generated.")] = 1024,
    batch_size: Annotated[int, typer.Option(min=1, help="Prompts per batch of local generation.")] = 16,
    bfcl_data: Annotated[Path | None, typer.Option(help="A BFCL data/ folder instead of the installed bfcl-eval's.")] = None,
    responses: Annotated[list[Path] | None, typer.Option(help=RESPONSES_HELP)] = None,
    strip_reasoning: Annotated[bool, typer.Option(help="With --responses: remove <think> reasoning before checking, for result files whose tool leaves it in (BFCL's handlers remove it; off by default, as BFCL checks).")] = False,
    compare: Annotated[bool, typer.Option("--compare", help=COMPARE_HELP)] = False,
    plot: Annotated[bool | None, typer.Option("--plot/--no-plot", help="Draw scores.png (matplotlib takes a second).",
                                              show_default="on when generating, off with --responses")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Evaluate on BFCL (or HumanEval): generate, decode safely, check like BFCL, score; or score
    answers generated elsewhere (--responses), several models at once."""
    from funreason.evaluate import report

    if output is None:
        raise ValueError("--out DIR is required")
    if responses:
        score_sets(responses, output, bfcl_data, compare, plot=bool(plot), strip_reasoning=strip_reasoning)
        return
    if compare:
        raise ValueError("--compare compares answer sets given with --responses; "
                         "to compare finished evaluation folders use `funreason compare DIR DIR...`")
    settings = endpoint_settings(endpoint, served_model or model, api_key, concurrency, request_timeout, extra_body,
                                 deadline)  # fmt: skip
    generator = make_generator(model, settings, batch_size)
    if suite == "humaneval":
        from funreason.evaluate.humaneval import run_humaneval

        scores = run_humaneval(generator, output, limit=limit, max_tokens=max_tokens)
        out.print(f"HumanEval pass@1: {scores['pass@1']:.1%} over {scores['problems']} problems -> {output}")
        return
    if suite != "bfcl":
        raise ValueError(f"--suite must be bfcl or humaneval, not {suite!r}")
    from funreason.evaluate.run import evaluate_bfcl

    meta = {"model": served_model or model or (generator.name if endpoint else None), "endpoint": endpoint}
    evaluate_bfcl(generator, output, categories=categories.split(","), limit=limit, data_dir=bfcl_data,
                  ids=None if ids is None else [key.strip() for key in ids.split(",") if key.strip()],
                  max_tokens=max_tokens, seed=seed, meta=meta, plot=plot is not False, mode=mode)  # fmt: skip
    out.print(report.scores_markdown(report.read_scores(output)))


def score_sets(
    responses: list[Path], output: Path, bfcl_data: Path | None, compare: bool, *, plot: bool, strip_reasoning: bool
) -> None:
    """Score every answer set, print a table per set (and the comparison), then draw the plots if asked."""
    from funreason.evaluate import report
    from funreason.evaluate.responses import answer_sets
    from funreason.evaluate.run import REJECTS_JSONL, score_answer_sets

    sets = answer_sets(responses)
    if compare and len(sets) < 2:
        raise ValueError(f"--compare needs two or more answer sets; {', '.join(map(str, responses))} hold one")
    summaries = score_answer_sets(sets, output, data_dir=bfcl_data, plot=False, strip_reasoning=strip_reasoning)
    for summary in summaries:
        out.print(report.scores_markdown(report.read_scores(summary.out_dir)))
        report_rejects(summary.rejects, summary.reject_examples, summary.out_dir / REJECTS_JSONL)
    if compare:
        out.print(report.write_compare(output, [summary.out_dir for summary in summaries]).table())
        console.print(f"comparison: {output / report.COMPARE_MD}", highlight=False)
    for summary in summaries if plot else ():  # matplotlib is slow to import: after the tables
        report.plot_run(summary.out_dir)


@app.command("compare")
@user_errors
def compare_runs(
    run_dirs: Annotated[list[Path], typer.Argument(help="Evaluation folders (holding scores.json); the first is the baseline.")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table instead.")] = False,
) -> None:
    """Compare finished evaluations: BFCL's summaries and every category, with deltas against the first."""
    from funreason.evaluate import report

    comparison = report.compare(*run_dirs)
    out.print(comparison.markdown() if markdown else comparison.table())


def make_generator(model: str | None, settings: Any, batch_size: int) -> Any:
    """An endpoint generator when --endpoint is given, else the local model, batched."""
    if settings.endpoint:
        return settings.generator(role="evaluate --endpoint")
    if not model:
        raise ValueError("give --model NAME_OR_PATH (or --endpoint URL with --served-model NAME)")
    from funreason.llm.local import LocalGenerator
    from funreason.models import load_model

    loaded, tokenizer = load_model(model)
    return LocalGenerator(loaded, tokenizer, batch_size=batch_size)


def train_table(summary: Any) -> Any:
    """The closing summary of a training run as a rich table."""
    from rich.table import Table

    table = Table(title="training summary", show_header=False)
    rows = [
        ("model saved to", summary.output),
        ("samples (skipped too long / malformed)", f"{summary.samples} ({summary.skipped} / {summary.rejected})"),
        ("shapes trained (skipped too long)", ", ".join(
            f"{shape} {c['trained']}" + (f" ({c['skipped']})" if c["skipped"] else "") for shape, c in summary.shapes.items()
        )),
        ("optimiser steps", str(summary.steps)),
        ("loss first -> last", "-" if summary.first_loss is None else f"{summary.first_loss:.4f} -> {summary.last_loss:.4f}"),
        ("time", f"{summary.seconds:.1f} s"),
    ]
    last = next((row for row in reversed(summary.log) if "loss_think" in row), None)
    if last:
        rows.append(("last loss_think / loss_result", f"{last['loss_think']:.4f} / {last['loss_result']:.4f}"))
    if summary.resumed_from:
        rows.append(("resumed from", summary.resumed_from))
    rows += [("warning", line) for line in summary.warnings]
    for key, value in rows:
        table.add_row(key, value)
    return table


@app.command()
@user_errors
def demo(
    output: Annotated[Path, typer.Option("--out", help="Folder for every artifact of the run.")] = Path("runs/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="Smaller sizes: about 5 minutes instead of 20.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Run the main job on embedded defaults (no network, no GPU) and write report.md."""
    from funreason.demo import demo_config, run_pipeline

    run_pipeline(demo_config(output, quick=quick, seed=seed), console=out)


@app.command()
@user_errors
def experiment(
    config: Annotated[Path, typer.Argument(help="Experiment config (YAML); see configs/experiment.yaml.", exists=True, dir_okay=False)],
    output: Annotated[Path | None, typer.Option("--out", help="Override the config's output folder.")] = None,
    split: Annotated[str | None, typer.Option(help="Score dev entries (to choose hyperparameters) or test entries.")] = None,
    report_only: Annotated[bool, typer.Option("--report-only", help="Redraw results.* from what has finished; train nothing.")] = False,
) -> None:
    """Arms x seeds (base, SFT, SRML variants, no FCDR, self-refinement) on fixed BFCL and HumanEval
    entries; resumable: a finished (arm, seed) is never redone. Writes results.md, .json and .png."""
    from funreason.experiment.config import load_experiment
    from funreason.experiment.run import fixed_entries, run_experiment

    settings = load_experiment(config, out=output, split=split)
    if report_only:
        from funreason.experiment.report import write_results

        path = write_results(settings, fixed_entries(settings))
    else:
        path = run_experiment(settings, console=console)
    out.print(path.read_text(encoding="utf-8"))
    console.print(f"results: {path}")


@app.command()
@user_errors
def run(
    config: Annotated[Path, typer.Argument(help="Pipeline config (YAML); see configs/.", exists=True, dir_okay=False)],
    output: Annotated[Path | None, typer.Option("--out", help="Override the config's output folder.")] = None,
) -> None:
    """Run the whole pipeline (data, FCDR, SRML training, BFCL, self-refinement) from a config file."""
    from funreason.demo import run_pipeline
    from funreason.pipeline import load_config

    run_pipeline(load_config(config, out=output), console=out)
