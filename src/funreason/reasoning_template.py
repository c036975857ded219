"""Our offline reasoning: the rule template that walks from a query to its answer.

`template_reasoning` writes, for the query, tools and answer of any sample, what is asked, which
tool fits and why, where each argument value comes from, and the call itself; for a statement
answer, why no offered tool fits. It is deterministic and needs nothing a sample from any source
lacks. It lives below `cot` (the teachers), `synth` (generated data) and `refine` (fault injection)
so that none of them imports another for it; the rules judge reads this template exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from funreason.records import ToolCall


def template_reasoning(
    query: str, tools: Sequence[Mapping[str, Any]], answer: list[ToolCall] | str, *, need: str | None = None
) -> str:
    """The rule-template chain of thought (no `<think>` tags) that leads from `query` to `answer`.

    For calls: how many are needed and why, which tool fits (and that the others do not), and each
    argument with where its value comes from; the calls themselves follow the reasoning in the
    answer, so they are not written twice. `tools` are normalised tools (`Sample.tools`). `need`,
    for a statement answer, is what the request would need ("get the weather forecast for a city"),
    when the caller knows it.
    """
    if isinstance(answer, str) or not answer:
        return "\n".join(_no_call_lines(tools, need))
    return "\n".join(_call_lines(query, {tool["name"]: tool for tool in tools}, answer))


def _call_lines(query: str, tools: Mapping[str, Mapping[str, Any]], calls: list[ToolCall]) -> list[str]:
    names = list(dict.fromkeys(call.name for call in calls))
    lines = []
    if len(calls) == 1:
        lines.append("This needs one function call.")
    elif len(names) == 1:
        lines.append(f"This needs {len(calls)} calls: the same kind of request is made for {len(calls)} "
                     f"different sets of values, so `{names[0]}` is called once for each.")
    else:
        lines.append(f"This needs {len(calls)} calls: the request has separate parts, each handled by "
                     "its own function.")
    for name in names:
        description = (tools.get(name, {}).get("description") or "").strip()
        lines.append(f"`{name}` fits: {description}" if description else f"`{name}` fits this request.")
    unused = [f"`{name}`" for name in tools if name not in names]
    if unused:
        lines.append(f"The other tools ({', '.join(unused)}) do not match what is asked.")
    for index, call in enumerate(calls, start=1):
        parameters = tools.get(call.name, {}).get("parameters") or {}
        properties = parameters.get("properties") or {}
        if len(calls) > 1:
            header = f"Call {index}, `{call.name}`"
            lines.append(header + ":" if call.arguments else header + ": it takes no arguments here.")
        elif not call.arguments:
            lines.append(f"`{call.name}` takes no arguments here.")
        for key, value in call.arguments.items():
            lines.append(f"- `{key}` = {_show(value)}: {_source(value, properties.get(key) or {}, query)}.")
        required = parameters.get("required") or []
        left_out = [f"`{k}`" for k in properties if k not in call.arguments and k not in required]
        if left_out:
            lines.append(f"- {', '.join(left_out)} {'is' if len(left_out) == 1 else 'are'} optional and not "
                         "asked for, so left out.")
    return lines


def _no_call_lines(tools: Sequence[Mapping[str, Any]], need: str | None) -> list[str]:
    lines = [f"Answering it needs a tool that can {need}."] if need else []
    if tools:
        offered = "; ".join(f"`{t['name']}` ({_clause(t.get('description') or 'no description')})" for t in tools)
        lines.append(f"The offered tools are {offered}.")
        lines.append("None of them does what is asked, so no function is called; I answer in text instead.")
    else:
        lines.append("No tools are offered, so no function is called; I answer in text instead.")
    return lines


def _clause(text: str) -> str:
    """A description as a clause inside a sentence: "Get the weather." -> "get the weather"."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _source(value: Any, schema: dict[str, Any], query: str) -> str:
    """Where a value comes from: the query's words, the allowed values, or the default."""
    if isinstance(value, bool):
        return "a yes/no option the request asks to turn on" if value else "a yes/no option the request asks to turn off"
    allowed = schema.get("enum") or (schema.get("items") or {}).get("enum")
    if in_query(value, query):
        source = "stated in the request"
        return source + " and one of the allowed values" if allowed else source
    if allowed:
        return "one of the allowed values (" + ", ".join(map(str, allowed)) + ") that matches the request"
    if "default" in schema and schema["default"] == value:
        return "the tool's default"
    return "inferred from the request"


def in_query(value: Any, query: str) -> bool:
    """Whether every leaf of `value` is written in `query` (strings case-insensitively)."""
    if isinstance(value, dict):
        return all(in_query(v, query) for v in value.values())
    if isinstance(value, list):
        return all(in_query(v, query) for v in value)
    if isinstance(value, str):
        return value.lower() in query.lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        forms = {repr(value)} | ({str(int(value))} if float(value).is_integer() else set())
        return any(_has_number(query, form) for form in forms)
    return False


def _has_number(text: str, form: str) -> bool:
    """Whether `form` ("5", "2.5") occurs in `text` as a whole number, not inside "15" or "5.25"."""
    start = text.find(form)
    while start != -1:
        end = start + len(form)
        before, after = text[start - 1 : start], text[end : end + 2]
        if not (before.isdigit() or before == ".") and not (after[:1].isdigit() or after[:1] == "." and after[1:].isdigit()):
            return True
        start = text.find(form, start + 1)
    return False
