"""Check a model's answer to a BFCL entry, with the official checker's verdicts and nothing evaluated.

`check_entry(entry, output)` judges the answer text as given, as bfcl-eval's checker judges the
`result` its model handler wrote: reasoning is not removed here (BFCL's handlers remove it before
writing results; `remove_reasoning` does what they do, and `evaluate.run` calls it on the answers it
generates). Then:

- AST categories: the decoded calls are matched against the possible answer by BFCL's rules
  (`ast_rules.match_calls`); an output that does not decode is `ast_decoder:decoder_failed`.
- Relevance categories (BFCL's eval_runner `_evaluate_single_relevance_entry`): the answer counts as
  a call when it decodes as python call syntax into at least one call. irrelevance and
  live_irrelevance pass without a call, live_relevance passes with one.

Decoding follows bfcl-eval's `default_decode_ast_prompting`, which prompting models are scored
with: python answers by `decode_python` (BFCL's rules, its arithmetic computed by a bounded
evaluator instead of `eval`), Java / JavaScript answers by tree-sitter (`decode_java_js`). So a bare
``` fence passes, a ```python fence does not, and a `<think>` block left in the answer fails to
decode, exactly as in BFCL.

Known differences (pinned by tests/evaluate/test_checker.py), all in python arithmetic, where BFCL
runs `eval`: arithmetic over names or calls (`len('ab') + 1`), printf formatting (`'%s' % x`) and
arithmetic over `decode_python`'s limits (`2**10**10`, where BFCL hangs) fail to decode here. See
`decode_python` for the list.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from funreason.evaluate.ast_rules import Calls, CheckResult, match_calls
from funreason.evaluate.bfcl import BfclEntry, category_language
from funreason.evaluate.decode_java_js import decode_java, decode_javascript
from funreason.evaluate.decode_python import PythonDecodeError, decode_python
from funreason.evaluate.fc import FcDecodeError, decode_fc

__all__ = [
    "CheckResult",
    "DecodeError",
    "check_calls",
    "check_entry",
    "check_fc",
    "check_relevance",
    "decode",
    "relevance_verdict",
    "remove_reasoning",
]


class DecodeError(ValueError):
    """The answer is not a call list in the category's syntax; `error_type` is BFCL's name for it."""

    def __init__(self, message: str, error_type: str = "ast_decoder:decoder_failed"):
        super().__init__(message)
        self.error_type = error_type


def remove_reasoning(output: str) -> tuple[str, str]:
    """`(reasoning, answer)` as bfcl-eval's reasoning-model handlers (Qwen's) split a raw output.

    With a `</think>`, the answer is what follows the last one and the reasoning what precedes the
    first (without `<think>`), each with its newlines at the tag removed; without one the answer is
    the whole output and the reasoning "" (reasoning cut off before its end leaves nothing to decode
    but the raw text, which then fails to decode).
    """
    if "</think>" not in output:
        return "", output
    parts = output.split("</think>")
    return parts[0].rstrip("\n").split("<think>")[-1].lstrip("\n"), parts[-1].lstrip("\n")


def decode(output: str, language: str = "python") -> Calls:
    """An answer as BFCL's decoded calls `[{name: {param: value}}]`.

    Java/JavaScript values stay source text, as BFCL keeps them. Raises `DecodeError`.
    """
    try:
        if language == "java":
            decoded: Any = decode_java(output)
        elif language == "javascript":
            decoded = decode_javascript(output)
        else:
            decoded = decode_python(output)
    except PythonDecodeError as exc:
        raise DecodeError(str(exc)) from None
    except Exception as exc:  # BFCL's runner counts any decoder exception as a failed decode
        if language == "python":
            raise
        raise DecodeError(f"{type(exc).__name__}: {exc}") from None
    # BFCL's is_function_calling_format_output: the Java/JS decoders give {} or None for no call.
    if not isinstance(decoded, list):
        raise DecodeError(
            f"no function call found in {output[:80]!r}", "ast_decoder:decoder_wrong_output_format"
        )
    return decoded


def check_calls(entry: BfclEntry, calls: Calls, *, underscore_to_dot: bool = False) -> CheckResult:
    """Judge already decoded calls against an AST entry's possible answer (BFCL's `ast_checker`).

    The function docs used are the data file's own (`entry.source_functions`), as in BFCL's runner.
    """
    if entry.possible_answer is None:
        raise ValueError(f"{entry.id}: {entry.category} has no possible answer; use check_entry")
    return match_calls(
        entry.source_functions,
        calls,
        entry.possible_answer,
        entry.language,
        entry.category,
        underscore_to_dot=underscore_to_dot,
    )


def check_relevance(output: str, category: str) -> CheckResult:
    """BFCL's relevance rule on an answer: is there at least one call?"""
    try:  # relevance answers are always read as python
        decoded, error = decode_python(output), ""
    except PythonDecodeError as exc:
        decoded, error = None, str(exc)
    return relevance_verdict(decoded, error, category)


def relevance_verdict(decoded: Calls | None, error: str, category: str) -> CheckResult:
    """The relevance rule on already decoded calls (None, with `error`, when the answer did not
    decode): irrelevance categories pass without a call, live_relevance passes with one."""
    has_call = bool(decoded)
    if "irrelevance" in category:
        if has_call:
            return CheckResult(
                False,
                "irrelevance_error:decoder_success",
                ["Valid syntax. Successfully decode AST when it should not."],
                decoded,
            )
        return CheckResult(True, decoded=decoded)
    if not has_call:
        return CheckResult(
            False,
            "relevance_error:decoder_failed",
            [f"Invalid syntax. Failed to decode AST when it should have. {error}"],
            decoded,
        )
    return CheckResult(True, decoded=decoded)


def check_entry(entry: BfclEntry, output: str, *, underscore_to_dot: bool = False) -> CheckResult:
    """Judge a model's answer to `entry` as BFCL's checker judges a result file's text.

    The text is judged as given: remove reasoning first (`remove_reasoning`) where a model writes it.
    `underscore_to_dot`: compare dotted function names with "." replaced by "_", as BFCL does for
    API models whose tool names cannot hold dots (off for prompting models).
    """
    if entry.is_relevance:
        return check_relevance(output, entry.category)
    try:
        calls = decode(output, category_language(entry.category))
    except DecodeError as exc:
        return CheckResult(False, exc.error_type, [f"Invalid syntax. Failed to decode AST. {exc}"])
    return replace(check_calls(entry, calls, underscore_to_dot=underscore_to_dot), decoded=calls)


def check_fc(entry: BfclEntry, result: Any) -> CheckResult:
    """Judge an FC-mode result (`[{name: arguments_json}]`, or the text of an answer without a call)
    as BFCL judges its FC models: `fc.decode_fc`, then its rules with `.` in names read as `_`."""
    try:
        calls, error = decode_fc(result), ""
    except FcDecodeError as exc:
        calls, error = None, str(exc)
    if entry.is_relevance:
        return relevance_verdict(calls, error, entry.category)
    if calls is None:
        return CheckResult(False, "ast_decoder:decoder_failed", [f"Invalid syntax. Failed to decode AST. {error}"])
    return replace(check_calls(entry, calls, underscore_to_dot=True), decoded=calls)
