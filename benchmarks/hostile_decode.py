"""Decoder time per KB on hostile inputs: every reader of model text, data lines and configs.

Claim: each reader takes time linear in its input, hostile or not: the time per KB at the largest
size is about the time per KB at the smallest (ratio ≈ 1; quadratic time would give 1,024× between
1 KB and 1 MB), and the absolute cost stays in milliseconds per KB.

Inputs are our own hostile families, the same ones the test suite's `time_per_kb` tests use (built
here again so that this script stands alone): deep nesting, long digit strings, floods of quotes,
brackets, `<tool_call>`, `<think>` and `<judge>` tags, unclosed tags, long Java/JavaScript literals,
positional-argument floods `[f(1,1,1,...)]` and backtracking bait (`aaaa...!`). Readers:
`calls.parse_calls` (auto: python, JSON and hermes tried in turn), `calls.split_think`,
`calls.find_tags`, `evaluate.decode_python`, `evaluate.decode_java_js` (through `checker.decode`)
and `java_js_types` value conversion, `evaluate.fc.decode_fc`, the BFCL checker on a whole answer
(`checker.check_entry`, `remove_reasoning`), the JSONL line reader (`jsonl.iter_json_stream`), run
configs (`configfile.load_config_file`, PyYAML underneath), `refine.llm_judge.parse_verdict` and
`refine.teacher.parse_rewrite`.

Each point is the best of 3 runs (load from other jobs only ever adds time); a reader that returns
or raises its own error is timed either way. A size is skipped when the smaller size predicts more
than `--max-seconds` for one run; the largest power-of-two size in KB it predicts within that is
timed instead, marked `(at N KB)`. Size is the input's length in characters (JSON text for FC
results). The default top size is 960 KB, not 1 MB: `parse_calls` refuses text over 1,000,000
characters at once (its `MAX_CHARS`), so at 1 MB its rows would time only that refusal.
`--gc-off` turns Python's cyclic garbage collector off while timing: the rows whose per-KB time
grows with size (floods of calls or arguments, millions of small objects) grow mostly from it.

Run: `python benchmarks/hostile_decode.py [--sizes 1K,64K,960K] [--only NAME] [--max-seconds 1] [--gc-off]`.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import load_average, markdown_row

from funreason.calls import CallParseError, find_tags, parse_calls, split_think
from funreason.configfile import load_config_file
from funreason.evaluate.bfcl import load_category
from funreason.evaluate.checker import DecodeError, check_entry, decode, remove_reasoning
from funreason.evaluate.decode_python import PythonDecodeError, decode_python
from funreason.evaluate.fc import FcDecodeError, decode_fc
from funreason.evaluate.java_js_types import java_value, js_value
from funreason.jsonl import Rejects, iter_json_stream
from funreason.refine.llm_judge import parse_verdict
from funreason.refine.teacher import parse_rewrite

Build = Callable[[int], Any]

PYTHON_ANSWERS: dict[str, Build] = {
    "positional arguments": lambda n: "[f(" + "1," * (n // 2) + ")]",
    "many calls": lambda n: "[" + "f(a='x', b=[1, 2])," * (n // 20) + "]",
    "nested calls": lambda n: "[f(a=" + "g(" * (n // 2) + ")]",
    "subscripts": lambda n: "[f(a=x" + "[0]" * (n // 3) + ")]",
    "long digit string": lambda n: "[f(a=" + "9" * n + ")]",
    "deep brackets": lambda n: "[" * n,
    "escaped quotes": lambda n: "[f(a='" + "\\'" * (n // 2) + "')]",
    "backtracking bait": lambda n: "a" * n + "!",
}

CALL_TEXTS: dict[str, Build] = {
    "positional arguments": lambda n: "[f(" + "1," * (n // 2) + ")]",
    "many calls": lambda n: "[" + "f(a=1), " * (n // 8) + "]",
    "deep brackets": lambda n: "[" * n,
    "long digit string": lambda n: "[f(a=" + "9" * n + ")]",
    "escaped quotes": lambda n: '[f(a="' + '\\"' * (n // 2) + '")]',
    "backtracking bait": lambda n: "a" * n + "!",
    "unclosed <tool_call> tags": lambda n: "<tool_call>" * (n // 11),
    "many <tool_call> blocks": lambda n: '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * (n // 53),
    "deep JSON arguments": lambda n: '[{"name": "f", "arguments": ' + "[" * n,
    "JSON-encoded arguments": lambda n: '[{"name": "f", "arguments": "' + '{\\"a\\": ' * (n // 9) + '"}]',
    "backtick runs": lambda n: "`" * n,
}

JAVA_JS_ANSWERS: dict[str, Build] = {
    "deep parentheses": lambda n: "f(a=" + "(" * n,
    "deep brackets": lambda n: "f(a=" + "[" * n,
    "many named arguments": lambda n: "Cls.f(" + ", ".join(f"a{i}=1" for i in range(n // 7)) + ")",
    "escaped quotes": lambda n: 'f(a="' + '\\"' * (n // 2) + '")',
    "long string literal": lambda n: "f(a='" + "x" * n + "')",
    "nested array creation": lambda n: "f(a=" + "new int[]{" * (n // 20) + "}" * (n // 20) + ")",
    "backtracking bait": lambda n: "a" * n + "!",
}

JAVA_JS_VALUES: dict[str, tuple[Callable[[str], Any], Build]] = {
    "java ArrayList literal": (lambda v: java_value(v, "ArrayList", "String"),
                               lambda n: "new ArrayList<String>(Arrays.asList(" + '"a", ' * (n // 5) + "))"),
    "java int[] literal": (lambda v: java_value(v, "Array", "integer"), lambda n: "new int[]{" + "1, " * (n // 3) + "}"),
    "java long digits": (lambda v: java_value(v, "long"), lambda n: "9" * n + "L"),
    "js dict literal": (lambda v: js_value(v, "dict"), lambda n: "{" + ", ".join(f"k{i}: {i}" for i in range(n // 9)) + "}"),
    "js dict bait `{a:a:a:...`": (lambda v: js_value(v, "dict"), lambda n: "{" + "a:" * (n // 2)),
    "js array literal": (lambda v: js_value(v, "array", "integer"), lambda n: "[" + "1, " * (n // 3) + "]"),
}  # fmt: skip

FC_RESULTS: dict[str, tuple[Callable[[Any], Any], Build]] = {
    "many calls": (decode_fc, lambda n: [{"f": '{"a": [1, 2]}'}] * (n // 22)),
    "deep brackets in arguments": (lambda t: decode_fc([{"f": t}]), lambda n: "[" * n),
    "escaped quotes in arguments": (
        lambda t: decode_fc([{"f": t}]),
        lambda n: '{"a": "' + '\\"' * (n // 2) + '"}',
    ),
}

THINK_TAGS: dict[str, Build] = {
    "<think> flood": lambda n: "<think>" * (n // 7),
    "</think> flood": lambda n: "</think>" * (n // 8),
    "<think></think> flood": lambda n: "<think></think>" * (n // 15),
}

JSONL_LINES: dict[str, Build] = {
    "one long line": lambda n: '{"a": "' + "x" * n + '"}\n',
    "many bad lines": lambda n: "{bad\n" * (n // 5),
    "an array opening that is not one": lambda n: "[1]\n" * (n // 4) + "[\n",
    "deep nesting": lambda n: "[" * n + "\n",
    "lone surrogate escapes": lambda n: '{"a": "' + "\\ud800" * (n // 6) + '"}\n',
    "escaped quotes": lambda n: '{"a": "' + '\\"' * (n // 2) + '"}\n',
}

YAML_CONFIGS: dict[str, Build] = {
    "deep flow nesting": lambda n: "a: " + "[" * n,
    "a long mapping": lambda n: "".join(f"k{i}: v\n" for i in range(n // 8)),
    "escaped quotes": lambda n: 'a: "' + '\\"' * (n // 2) + '"\n',
    "many anchors and aliases": lambda n: "a: &x [1]\n" + "".join(f"b{i}: *x\n" for i in range(n // 9)),
}

VERDICTS: dict[str, Build] = {
    "<judge> flood": lambda n: "<judge>" * (n // 7),
    "unclosed <NewFC> tags": lambda n: "<judge>False</judge>" + "<NewFC>" * (n // 7),
    "a long <NewFC>": lambda n: "<judge>False</judge><NewFC>[" + "f(a=1), " * (n // 8) + "]</NewFC>",
    "closing tags only": lambda n: "</judge>" * (n // 8),
}

REWRITES: dict[str, Build] = {
    "unclosed <reasoning> tags": lambda n: "<reasoning>" * (n // 11) + "<answer>",
    "a long answer": lambda n: "<reasoning>r</reasoning><answer>[" + "f(a=1), " * (n // 8) + "]</answer>",
    "<think> flood": lambda n: "<think>" * (n // 7),
}


class Family:
    """One hostile input family fed to one reader."""

    def __init__(self, reader: str, name: str, run: Callable[[Any], Any], build: Build,
                 errors: tuple[type[BaseException], ...] = ()) -> None:  # fmt: skip
        self.reader, self.name, self.run, self.build, self.errors = reader, name, run, build, errors


def families(config_dir: Path) -> list[Family]:
    python_entry = load_category("simple_python")[0]
    java_entry = load_category("simple_java")[0]
    relevance_entry = load_category("irrelevance")[0]
    config = config_dir / "hostile.yaml"

    def load_yaml(text: str) -> None:
        config.write_text(text, encoding="utf-8")
        load_config_file(config)

    out: list[Family] = []
    out += [
        Family("calls.parse_calls (auto)", k, parse_calls, b, (CallParseError,))
        for k, b in CALL_TEXTS.items()
    ]
    out += [Family("calls.split_think", k, split_think, b) for k, b in THINK_TAGS.items()]
    out += [
        Family(
            "calls.find_tags (judge)",
            "<judge> flood",
            lambda t: find_tags(t, "judge"),
            VERDICTS["<judge> flood"],
        )
    ]
    out += [
        Family("evaluate.decode_python", k, decode_python, b, (PythonDecodeError,))
        for k, b in PYTHON_ANSWERS.items()
    ]
    for language in ("java", "javascript"):
        out += [Family(f"evaluate.decode_java_js ({language})", k, lambda t, lang=language: decode(t, lang), b, (DecodeError,))
                for k, b in JAVA_JS_ANSWERS.items()]  # fmt: skip
    out += [
        Family("evaluate.java_js_types values", k, run, b, (ValueError,))
        for k, (run, b) in JAVA_JS_VALUES.items()
    ]
    out += [
        Family("evaluate.fc.decode_fc", k, run, b, (FcDecodeError,)) for k, (run, b) in FC_RESULTS.items()
    ]
    out += [Family("checker.check_entry (simple_python)", k, lambda t: check_entry(python_entry, t), b)
            for k, b in PYTHON_ANSWERS.items()]  # fmt: skip
    out += [Family("checker.check_entry (simple_java)", k, lambda t: check_entry(java_entry, t), b)
            for k, b in JAVA_JS_ANSWERS.items()]  # fmt: skip
    out += [Family("checker.check_entry (irrelevance)", k, lambda t: check_entry(relevance_entry, t), lambda n, b=b: b(n) + "[f(a=1)]")
            for k, b in THINK_TAGS.items()]  # fmt: skip
    out += [Family("checker.remove_reasoning", k, remove_reasoning, b) for k, b in THINK_TAGS.items()]
    out += [Family("jsonl.iter_json_stream", k, lambda t: list(iter_json_stream(io.StringIO(t), "x", Rejects())), b)
            for k, b in JSONL_LINES.items()]  # fmt: skip
    out += [
        Family("configfile.load_config_file (YAML)", k, load_yaml, b, (ValueError,))
        for k, b in YAML_CONFIGS.items()
    ]
    out += [Family("refine.llm_judge.parse_verdict", k, lambda t: parse_verdict(t, "format"), b, (ValueError,))
            for k, b in VERDICTS.items()]  # fmt: skip
    out += [
        Family("refine.teacher.parse_rewrite", k, parse_rewrite, b, (ValueError,))
        for k, b in REWRITES.items()
    ]
    return out


def size_of(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value))


def best_seconds(
    family: Family, value: Any, repeat: int, max_seconds: float, *, gc_off: bool = False
) -> tuple[float, str]:
    """The best of `repeat` runs, and what the reader did: `ok`, `error` (its own), or another exception's name."""
    best, outcome = float("inf"), "ok"
    for _ in range(repeat):
        gc.collect()
        if gc_off:
            gc.disable()
        start = time.perf_counter()
        try:
            family.run(value)
            outcome = "ok"
        except family.errors:
            outcome = "error"
        except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
            outcome = type(exc).__name__
        seconds = time.perf_counter() - start
        gc.enable()
        best = min(best, seconds)
        if seconds > max_seconds:  # one slow run is enough to place the point
            break
    return best, outcome


def capped_size(ms_per_kb: float, max_seconds: float, done: int) -> int | None:
    """The largest power-of-two size in KB above `done` that `ms_per_kb` predicts within `max_seconds`."""
    kb = 1
    while (2 * kb) * ms_per_kb / 1000 <= max_seconds:
        kb *= 2
    return 1024 * kb if 1024 * kb > done else None


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1024, "M": 1024 * 1024}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def label(size: int) -> str:
    return (
        f"{size // (1024 * 1024)} MB"
        if size >= 1024 * 1024
        else f"{size // 1024} KB"
        if size >= 1024
        else f"{size} B"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1K,64K,960K", help="input sizes, comma-separated (K = 1024)")
    parser.add_argument("--only", default="", help="only readers whose name contains this")
    parser.add_argument("--max-seconds", type=float, default=1.0,
                        help="skip a size when the smaller one predicts more than this per run")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gc-off", action="store_true",
                        help="turn Python's cyclic garbage collector off while timing (shows what it adds)")  # fmt: skip
    args = parser.parse_args()
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))

    started = time.perf_counter()
    print(
        f"hostile inputs at {', '.join(label(s) for s in sizes)}; best of {args.repeat}; "
        f"cyclic GC {'off' if args.gc_off else 'on'}; load {load_average()}"
    )
    worst_ratio: tuple[float, str] = (0.0, "")
    worst_per_kb: tuple[float, str] = (0.0, "")
    unexpected: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        reader = None
        for family in families(Path(tmp)):
            if args.only not in family.reader:
                continue
            if family.reader != reader:
                reader = family.reader
                print(f"\n### {reader}\n")
                print(
                    markdown_row(
                        ["family", *(f"ms/KB at {label(s)}" for s in sizes), "ratio largest/smallest"]
                    )
                )
                print(markdown_row(["---", *("---:" for _ in sizes), "---:"]))
            per_kb: list[float | None] = []
            cells: list[str] = []
            last = 0  # the largest size timed so far
            best_seconds(family, family.build(sizes[0]), 1, args.max_seconds)  # warm-up: lazy imports, caches
            for size in sizes:
                known = [p for p in per_kb if p is not None]
                measured = size
                if known and known[-1] / 1000 * size / 1024 > args.max_seconds:
                    measured = capped_size(known[-1], args.max_seconds, done=last)
                    if measured is None:
                        per_kb.append(None)
                        cells.append("skipped")
                        continue
                last = measured
                value = family.build(measured)
                seconds, outcome = best_seconds(
                    family, value, args.repeat, args.max_seconds, gc_off=args.gc_off
                )
                if outcome not in ("ok", "error"):
                    unexpected.append(f"{reader} / {family.name} at {label(measured)}: {outcome}")
                per_kb.append(1000 * seconds / (size_of(value) / 1024))
                cells.append(f"{per_kb[-1]:.4f}" + ("" if measured == size else f" (at {label(measured)})"))
            known = [p for p in per_kb if p is not None]
            ratio = known[-1] / known[0] if len(known) > 1 else None
            where = f"{reader}, {family.name}"
            if ratio is not None and ratio > worst_ratio[0]:
                worst_ratio = (ratio, where)
            if max(known) > worst_per_kb[0]:
                worst_per_kb = (max(known), where)
            print(markdown_row([family.name, *cells, "—" if ratio is None else f"{ratio:.2f}"]), flush=True)

    print(f"\nworst ratio largest/smallest per-KB time: {worst_ratio[0]:.2f} ({worst_ratio[1]})")
    print(f"worst time per KB: {worst_per_kb[0]:.3f} ms ({worst_per_kb[1]})")
    for line in unexpected:
        print(f"unexpected exception: {line}")
    print(f"total {time.perf_counter() - started:.0f} s; load now {load_average()}")


if __name__ == "__main__":
    main()
