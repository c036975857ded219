"""Generate `Sample`s offline: tools from the catalogue, a query, the calls, template reasoning.

One `random.Random(seed)` drives everything, consumed sample by sample, so a seed fixes the output
and `generate(k, seed)` is a prefix of `generate(n, seed)` for k <= n. Five shapes, as BFCL names
them: `simple` (one tool, one call), `multiple` (one call, distractor tools on offer), `parallel`
(several calls of the one offered tool), `parallel_multiple` (calls of several tools) and
`irrelevance` (no offered tool fits; the answer is a statement).
"""

from __future__ import annotations

import datetime as dt
import pickle
import random
import re
from collections.abc import Iterator, Mapping
from typing import Any

from funreason.reasoning_template import template_reasoning
from funreason.records import REASONING_BY, SHAPES, TEMPLATE, Sample, ToolCall
from funreason.synth.catalogue import CONTEXTS, DOMAINS, FAMILIES
from funreason.synth.pools import draw
from funreason.synth.spec import Family, Param

DEFAULT_MIX: dict[str, float] = {
    "simple": 0.30, "multiple": 0.25, "parallel": 0.15, "parallel_multiple": 0.15, "irrelevance": 0.15,
}
OPTIONAL_RATE = 0.5  # how often a call sets an optional parameter
DOTTED_RATE = 0.5  # how often a sample's tools are named `domain.method` rather than `domain_method`
MERGED_RATE = 0.5  # how often parallel calls are asked in one sentence ("the weather in Oslo and Rome")
SAME_DOMAIN_RATE = 0.6  # how often the tools of an irrelevance sample come from the request's own domain

# Each sample gets its own copy of its tools (unpickling is the fastest deep copy of plain data).
_TOOL_COPIES = {f.name: pickle.dumps(f.tool) for f in FAMILIES}
_REPEATABLE = [f for f in FAMILIES if f.repeatable]
_BY_DOMAIN = {d: [f for f in FAMILIES if f.domain == d] for d in DOMAINS}
_SLOT = re.compile(r"\{([\w.]+)\}")


def generate(n: int, seed: int = 0, mix: Mapping[str, float] | None = None) -> Iterator[Sample]:
    """`n` samples with ids `synth-{seed}-{i}`, their shapes drawn with weights `mix`, as a stream.

    `mix` maps shape names (see `SHAPES`) to weights (any scale; missing shapes get 0); the
    default is `DEFAULT_MIX`. Deterministic for a seed; the first k samples of `generate(n)` are
    `generate(k)`. Raises `ValueError` for a bad `mix` at once, before any sample is drawn.
    """
    shapes, weights = _check_mix(DEFAULT_MIX if mix is None else mix)
    return _stream(n, seed, shapes, weights)


def _stream(n: int, seed: int, shapes: list[str], weights: list[float]) -> Iterator[Sample]:
    rng = random.Random(seed)
    for i in range(n):
        shape = rng.choices(shapes, weights)[0]
        query, offered, answer, meta = _BUILDERS[shape](rng)
        names = {f.name: f.name for f in offered}
        if rng.random() < DOTTED_RATE:  # `weather.get_air_quality`: a namespace, as many real APIs have
            names = {name: dotted_name(name) for name in names}
            answer = _renamed(answer, names)
        sample = Sample(
            id=f"synth-{seed}-{i}",
            source="synth",
            messages=[{"role": "user", "content": query}],
            answer=answer,
            meta={"shape": shape, REASONING_BY: TEMPLATE, **meta},
        )
        # Set after validation: catalogue tools are already in normal form (a test checks it), and
        # normalising every tool of every sample would double the generation time.
        sample.tools = [{**pickle.loads(_TOOL_COPIES[f.name]), "name": names[f.name]} for f in offered]
        sample.reasoning = template_reasoning(query, sample.tools, answer, need=meta.get("need"))
        yield sample


def dotted_name(name: str) -> str:
    """`weather_get_air_quality` -> `weather.get_air_quality`: the family's domain as a namespace."""
    return name.replace("_", ".", 1)


def _renamed(answer: list[ToolCall] | str, names: Mapping[str, str]) -> list[ToolCall] | str:
    if isinstance(answer, str):  # a statement names the offered tools in backticks
        for old, new in names.items():
            answer = answer.replace(f"`{old}`", f"`{new}`")
        return answer
    return [ToolCall(name=names.get(call.name, call.name), arguments=call.arguments) for call in answer]


def _check_mix(mix: Mapping[str, float]) -> tuple[list[str], list[float]]:
    unknown = set(mix) - set(SHAPES)
    if unknown:
        raise ValueError(f"unknown shape(s) in mix: {', '.join(sorted(unknown))}; use {', '.join(SHAPES)}")
    if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise ValueError("mix weights must be >= 0 with a positive sum, e.g. {'simple': 1}")
    shapes = [s for s in SHAPES if mix.get(s, 0) > 0]
    return shapes, [mix[s] for s in shapes]


# --- the shapes ----------------------------------------------------------------------------------
# Each builder returns (query, offered families, answer, meta).


def _simple(rng: random.Random) -> tuple[str, list[Family], Any, dict[str, Any]]:
    fam = rng.choice(FAMILIES)
    args = _arguments(fam, rng)
    return _single_request(fam, args, rng), [fam], [ToolCall(name=fam.name, arguments=args)], _meta([fam])


def _multiple(rng: random.Random) -> tuple[str, list[Family], Any, dict[str, Any]]:
    fam = rng.choice(FAMILIES)
    args = _arguments(fam, rng)
    offered = [fam, *_distractors([fam], rng.randint(1, 3), rng)]  # 2-4 tools on offer, as in BFCL
    rng.shuffle(offered)
    return _single_request(fam, args, rng), offered, [ToolCall(name=fam.name, arguments=args)], _meta([fam])


def _parallel(rng: random.Random) -> tuple[str, list[Family], Any, dict[str, Any]]:
    fam = rng.choice(_REPEATABLE)
    count = rng.choice((2, 2, 2, 3, 3, 4))
    merged = _merged_calls(fam, count, rng) if rng.random() < MERGED_RATE else None
    if merged is not None:  # one request naming every value: "the weather in Oslo, Rome and Paris"
        calls, query = merged
        return query, [fam], [ToolCall(name=fam.name, arguments=args) for args in calls], _meta([fam])
    planned = [(fam, args) for args in _distinct_calls(fam, count, rng)]
    answer = [ToolCall(name=fam.name, arguments=args) for _, args in planned]
    return _multi_request(planned, rng), [fam], answer, _meta([fam])


def _merged_calls(fam: Family, count: int, rng: random.Random) -> tuple[list[dict[str, Any]], str] | None:
    """`count` calls that differ only in the first required parameter, asked in one sentence that lists
    its values; None when that parameter is no plain string or number, or the draws repeat."""
    key = next(p for p in fam.params if p.required)
    if key.type not in ("string", "integer", "number") or key.after or any(p.after == key.name for p in fam.params):
        return None
    base = _arguments(fam, rng)
    # Values the other parameters hold stay out of the key's draws (no flight from Oslo to Oslo).
    used = {(p.pool or "|".join(map(str, p.enum)), base[p.name]) for p in fam.params
            if p.name in base and isinstance(base[p.name], str | int | float)}
    values = list(dict.fromkeys(base[key.name] if i == 0 else _value(key, base, rng, used) for i in range(count)))
    if len(values) < count:
        return None
    calls = [{**base, key.name: value} for value in values]
    slots = {**_slots(base), key.name: _join_words([_text(value) for value in values])}
    task = _fill(rng.choice(fam.tasks), slots)
    extras = [_fill(rng.choice(p.say_false if p.type == "boolean" and not base[p.name] else p.say), slots)
              for p in fam.params if not p.required and p.name in base]  # fmt: skip
    rng.shuffle(extras)
    text = " ".join([task, *extras])
    template = rng.choice(_IMPERATIVE)
    return calls, _frame(template.format(task=text, Task=_upper_first(text)), fam.domain, rng)


def _parallel_multiple(rng: random.Random) -> tuple[str, list[Family], Any, dict[str, Any]]:
    fams = rng.sample(FAMILIES, rng.choice((2, 2, 3)))
    planned: list[tuple[Family, dict[str, Any]]] = []
    for fam in fams:
        count = 2 if fam.repeatable and rng.random() < 0.25 else 1  # now and then one tool is needed twice
        planned += [(fam, args) for args in _distinct_calls(fam, count, rng)]
    offered = fams + (_distractors(fams, 1, rng) if rng.random() < 0.5 else [])
    rng.shuffle(offered)
    answer = [ToolCall(name=f.name, arguments=a) for f, a in planned]
    return _multi_request(planned, rng), offered, answer, _meta(fams)


def _irrelevance(rng: random.Random) -> tuple[str, list[Family], Any, dict[str, Any]]:
    """A request for one family, with tools offered only from other families: mostly from the same
    domain (close, but none does what is asked, as in BFCL), otherwise from other domains."""
    needed = rng.choice(FAMILIES)
    siblings = [f for f in _BY_DOMAIN[needed.domain] if f is not needed]
    others = siblings if rng.random() < SAME_DOMAIN_RATE else [f for f in FAMILIES if f.domain != needed.domain]
    offered = rng.sample(others, min(len(others), rng.choice((1, 1, 1, 2))))  # mostly one, as in BFCL
    query = _single_request(needed, _arguments(needed, rng), rng)
    need = _lower_first(needed.description.rstrip("."))
    names = _join_words([f"`{f.name}`" for f in offered])
    statement = rng.choice(_NO_TOOL).format(need=need, names=names)
    return query, offered, statement, {"needs": needed.name, "need": need, "domains": [needed.domain]}


_BUILDERS = {"simple": _simple, "multiple": _multiple, "parallel": _parallel,
             "parallel_multiple": _parallel_multiple, "irrelevance": _irrelevance}

_NO_TOOL = [
    "I can't help with that using the available tools: none of them can {need}. The tools on offer are {names}.",
    "None of the available functions can {need}, so I can't do this here. I only have {names}.",
    "Sorry, this request needs a tool that can {need}, and {names} cannot do that.",
]


def _meta(fams: list[Family]) -> dict[str, Any]:
    return {"families": [f.name for f in fams], "domains": sorted({f.domain for f in fams})}


def _distractors(chosen: list[Family], k: int, rng: random.Random) -> list[Family]:
    """`k` other families; about half from the same domain as the first chosen one (harder to tell apart)."""
    picked: list[Family] = []
    for _ in range(k):
        same = [f for f in _BY_DOMAIN[chosen[0].domain] if f not in chosen and f not in picked]
        pool = same if same and rng.random() < 0.5 else [f for f in FAMILIES if f not in chosen and f not in picked]
        picked.append(rng.choice(pool))
    return picked


# --- arguments -----------------------------------------------------------------------------------


def _arguments(fam: Family, rng: random.Random) -> dict[str, Any]:
    """Arguments for one call: every required parameter, each optional one with `OPTIONAL_RATE`."""
    args: dict[str, Any] = {}
    used: set[tuple[str, Any]] = set()  # values drawn from one pool differ within a call
    for param in fam.params:
        if param.required or rng.random() < OPTIONAL_RATE:
            args[param.name] = _value(param, args, rng, used)
    return args


def _value(param: Param, args: dict[str, Any], rng: random.Random, used: set[tuple[str, Any]]) -> Any:
    if param.type == "boolean":
        return rng.random() < 0.5
    if param.type == "object":
        inner: dict[str, Any] = {}
        for field in param.properties:
            inner[field.name] = _value(field, inner, rng, used)
        return inner
    if param.after and param.after in args:
        return _later(args[param.after], param, rng)
    if param.type == "array":
        k = rng.randint(*param.size)
        if param.enum:
            return rng.sample(param.enum, k)
        return [_fresh(param.pool, lambda: draw(param.pool, rng), used) for _ in range(k)]
    if param.enum:
        key = "|".join(map(str, param.enum))
        return _fresh(key, lambda: rng.choice(param.enum), used)
    return _fresh(param.pool, lambda: draw(param.pool, rng), used)


def _fresh(key: str, make: Any, used: set[tuple[str, Any]]) -> Any:
    for _ in range(20):
        value = make()
        if (key, value) not in used:
            break
    used.add((key, value))
    return value


def _later(base: Any, param: Param, rng: random.Random) -> Any:
    """A value after `base`: a date 1-14 days later, or a number plus a draw from the pool."""
    if isinstance(base, str):
        return (dt.date.fromisoformat(base) + dt.timedelta(days=rng.randint(1, 14))).isoformat()
    return base + draw(param.pool, rng)


def _distinct_calls(fam: Family, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` calls of `fam` that differ in the first required parameter (a different city...)."""
    key = next(p.name for p in fam.params if p.required)
    calls: list[dict[str, Any]] = []
    for _ in range(count * 10):
        args = _arguments(fam, rng)
        if all(args[key] != c[key] for c in calls):
            calls.append(args)
        if len(calls) == count:
            break
    return calls


# --- queries -------------------------------------------------------------------------------------

_IMPERATIVE = ["{Task}.", "Please {task}.", "Could you {task}?", "Can you {task}, please?", "I need you to {task}.",
               "I'd like you to {task}.", "Help me {task}.", "{Task}, please.", "Would you {task} for me?"]
_QUESTION = ["{Task}?", "Quick question: {task}?", "I was wondering, {task}?"]
_SIGN_OFF = ["Thanks!", "Thank you.", "Much appreciated.", "Thanks in advance."]
_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _single_request(fam: Family, args: dict[str, Any], rng: random.Random) -> str:
    # Questions read well only bare: "what's the weather in Oslo" + "in fahrenheit" does not.
    bare = all(p.required for p in fam.params if p.name in args)
    question = bool(fam.questions) and bare and rng.random() < 0.4
    task = _task(fam, args, rng, question)
    template = rng.choice(_QUESTION if question else _IMPERATIVE)
    return _frame(template.format(task=task, Task=_upper_first(task)), fam.domain, rng)


def _multi_request(planned: list[tuple[Family, dict[str, Any]]], rng: random.Random) -> str:
    tasks = [_task(fam, args, rng, question=False) for fam, args in planned]
    style = rng.randrange(4)
    if style == 0:  # "Get A. Also, get B. Then get C."
        links = ["Also, ", "Then ", "After that, ", "And "]
        text = _upper_first(tasks[0]) + ". " + " ".join(_upper_first(rng.choice(links) + t) + "." for t in tasks[1:])
    elif style == 1:  # "Please get A, get B and get C."
        opening, end = rng.choice([("Please ", "."), ("Could you ", "?"), ("I need you to ", ".")])
        text = opening + _join_words(tasks) + end
    elif style == 2:  # "I need three things: get A; get B; get C."
        count = _NUMBER_WORDS.get(len(tasks), "a few")
        text = f"I need {count} things done: " + "; ".join(tasks) + "."
    else:  # one task per line
        text = "Can you do the following?\n" + "\n".join(f"- {_upper_first(t)}" for t in tasks)
    return _frame(text, planned[0][0].domain, rng)


def _frame(text: str, domain: str, rng: random.Random) -> str:
    """Sometimes a scene-setting sentence before the request, sometimes a sign-off after it."""
    roll = rng.random()
    if roll < 0.3:
        text = rng.choice(CONTEXTS[domain]) + " " + text
    elif roll < 0.4:
        text = text + " " + rng.choice(_SIGN_OFF)
    return text


def _task(fam: Family, args: dict[str, Any], rng: random.Random, question: bool) -> str:
    """One request phrase: a task (or question) template, plus a fragment per optional argument set."""
    slots = _slots(args)
    parts = [_fill(rng.choice(fam.questions if question else fam.tasks), slots)]
    extras = []
    for param in fam.params:
        if param.required or param.name not in args:
            continue
        says = param.say_false if param.type == "boolean" and not args[param.name] else param.say
        extras.append(_fill(rng.choice(says), slots))
    rng.shuffle(extras)
    return " ".join(parts + extras)


def _slots(args: dict[str, Any]) -> dict[str, str]:
    slots = {}
    for name, value in args.items():
        if isinstance(value, dict):
            slots.update({f"{name}.{k}": _text(v) for k, v in value.items()})
        else:
            slots[name] = _text(value)
    return slots


def _fill(template: str, slots: dict[str, str]) -> str:
    return _SLOT.sub(lambda m: slots[m.group(1)], template)


def _text(value: Any) -> str:
    """How a query writes a value: numbers as `str` gives them, lists as `a, b and c`."""
    if isinstance(value, list):
        return _join_words([_text(v) for v in value])
    return str(value)


def _join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]

