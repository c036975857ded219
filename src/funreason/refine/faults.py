"""Known faults injected into clean data, to measure what the FCDR judges catch (demo and tests).

`inject_faults` corrupts a share of the samples that make calls, one fault each, and records the
fault in `meta["fault"]` (what was changed in `meta["fault_detail"]`). The faults and the stage
meant to catch each (`CATCHES`):

- `wrong_function`: a call names another offered tool, or a name no tool has;
- `wrong_parameter`: an argument is renamed to a name the tool does not declare;
- `wrong_value`: an argument value is replaced by one the query does not contain (another allowed
  value for an enum);
- `missing_parameter`: a required argument is removed;
- `bad_format`: the raw answer text (`meta["raw_answer"]`) is the same calls in JSON, Hermes, a
  markdown fence, or python without its closing bracket;
- `reasoning_elsewhere`: the reasoning names another function, or another value, than the answer;
- `unsolvable`: the tools are swapped for unrelated ones seen earlier in the stream; the answer stays.

For the four answer faults the reasoning is rewritten with the rule template for the corrupted
answer, as a teacher that reasoned its way to the wrong call would write it: the fault is then in
the answer alone, and stage 3 cannot give it away.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from funreason.calls import render_calls
from funreason.reasoning_template import template_reasoning
from funreason.records import Sample, ToolCall
from funreason.refine.grounding import fold, text_facts
from funreason.refine.rules import RAW_ANSWER

FAULTS: tuple[str, ...] = ("wrong_function", "wrong_parameter", "wrong_value", "missing_parameter",
                           "bad_format", "reasoning_elsewhere", "unsolvable")
CATCHES: dict[str, tuple[str, ...]] = {
    "wrong_function": ("query_tool", "function_params"),
    "wrong_parameter": ("function_params",),
    "wrong_value": ("function_params",),
    "missing_parameter": ("function_params",),
    "bad_format": ("format",),
    "reasoning_elsewhere": ("reasoning",),
    "unsolvable": ("query_tool",),
}
_DECOY_WORDS = ["Xanadu", "Quillmoor", "Zembla", "Vortigern Ltd", "Ulthar", "Brigadoon Street"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{1,2}:\d{2}")
Fault = Callable[[Sample, random.Random, "deque[dict[str, Any]]"], Sample | None]


def inject_faults(samples: Iterable[Sample], share: float = 0.2, seed: int = 0,
                  kinds: Iterable[str] = FAULTS) -> Iterator[Sample]:
    """The samples, with a share `share` of those that make calls corrupted by one fault each.

    The fault kind is drawn uniformly from `kinds` among those that apply to the sample (a call
    with no required parameter cannot lose one). Deterministic for a seed. Statement answers pass
    through unchanged: they have no call to corrupt.
    """
    kinds = tuple(kinds)
    unknown = set(kinds) - set(FAULTS)
    if unknown or not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1] and kinds among {', '.join(FAULTS)}; got {share}, {sorted(unknown)}")
    rng = random.Random(seed)
    seen: deque[dict[str, Any]] = deque(maxlen=64)  # tools of earlier samples, for `unsolvable`
    for sample in samples:
        tools = sample.tools
        if sample.calls and rng.random() < share:
            options = list(kinds)
            rng.shuffle(options)
            for kind in options:
                faulty = _FAULTS[kind](sample.model_copy(deep=True), rng, seen)
                if faulty is not None:
                    faulty.meta["fault"] = kind
                    sample = faulty
                    break
        seen.extend(tools)
        yield sample


def _with_calls(sample: Sample, calls: list[ToolCall], detail: str) -> Sample:
    sample.answer = calls
    sample.reasoning = template_reasoning(sample.query, sample.tools, calls)
    sample.meta["fault_detail"] = detail
    return sample


def _pick(sample: Sample, rng: random.Random, usable: Callable[[ToolCall], list[Any]]) -> tuple[int, Any] | None:
    """A random (call index, choice) among the calls' usable choices, or None if there is none."""
    pairs = [(i, choice) for i, call in enumerate(sample.calls) for choice in usable(call)]
    return rng.choice(pairs) if pairs else None


def _schema(sample: Sample, call: ToolCall) -> Mapping[str, Any]:
    tool = next((t for t in sample.tools if t["name"] == call.name), {})
    return tool.get("parameters") or {}


def wrong_function(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    index = rng.randrange(len(sample.calls))
    call = sample.calls[index]
    others = [t["name"] for t in sample.tools if t["name"] not in {c.name for c in sample.calls}]
    if others and rng.random() < 0.5:
        name = rng.choice(others)
    else:
        parts = call.name.split("_")
        name = "_".join(parts[1:]) if len(parts) > 2 else call.name + "_api"
    calls = list(sample.calls)
    calls[index] = ToolCall(name=name, arguments=call.arguments)
    return _with_calls(sample, calls, f"call {index + 1}: {call.name} -> {name}")


def wrong_parameter(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    picked = _pick(sample, rng, lambda call: list(call.arguments))
    if picked is None:
        return None
    index, key = picked
    call = sample.calls[index]
    declared = _schema(sample, call).get("properties") or {}
    new = next(k for k in (f"{key}_value", f"{key}_name", f"the_{key}") if k not in declared and k not in call.arguments)
    arguments = {(new if k == key else k): v for k, v in call.arguments.items()}
    calls = list(sample.calls)
    calls[index] = ToolCall(name=call.name, arguments=arguments)
    return _with_calls(sample, calls, f"call {index + 1}: argument {key} -> {new}")


def wrong_value(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    facts = text_facts(sample.query)

    def usable(call: ToolCall) -> list[tuple[str, Any]]:
        properties = _schema(sample, call).get("properties") or {}
        found = []
        for key, value in call.arguments.items():
            decoy = _decoy(value, properties.get(key) or {}, facts)
            if decoy is not None:
                found.append((key, decoy))
        return found

    picked = _pick(sample, rng, usable)
    if picked is None:
        return None
    index, (key, decoy) = picked
    call = sample.calls[index]
    calls = list(sample.calls)
    calls[index] = ToolCall(name=call.name, arguments={**call.arguments, key: decoy})
    return _with_calls(sample, calls, f"call {index + 1}: {key} = {call.arguments[key]!r} -> {decoy!r}")


def _decoy(value: Any, schema: Mapping[str, Any], facts: Any) -> Any:
    """A value of the same type that the query does not contain (None when there is none)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        for step in (7, 13, 29):
            new = value * step + 3 if isinstance(value, int) else round(value * step + 3.3, 2)
            if float(new) not in facts.numbers:
                return new
        return None
    if not isinstance(value, str):
        return None
    allowed = schema.get("enum")
    if isinstance(allowed, list):
        spare = [m for m in allowed if m != value and isinstance(m, str) and fold(m) not in facts.folded]
        return spare[0] if spare else None
    if _DATE.fullmatch(value):
        return "1999-12-31"
    if _TIME.fullmatch(value):
        return "03:33"
    if "@" in value:
        return "nobody@nowhere.invalid"
    return next((w for w in _DECOY_WORDS if fold(w) not in facts.folded), None)


def missing_parameter(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    def usable(call: ToolCall) -> list[str]:
        required = _schema(sample, call).get("required") or []
        return [key for key in call.arguments if key in required]

    picked = _pick(sample, rng, usable)
    if picked is None:
        return None
    index, key = picked
    call = sample.calls[index]
    calls = list(sample.calls)
    calls[index] = ToolCall(name=call.name, arguments={k: v for k, v in call.arguments.items() if k != key})
    return _with_calls(sample, calls, f"call {index + 1}: required {key} removed")


def bad_format(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    try:
        canonical = render_calls(sample.calls)
    except ValueError:
        return None
    styles = {
        "json": lambda: render_calls(sample.calls, "json"),
        "hermes": lambda: render_calls(sample.calls, "hermes"),
        "markdown fence": lambda: f"```python\n{canonical}\n```",
        "no closing bracket": lambda: canonical[:-1],
    }
    style = rng.choice(sorted(styles))
    sample.meta[RAW_ANSWER] = styles[style]()
    sample.meta["fault_detail"] = f"raw answer written as {style}"
    return sample


def reasoning_elsewhere(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    before = sample.reasoning
    call = rng.choice(sample.calls)
    strings = [(k, v) for k, v in call.arguments.items() if isinstance(v, str) and len(v) > 2 and v in sample.reasoning]
    if strings and rng.random() < 0.5:
        key, value = rng.choice(strings)
        decoy = _decoy(value, {}, text_facts(sample.query + " " + sample.reasoning)) or "Xanadu"
        sample.reasoning = sample.reasoning.replace(value, decoy)
        detail = f"reasoning says {key} = {decoy!r}, the answer {value!r}"
    else:
        others = [t["name"] for t in sample.tools if t["name"] != call.name]
        other = rng.choice(others) if others else call.name + "_api"
        pattern = rf"(?<![\w.]){re.escape(call.name)}(?!\w)"
        sample.reasoning = re.sub(pattern, other, sample.reasoning)
        detail = f"reasoning names {other}, the answer calls {call.name}"
    if sample.reasoning == before:
        return None
    sample.meta["fault_detail"] = detail
    return sample


def unsolvable(sample: Sample, rng: random.Random, seen: deque[dict[str, Any]]) -> Sample | None:
    called = {c.name for c in sample.calls}
    offered = {t["name"] for t in sample.tools}
    pool = list({t["name"]: t for t in seen if t["name"] not in called | offered}.values())
    if not pool:
        return None
    sample.tools = [dict(t) for t in rng.sample(pool, min(len(pool), rng.randint(1, 3)))]
    sample.meta["fault_detail"] = "tools swapped for " + ", ".join(t["name"] for t in sample.tools)
    return sample


_FAULTS: dict[str, Fault] = {
    "wrong_function": wrong_function, "wrong_parameter": wrong_parameter, "wrong_value": wrong_value,
    "missing_parameter": missing_parameter, "bad_format": bad_format,
    "reasoning_elsewhere": reasoning_elsewhere, "unsolvable": unsolvable,
}


def fault_catches(kept: Iterable[Sample], removed: Iterable[Sample]) -> dict[str, dict[str, int]]:
    """How many injected faults of each kind a refinement caught: removed (hard pool, dropped or
    error) or repaired (kept with a regenerated answer, the original in `history`).

    Returns `{kind: {"samples": n, "removed": r, "repaired": p}}` for each fault kind and for
    `"clean"` samples (whose catches are false positives), from what FCDR kept and removed.
    """
    table = {kind: {"samples": 0, "removed": 0, "repaired": 0} for kind in (*FAULTS, "clean")}
    for sample, was_removed in [(s, False) for s in kept] + [(s, True) for s in removed]:
        row = table[sample.meta.get("fault", "clean")]
        row["samples"] += 1
        row["removed"] += was_removed
        row["repaired"] += not was_removed and any(entry.get("field") == "answer" for entry in sample.history)
    return table
