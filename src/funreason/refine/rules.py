"""The `rules` judge: deterministic FCDR checks that settle what can be settled mechanically.

Per stage (a reason reads `<kind>: <detail>`; reports group failures by `<kind>`):
1. response: the answer is a non-empty call list (pass) or a statement (fail: saved as is).
2. query & tool: fail when no tools are offered or a called function is not among them; pass when
   every argument value is derivable from the query (`grounding`); undecided when some value is
   missing (the query may lack it, or the answer may be wrong: stage 4 tells); undecided for an
   empty query. "The query" for values is the whole conversation before the answer (earlier user
   turns, tool results and the system prompt hold values too); whether a value the query does not
   hold is `missing` or may come from knowledge is read from the last user turn (`ground_all`).
3. reasoning: the last call list written in the reasoning (`[f(a=1)]`) must equal the answer (in
   any order). Without one, the reasoning must name every called function and state its values
   (pass); naming another offered function instead, or giving a parameter another value (a line
   that names it with another literal, the answer's value written nowhere), is a fail; anything
   less is undecided. No reasoning is undecided.
4. function & parameters: the calls must fit the tools' JSON schemas as their authors meant them
   (`schema.validate_calls` on `repairs.readable` tools; strings of Java/JavaScript source, or
   naming a variable the query writes, stand for values of the declared type) and no value may be
   `missing` from the query; `unknown` values (flags, unnamed allowed values, knowledge), or
   arguments that fit another offered tool just as well, make it undecided. A call that
   mechanical fixes make fit (`repairs.repaired`: `'5'` -> 5, 2 -> `'2'`, an allowed value's
   case, a null left out) is corrected.
5. format: with the model's raw answer text in `meta["raw_answer"]`, that text must be the
   canonical rendering in the target syntax (`calls.render_calls`); text that parses to the same
   calls in another form is corrected to the canonical one. Without raw text, the calls must
   render and parse back unchanged. The target is the judge's syntax, or JSON for calls python
   cannot write (`calls.writable_syntax`: an argument named `from`); only values no syntax
   carries (NaN) fail as not writable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from funreason.calls import SYNTAXES, CallParseError, Syntax, parse_calls, render_calls, writable_syntax
from funreason.records import RAW_ANSWER, Sample, ToolCall
from funreason.refine.fit import surely_valid
from funreason.refine.grounding import Grounded, Text, ground_all, leaves, text_facts
from funreason.refine.judges import Judgement, check_stage, parse_options, register
from funreason.refine.repairs import language, readable, repaired, source_values
from funreason.schema import validate_call, validate_calls

VERSION = "5"  # bumped when a verdict can change: cached verdicts of another version are not reused
_CALL_LIST = re.compile(r"\[\s*[A-Za-z_][\w.]*\(")


class RulesOptions(BaseModel):
    """Options of the rules judge."""

    model_config = ConfigDict(extra="forbid")

    syntax: Syntax = Field("python", description="The target call syntax that stage 5 checks.")


@register("rules")
class RulesJudge:
    """Deterministic checks for all five stages; exact and free, `undecided` where rules cannot tell."""

    Options = RulesOptions

    def __init__(self, **options: Any):
        self.options = parse_options(RulesOptions, options, "rules")
        self.name = "rules"
        self.version = f"{VERSION}:{self.options.syntax}"
        self._checks: dict[str, Callable[[Sample], Judgement]] = {
            "response": response, "query_tool": query_tool, "reasoning": reasoning,
            "function_params": function_params, "format": self.format,
        }

    async def judge(self, stage: str, samples: Sequence[Sample]) -> list[Judgement]:
        check_stage(stage)
        return [self.check(stage, sample) for sample in samples]

    def check(self, stage: str, sample: Sample) -> Judgement:
        """One sample at one stage; a rule that breaks on odd data is an `error`, never a verdict."""
        try:
            return self._checks[stage](sample)
        except Exception as exc:  # one bad sample must not stop a 60k-sample run
            return Judgement("error", f"rules judge failed: {type(exc).__name__}: {exc}")

    def format(self, sample: Sample) -> Judgement:
        return check_format(sample, self.options.syntax)


def _tools(sample: Sample) -> dict[str, Mapping[str, Any]]:
    return readable(sample.tools)


def _parameters(tool: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (tool or {}).get("parameters") or {}


def _conversation(sample: Sample) -> Text:
    """What values may come from: every message before the answer (user turns, tool results, system)."""
    parts = []
    for message in sample.messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # OpenAI content parts
            parts += [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return text_facts("\n".join(parts))


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


# --- stage 1: response ------------------------------------------------------------------------


def response(sample: Sample) -> Judgement:
    if isinstance(sample.answer, str):
        return Judgement("fail", "statement: the answer is text, not a function call")
    return Judgement("pass", f"calls: {len(sample.answer)} function call(s)")


# --- stage 2: query & tool --------------------------------------------------------------------


def query_tool(sample: Sample) -> Judgement:
    if not sample.calls:
        return Judgement("undecided", "no calls: a statement answer has no tools to check")
    tools = _tools(sample)
    if not tools:
        return Judgement("fail", "no tools: no tools are offered, so none can solve the query")
    absent = sorted({call.name for call in sample.calls if call.name not in tools})
    if absent:
        offered = ", ".join(sorted(tools))
        return Judgement("fail", f"tool not offered: {', '.join(absent)} not among the offered tools ({offered})")
    if not sample.query.strip():
        return Judgement("undecided", "no query: there is no user request to read values from")
    findings = _grounding(sample.calls, tools, _conversation(sample), sample.query)
    missing = [f"{path}={_short(value)}" for path, value, finding, _ in findings if finding == "missing"]
    if missing:
        return Judgement("undecided", f"values not in query: {', '.join(missing)}; the query may lack them")
    return Judgement("pass", "solvable: the called tools are offered and every value comes from the query")


def _grounding(calls: Sequence[ToolCall], tools: Mapping[str, Mapping[str, Any]], text: Text,
               request: str | None = None) -> list[Grounded]:
    """`(path, value, finding, why)` for every leaf argument value of every call; with `request`,
    a value `text` does not hold is told missing or unknown from the request (`ground_all`)."""
    items = []
    for index, call in enumerate(calls):
        properties = _parameters(tools.get(call.name)).get("properties") or {}
        for name, value in call.arguments.items():
            schema = properties.get(name)
            root = f"{call.name}.{name}" if len(calls) == 1 else f"{call.name}#{index + 1}.{name}"
            items += leaves(value, schema if isinstance(schema, Mapping) else {}, root)
    return ground_all(items, text, request, list(tools.values()))


# --- stage 3: reasoning -----------------------------------------------------------------------


def reasoning(sample: Sample) -> Judgement:
    text = sample.reasoning
    if not text.strip():
        return Judgement("undecided", "no reasoning: nothing to compare with the answer")
    calls = sample.calls
    if not calls:
        return Judgement("undecided", "no calls: a statement answer has no call to lead to")
    concluded = last_call_list(text)
    if concluded is not None:
        if _same_calls(concluded, calls):
            return Judgement("pass", "concludes: the reasoning ends in exactly these calls")
        return Judgement("fail", f"leads elsewhere: the reasoning concludes {_show(concluded)}, "
                                 f"the answer is {_show(calls)}")
    unnamed = [name for name in dict.fromkeys(c.name for c in calls) if not _mentions(text, name)]
    if unnamed:
        others = [name for name in _tools(sample) if name not in unnamed and _mentions(text, name)
                  and all(c.name != name for c in calls)]
        others = others or _named_functions(text, sample)
        if others:
            return Judgement("fail", f"leads elsewhere: the reasoning names {', '.join(others)}, "
                                     f"not the called {', '.join(unnamed)}")
        return Judgement("undecided", f"unnamed function: the reasoning does not name {', '.join(unnamed)}")
    facts = text_facts(text)
    findings = {path: (value, finding, why) for path, value, finding, why in _grounding(calls, _tools(sample), facts)}
    for index, call in enumerate(calls):
        for key, value in call.arguments.items():
            root = f"{call.name}.{key}" if len(calls) == 1 else f"{call.name}#{index + 1}.{key}"
            _, finding, why = findings.get(root, (value, "found", ""))
            # A value the reasoning states is fine whatever else the line says; one it does not state
            # (or that stands only as the tool's default) must not be given another value.
            other = _other_value(text, key, value) if finding != "found" or why == "the default" else None
            if other is not None:
                return Judgement("fail", f"leads elsewhere: the reasoning gives {key} = {other}, "
                                         f"the answer {_short(value)}")
    unstated = ", ".join(f"{path}={_short(value)}" for path, (value, finding, _) in findings.items()
                         if finding == "missing")
    if unstated:
        return Judgement("undecided", f"values not stated: the reasoning does not state {unstated}")
    return Judgement("pass", "names calls: the reasoning names every called function and its values")


# `name` said to fit, or written as a call in a call list: a function the reasoning puts forward.
_PUT_FORWARD = re.compile(r"`([A-Za-z_][\w.]*)`\s+fits\b|\[\s*([A-Za-z_][\w.]*)\(")


def _named_functions(text: str, sample: Sample) -> list[str]:
    """Functions the reasoning puts forward that no call uses and no tool offers (`` `name` fits``,
    `[name(...`), other than the calls' and the tools' own names or their last dotted parts
    (`get_forecast` for `weather.get_forecast`)."""
    known = {c.name for c in sample.calls} | set(_tools(sample))
    known |= {name.rsplit(".", 1)[-1] for name in known}
    names = [a or b for a, b in _PUT_FORWARD.findall(text)]
    return [name for name in dict.fromkeys(names) if name not in known]


# A literal given to a parameter right after its name: `key` = "x", key: 5, 'key' = 2.5.
_GIVEN = r"[`'\"]?\s*(?:=|:)\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?(?![\w.,]))"


def _other_value(text: str, key: str, value: Any) -> str | None:
    """The literal (a quoted string or a number) the reasoning gives parameter `key` right after its
    name (`key = X`, `key: X`), when it is not `value` (numbers compared as numbers, strings without
    regard to case): the reasoning settled on another value for the parameter."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    for given in re.finditer(rf"(?<![\w.]){re.escape(key)}{_GIVEN}", text):
        literal = given.group(1)
        if literal[0] in "\"'":
            same = isinstance(value, str) and literal[1:-1].casefold() == value.casefold()
        else:
            same = not isinstance(value, str) and float(literal) == float(value)
        if not same:
            return literal
    return None


def last_call_list(text: str) -> list[ToolCall] | None:
    """The last python-syntax call list written in `text` (one line), or None if there is none."""
    for match in reversed(list(_CALL_LIST.finditer(text))):
        line_end = text.find("\n", match.start())
        line = text[match.start() : None if line_end == -1 else line_end]
        end = line.rfind("]")
        while end != -1:
            try:
                return list(_parse(line[: end + 1], "python"))
            except CallParseError:
                end = line.rfind("]", 0, end)
    return None


@lru_cache(maxsize=4096)
def _parse(text: str, syntax: Syntax) -> tuple[ToolCall, ...]:
    """`parse_calls`, remembered: stage 3 reads the canonical call text that stage 5 reads again."""
    return tuple(parse_calls(text, syntax))


def _same_calls(left: Sequence[ToolCall], right: Sequence[ToolCall]) -> bool:
    """Equal as multisets of calls: parallel calls may come in any order."""
    def key(call: ToolCall) -> str:
        return repr((call.name, sorted(call.arguments.items(), key=lambda item: item[0])))

    return len(left) == len(right) and Counter(map(key, left)) == Counter(map(key, right))


def _mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as a whole identifier (not inside a longer one)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


def _show(calls: Sequence[ToolCall]) -> str:
    """Calls for a reason: python syntax (JSON where names do not allow it), at most 160 characters."""
    text = render_calls(calls, writable_syntax(calls))
    return text if len(text) <= 160 else text[:157] + "..."


# --- stage 4: function & parameters -----------------------------------------------------------


def function_params(sample: Sample) -> Judgement:
    calls = sample.calls
    if not calls:
        return Judgement("undecided", "no calls: a statement answer has no parameters to check")
    tools = _tools(sample)
    try:
        pairs = [] if surely_valid(calls, tools) else [(c, e) for c in calls for e in validate_call(c, tools)]
    except ValueError as exc:  # the tool's own schema is broken: nothing can fit it
        return Judgement("fail", f"invalid tool schema: {exc}")
    errors, excused = source_values(pairs, language(sample), sample.query)
    if errors:
        reason = "; ".join(f"{e.kind.replace('_', ' ')}: {e.message}" for e in errors[:3])
        if len(errors) > 3:
            reason += f" (and {len(errors) - 3} more)"
        fixed = repaired(calls, tools)
        return Judgement("fail", reason + ("; a mechanical fix corrects it" if fixed else ""), fixed)
    findings = _grounding(calls, tools, _conversation(sample), sample.query)
    missing = [f"{path}={_short(value)} ({why})" for path, value, finding, why in findings if finding == "missing"]
    if missing:
        return Judgement("fail", f"value not in query: {'; '.join(missing)}")
    doubts = [f"function ambiguous: the arguments of {call.name} also fit {', '.join(rivals)}"
              for call in calls if (rivals := _rivals(call, tools))]
    unknown = [f"{path}={_short(value)} ({why})" for path, value, finding, why in findings if finding == "unknown"]
    if unknown:
        doubts.append(f"values need reading: {'; '.join(unknown)}")
    if doubts:
        return Judgement("undecided", "; ".join(doubts))
    source = f" (source text taken as its declared type: {', '.join(excused)})" if excused else ""
    return Judgement("pass", f"fits: the calls fit their schemas and every value comes from the query{source}")


def _rivals(call: ToolCall, tools: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Other offered tools the call's arguments fit just as well: rules cannot tell which is meant."""
    keys = set(call.arguments)
    rivals = []
    for name, tool in tools.items():
        parameters = _parameters(tool)
        if name == call.name or not set(parameters.get("required") or []) <= keys:
            continue
        if keys <= set(parameters.get("properties") or {}):
            other = [ToolCall(name=name, arguments=call.arguments)]
            if surely_valid(other, tools) or not validate_calls(other, tools):
                rivals.append(name)
    return rivals


# --- stage 5: format --------------------------------------------------------------------------


def check_format(sample: Sample, syntax: Syntax = "python") -> Judgement:
    """Stage 5 in `syntax`, or in JSON for calls that python cannot write (see the module docstring).

    Reasoning holding a think tag fails whatever the answer: the turn would not render as one
    `<think>` block (seen in a model's own answers during self-refinement).
    """
    tag = next((tag for tag in ("<think>", "</think>") if tag in sample.reasoning), None)
    if tag is not None:
        return Judgement("fail", f"think tag in reasoning: the reasoning holds {tag}, so the turn has no single think block")
    calls = sample.calls
    if not calls:
        return Judgement("undecided", "no calls: a statement answer has no call syntax")
    target = writable_syntax(calls, syntax)
    why = "" if target == syntax else f" ({syntax} cannot write these names)"
    try:
        canonical = render_calls(calls, target)
    except ValueError as exc:
        return Judgement("fail", f"not writable: {exc}")
    raw = sample.meta.get(RAW_ANSWER)
    if not isinstance(raw, str):
        if list(_parse(canonical, target)) != list(calls):
            return Judgement("fail", f"no fixed point: {target} syntax does not read back as these calls")
        return Judgement("pass", f"canonical: the calls render and parse back in {target} syntax{why}")
    if raw.strip() == canonical:
        return Judgement("pass", f"canonical: the answer text is exact {target} syntax{why}")
    try:
        parsed = parse_calls(raw, "auto")
    except CallParseError as exc:
        return Judgement("fail", f"unparseable: the answer text is no call list ({exc})")
    if parsed != list(calls):
        return Judgement("fail", f"text differs: the answer text reads {_show(parsed)}, not {_show(calls)}")
    found = _written_in(raw, calls)
    how = f"{found} syntax, not {target}{why}" if found != target else f"{found} syntax, not written canonically"
    return Judgement("fail", f"not canonical: the text is {how} (expected {canonical[:120]})", list(calls))


def _written_in(raw: str, calls: Sequence[ToolCall]) -> str:
    """The syntax `raw` reads as these calls in ("python" also for a missing outer bracket)."""
    for syntax in SYNTAXES:
        try:
            if parse_calls(raw, syntax) == list(calls):
                return syntax
        except CallParseError:
            continue
    return "another"
