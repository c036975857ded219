"""Our BFCL checker against bfcl-eval's decoder + checker: answers checked per second, and agreement.

Claim: `funreason.evaluate.checker.check_entry` is not slower than bfcl-eval's own pipeline (its
prompting decoder `default_decode_ast_prompting`, then `ast_checker` or the relevance rule), and
gives the same verdict (valid, error_type) on every answer.

Answers: for every single-turn entry, the possible answer rendered as calls (its first accepted
value per parameter), a corrupted copy (first parameter's value changed) and, for python entries,
the answer with its reasoning left in (`<think>...</think>` first: BFCL fails to decode it), with
positional arguments, with bare names for identifier strings and with literal arithmetic for numbers,
strings and lists (BFCL evaluates it; we compute it); for the relevance categories, a call to the
first function, the same with positional arguments or reasoning left in, and a refusal in prose. Both pipelines check the same
answers in the same process, ours first, timed over full passes in alternating rounds (CPU time
of this process, so other load on a shared machine counts less), the best pass of each kept.

Needs bfcl-eval (`pip install --no-deps bfcl-eval`, see the Makefile) and tree-sitter-java.
Run: `python benchmarks/checker_speed.py [--categories all]`.
"""

from __future__ import annotations

import argparse
import ast
import json
import keyword
import time
import types
from typing import Any

from _bfcl_stubs import stub_model_config

from funreason.calls import render_calls
from funreason.evaluate import bfcl as data
from funreason.evaluate.checker import check_entry
from funreason.records import ToolCall

# --- bfcl-eval as the reference, imported as tests/conftest.py does -------------------------------


def import_bfcl() -> types.SimpleNamespace:
    stub_model_config()

    from bfcl_eval.constants.enums import Language, ReturnFormat
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    from bfcl_eval.model_handler.utils import default_decode_ast_prompting
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

    return types.SimpleNamespace(
        Language=Language,
        ReturnFormat=ReturnFormat,
        ast_checker=ast_checker,
        decode=default_decode_ast_prompting,
        is_empty_output=is_empty_output,
        is_function_calling_format_output=is_function_calling_format_output,
    )


def reference(bfcl: types.SimpleNamespace, entry: data.BfclEntry, output: str) -> tuple[bool, str]:
    """bfcl-eval's verdict on one result text, as given: its eval runner's steps."""
    language = "python" if entry.is_relevance else entry.language
    try:
        decoded = bfcl.decode(output, getattr(bfcl.ReturnFormat, language.upper()), False)
        has_call = not bfcl.is_empty_output(decoded)
    except Exception:
        if not entry.is_relevance:
            return False, "ast_decoder:decoder_failed"
        has_call = False
    if entry.is_relevance:
        if "irrelevance" in entry.category:
            return (not has_call), ("" if not has_call else "irrelevance_error:decoder_success")
        return has_call, ("" if has_call else "relevance_error:decoder_failed")
    if not bfcl.is_function_calling_format_output(decoded):
        return False, "ast_decoder:decoder_wrong_output_format"
    result = bfcl.ast_checker(
        entry.source_functions,
        decoded,
        entry.possible_answer,
        getattr(bfcl.Language, language.upper()),
        entry.category,
        "model",
    )
    return result["valid"], ("" if result["valid"] else result["error_type"])


def ours(entry: data.BfclEntry, output: str) -> tuple[bool, str]:
    result = check_entry(entry, output)
    return result.valid, ("" if result.valid else result.error_type)


# --- answers (a minimal copy of tests/evaluate/_answers.py) ---------------------------------------


def answer_calls(possible_answer: list[dict[str, Any]]) -> list[tuple[str, dict]]:
    """The ground truth as (name, arguments): the first accepted value, optional ones left out."""

    def first(options: list[Any]) -> tuple[bool, Any]:
        values = [option for option in options if option != ""]
        return (False, None) if not values or "" in options else (True, values[0])

    def nested(value: Any) -> Any:
        if isinstance(value, dict):
            picked = {k: first(v) if isinstance(v, list) else (True, v) for k, v in value.items()}
            return {k: v for k, (keep, v) in picked.items() if keep}
        if isinstance(value, list):
            return [nested(item) for item in value]
        return value

    calls = []
    for call in possible_answer:
        ((name, params),) = call.items()
        picked = {param: first(options) for param, options in params.items()}
        calls.append((name, {param: nested(value) for param, (keep, value) in picked.items() if keep}))
    return calls


def render(calls: list[tuple[str, dict]], language: str, functions: list[dict]) -> str:
    if language == "python":
        return render_calls([ToolCall(name=name, arguments=args) for name, args in calls])
    docs = {f["name"]: f["parameters"]["properties"] for f in functions}
    value = _java if language == "java" else _js
    parts = []
    for name, args in calls:
        props = docs.get(name, {})
        parts.append(f"{name}({', '.join(f'{k}={value(v, props.get(k, {}))}' for k, v in args.items())})")
    return "[" + ", ".join(parts) + "]"


def _is_identifier(text: str) -> bool:
    return text.replace(".", "_").replace("$", "_").removesuffix("()").isidentifier()


def _java(value: Any, prop: dict) -> str:
    kind, items = prop.get("type", "String"), prop.get("items", {}).get("type")
    if isinstance(value, str):
        return value if kind not in ("String", "any", "char") and _is_identifier(value) else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "long" and isinstance(value, int):
        return f"{value}L"
    if kind == "float" and isinstance(value, (int, float)):
        return f"{float(value)}f"
    if kind == "double" and isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, dict):
        puts = "".join(f'put("{k}", {_java(v, {"type": "any"})}); ' for k, v in value.items())
        return "new HashMap<String, Object>() {{ " + puts + "}}"
    if isinstance(value, list):
        elements = ", ".join(
            json.dumps(v) if isinstance(v, str) else _java(v, {"type": items}) for v in value
        )
        if kind == "Array":
            java_type = {"integer": "int", "String": "String", "long": "long", "char": "char"}.get(
                items, "Object"
            )
            return f"new {java_type}[]{{{elements}}}"
        return f"new ArrayList<>(Arrays.asList({elements}))" if value else "new ArrayList<>()"
    return str(value)


def _js(value: Any, prop: dict) -> str:
    kind = prop.get("type", "String")
    if isinstance(value, str):
        return value if kind not in ("String", "any") and _is_identifier(value) else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "Bigint" and isinstance(value, int):
        return f"{value}n"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_js(v, {'type': 'any'})}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_js(v, {"type": "any"}) for v in value) + "]"
    return str(value)


def _wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 7
    if isinstance(value, str):
        return value + " extra"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["x"]
    if isinstance(value, dict):
        return {**value, "unexpected_key": 1}
    return "changed"


def corrupt(calls: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The first call with its first argument's value changed (its name, if it has none)."""
    (name, args), rest = calls[0], calls[1:]
    if not args:
        return [(name + "_v2", args), *rest]
    key = next(iter(args))
    return [(name, {**args, key: _wrong(args[key])}), *rest]


_LITERAL_ARITHMETIC = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.operator, ast.unaryop)


def is_safe_for_bfcl(text: str) -> bool:
    """False when bfcl-eval's python decoder would `eval` more than arithmetic over literals."""
    try:
        tree = ast.parse(text.strip("`\n ").strip().strip("'"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            return False
        if isinstance(node, ast.BinOp) and not all(
            isinstance(n, (*_LITERAL_ARITHMETIC, ast.expr_context)) for n in ast.walk(node)
        ):
            return False
    return True


def _bare(value: Any) -> str:
    if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value):
        return value  # BFCL reads a bare name back as the string
    return repr(value)


def _arithmetic(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"({value - 1} + 1)"
    if isinstance(value, float):
        return f"({value!r} * 1)"
    if isinstance(value, (str, list)) and len(value) > 1:
        return f"({value[:1]!r} + {value[1:]!r})"
    return repr(value)


def python_shapes(calls: list[tuple[str, dict]]) -> list[str]:
    """The calls with reasoning left in, positional arguments, bare names and literal arithmetic."""

    def text(arguments: Any) -> str:
        return "[" + ", ".join(f"{name}({', '.join(arguments(args))})" for name, args in calls) + "]"

    return [
        "<think>\nThe user wants a call.\n</think>\n\n" + text(lambda a: [f"{k}={v!r}" for k, v in a.items()]),
        text(lambda a: [repr(v) for v in a.values()]),
        text(lambda a: [f"{k}={_bare(v)}" for k, v in a.items()]),
        text(lambda a: [f"{k}={_arithmetic(v)}" for k, v in a.items()]),
    ]


def answers(entry: data.BfclEntry) -> list[str]:
    if entry.is_relevance:
        function = (entry.source_functions or [{"name": "f", "parameters": {}}])[0]
        props = function["parameters"].get("properties", {})
        dummy = {"string": "x", "integer": 1, "float": 1.5, "boolean": True, "array": [], "dict": {}}
        args = {p: dummy.get(props[p].get("type"), "x") for p in function["parameters"].get("required", [])}
        call = [(function["name"], args)]
        return [render(call, "python", []), *python_shapes(call)[:2], "None of the functions can help."]
    truth = answer_calls(entry.possible_answer)
    rendered = [render(calls, entry.language, entry.source_functions) for calls in (truth, corrupt(truth))]
    return rendered + (python_shapes(truth) if entry.language == "python" else [])


# --- the measurement ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--categories", default="all", help="BFCL categories or groups (default: all)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over all answers, best kept")
    options = parser.parse_args()

    bfcl = import_bfcl()
    cases, unsafe = [], 0
    entries = data.load_bfcl(options.categories.split(","))
    for entry in entries:
        for output in answers(entry):
            python = entry.is_relevance or entry.language == "python"
            if python and not is_safe_for_bfcl(output):
                unsafe += 1
                continue
            cases.append((entry, output))

    checkers = {"funreason": ours, "bfcl-eval": lambda e, o: reference(bfcl, e, o)}
    timings: dict[str, list[float]] = {name: [] for name in checkers}
    verdicts: dict[str, list[tuple[bool, str]]] = {}
    for _ in range(options.rounds):  # alternating rounds, best kept: the machine may be shared
        for name, check in checkers.items():
            start = time.process_time()
            found = [check(entry, output) for entry, output in cases]
            timings[name].append(time.process_time() - start)
            if verdicts.setdefault(name, found) != found:
                raise RuntimeError(f"{name} changed its verdicts between rounds")
    best = {name: min(times) for name, times in timings.items()}

    disagreements = [
        (entry.id, output[:120], mine, theirs)
        for (entry, output), mine, theirs in zip(
            cases, verdicts["funreason"], verdicts["bfcl-eval"], strict=True
        )
        if mine != theirs
    ]
    passed = sum(valid for valid, _ in verdicts["bfcl-eval"])
    print(f"answers: {len(cases)} for {len(entries)} entries, {passed} of them valid for bfcl-eval")
    if unsafe:
        print(f"  {unsafe} left out: bfcl-eval's python decoder would evaluate them")
    for name, seconds in best.items():
        print(
            f"{name:>10}: {len(cases) / seconds:10.0f} answers/s  (best of {options.rounds}: {seconds:.3f} s)"
        )
    print(f"     ratio: {best['bfcl-eval'] / best['funreason']:.2f}x (funreason speed / bfcl-eval speed)")
    agreed = len(cases) - len(disagreements)
    print(
        f" agreement: {agreed}/{len(cases)} ({100 * agreed / len(cases):.2f} %), disagreements: {len(disagreements)}"
    )
    for disagreement in disagreements[:10]:
        print("  ", disagreement)


if __name__ == "__main__":
    main()
