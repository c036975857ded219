"""BFCL single-turn data and the prompt BFCL gives prompting (non function-calling) models.

The questions and possible answers are read as data files, from the installed `bfcl-eval` package
(found with `importlib.util.find_spec`, never imported: importing it pulls in every model SDK, and
its python decoder evaluates model output) or from a folder laid out like its `data/`
(`BFCL_v4_<category>.json` and `possible_answer/BFCL_v4_<category>.json`, one JSON object a line).

The prompt is rebuilt byte for byte as bfcl-eval builds it for prompting models: the default
system prompt format (`ret_fmt=python&tool_call_tag=False&func_doc_fmt=json&prompt_fmt=plaintext&
style=classic`, from `constants/default_prompts.py`) around the function docs as indented JSON,
after the language hints of `utils._func_doc_language_specific_pre_processing`; a system message
already in the question is appended after it (`model_handler/utils.py`,
`system_prompt_pre_processing_chat_model`). A test compares every entry with bfcl-eval's own string.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import importlib.util
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

NON_LIVE = (
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
)
LIVE = (
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)
CATEGORIES = NON_LIVE + LIVE
# Multi-turn conversations (evaluate.multi_turn); "all" stays single-turn, they take far longer.
MULTI_TURN = (
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
)
GROUPS: dict[str, tuple[str, ...]] = {
    "non_live": NON_LIVE,
    "live": LIVE,
    "all": CATEGORIES,
    "multi_turn": MULTI_TURN,
}
# Judged on whether a call was made at all; they have no possible answer.
RELEVANCE_CATEGORIES = ("irrelevance", "live_irrelevance", "live_relevance")

Language = Literal["python", "java", "javascript"]

# bfcl-eval's default system prompt (constants/default_prompts.py, style "classic", plaintext),
# filled in the order formulate_system_prompt fills it. The missing space after "functions." and
# the double space before "You SHOULD NOT" are BFCL's own and must stay.
_PERSONA = "You are an expert in composing functions."
_TASK = (
    "You are given a question and a set of possible functions. Based on the question, you will need "
    "to make one or more function/tool calls to achieve the purpose. If none of the functions can be "
    "used, point it out. If the given question lacks the parameters required by the function, also "
    "point it out."
)
_TOOL_CALL_FORMAT = (
    "You should only return the function calls in your response.\n\nIf you decide to invoke any of "
    "the function(s), you MUST put it in the format of [func_name1(params_name1=params_value1, "
    "params_name2=params_value2...), func_name2(params)].  You SHOULD NOT include any other text in "
    "the response."
)
_MULTITURN = (
    "At each turn, you should try your best to complete the tasks requested by the user within the "
    "current turn. Continue to output functions to call until you have fulfilled the user's request "
    "to the best of your ability. Once you have no more functions to call, the system will consider "
    "the current turn complete and proceed to the next turn or task."
)
_AVAILABLE_TOOLS = "Here is a list of functions in json format that you can invoke.\n{functions}\n"


@dataclass(frozen=True)
class BfclEntry:
    """One BFCL single-turn test entry, ready to prompt and to check.

    `question`: the question's turns, as in the data file.
    `source_functions`: the function docs as in the data file. BFCL's checker reads these (its eval
    runner loads the data without the language hints), so the checker must too.
    `possible_answer`: BFCL's ground truth, `[{name: {param: [accepted values]}}]`; None for the
    relevance categories.

    The prompt is built on first use (`functions`, `messages`), so scoring answers never builds it.
    """

    id: str
    category: str
    question: list[dict[str, Any]]
    source_functions: list[dict[str, Any]]
    possible_answer: list[dict[str, Any]] | None

    @functools.cached_property
    def functions(self) -> list[dict[str, Any]]:
        """The function docs as the prompt shows them: language hints added; for Java and
        JavaScript every parameter type turned into "string"."""
        return language_hints(self.source_functions, self.category)

    @functools.cached_property
    def messages(self) -> list[dict[str, Any]]:
        """The prompt: BFCL's system prompt first, then the question's turns."""
        return build_messages(self.question, self.functions)

    @property
    def language(self) -> Language:
        return category_language(self.category)

    @property
    def is_relevance(self) -> bool:
        return self.category in RELEVANCE_CATEGORIES


def category_language(category: str) -> Language:
    """The language of a category's functions, named as BFCL names them (`is_java`, `is_js`)."""
    if "javascript" in category:
        return "javascript"
    if "java" in category:
        return "java"
    return "python"


def resolve_categories(names: str | Iterable[str]) -> list[str]:
    """Expand group names ("non_live", "live", "all", "multi_turn") and check category names, keeping order."""
    names = [names] if isinstance(names, str) else list(names)
    out: list[str] = []
    for name in names:
        if name in GROUPS:
            members = GROUPS[name]
        elif name in CATEGORIES or name in MULTI_TURN:
            members = (name,)
        else:
            raise ValueError(
                f"unknown BFCL category {name!r}; use one of {', '.join(GROUPS)} or {', '.join(CATEGORIES + MULTI_TURN)}"
            )
        out.extend(member for member in members if member not in out)
    return out


def bfcl_data_dir(data_dir: str | Path | None = None) -> Path:
    """The folder holding BFCL's data files: `data_dir`, or `data/` of the installed bfcl-eval."""
    if data_dir is not None:
        path = Path(data_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"BFCL data folder {path} does not exist")
        return path
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "BFCL data not found: install it with `pip install --no-deps bfcl-eval` "
            "or pass --bfcl-data DIR (a folder laid out like bfcl-eval's data/)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bfcl_version() -> str | None:
    """The installed bfcl-eval version (to record with scores), or None."""
    try:
        return importlib.metadata.version("bfcl-eval")
    except importlib.metadata.PackageNotFoundError:
        return None


def category_file(folder: Path, category: str) -> Path:
    """The newest `BFCL_v*_<category>.json` in `folder`."""
    # BFCL_v4_multiple.json must not match BFCL_v4_live_multiple.json: match the whole name.
    pattern = re.compile(rf"BFCL_v\d+_{re.escape(category)}\.json")
    found = sorted(p for p in folder.glob("BFCL_v*.json") if pattern.fullmatch(p.name))
    if not found:
        raise FileNotFoundError(f"no BFCL_v*_{category}.json in {folder}")
    return found[-1]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def language_hints(functions: list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    """A copy of `functions` with BFCL's language hints (`_func_doc_language_specific_pre_processing`).

    Every description gets "Note that the provided function is in <language> syntax."; for Java and
    JavaScript each parameter is described as "<type> ... in string representation" and its type
    becomes "string" (the model writes values in that language's own syntax).
    """
    functions = copy.deepcopy(functions)
    language = category_language(category)
    hint = {
        "java": " Note that the provided function is in Java 8 SDK syntax.",
        "javascript": " Note that the provided function is in JavaScript syntax.",
        "python": " Note that the provided function is in Python 3 syntax.",
    }[language]
    name = {"java": "Java", "javascript": "JavaScript"}.get(language, "")
    for function in functions:
        function["description"] = function["description"] + hint
        if language == "python":
            continue
        list_type = ("array",) if language == "javascript" else ("ArrayList", "Array")
        for value in function["parameters"]["properties"].values():
            if value["type"] == "any":
                value["description"] += (
                    f" This parameter can be of any type of {name} object in string representation."
                )
            else:
                value["description"] += (
                    f" This is {name} {value['type']} type parameter in string representation."
                )
            if value["type"] in list_type:
                value["description"] += (
                    f" The list elements are of type {value['items']['type']}; they are not in string representation."
                )
                del value["items"]
            if language == "javascript" and value["type"] == "dict" and "properties" in value:
                value["description"] += (
                    " The dictionary entries have the following schema; they are not in string "
                    f"representation. {json.dumps(value['properties'])}"
                )
                del value["properties"]
            value["type"] = "string"
    return functions


# JSON-schema type names -> the names BFCL's function docs use (the rest are spelled alike).
_BFCL_TYPE_NAMES = {"object": "dict", "number": "float"}
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SUBSCHEMA_ONE = ("items", "additionalProperties")


def bfcl_docs(tools: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalised tools (`Sample.tools`, JSON schema) written as BFCL writes its function docs.

    `"object"` becomes `"dict"`, `"number"` becomes `"float"`, a schema without a type gets
    `"any"`, and `type` comes first in every node, so a training prompt shows tools the way BFCL's
    prompt shows them at evaluation. For BFCL's own single-turn python entries this gives back the
    original docs exactly, but where normalisation dropped something BFCL wrote: `"tuple"` (now
    `"array"`), per-parameter `"optional"` flags and a top-level `"optional"` list, and the key order
    of docs that list `required` before `properties` (most live entries).
    """
    return [
        {"name": tool["name"], "description": tool.get("description", ""),
         "parameters": _bfcl_node(tool.get("parameters") or {"type": "object", "properties": {}})}
        for tool in tools
    ]  # fmt: skip


def _bfcl_node(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    kind = node.get("type", "any")
    out: dict[str, Any] = {
        "type": [_BFCL_TYPE_NAMES.get(k, k) for k in kind] if isinstance(kind, list) else _BFCL_TYPE_NAMES.get(kind, kind)
    }
    for key, value in node.items():
        if key == "type":
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            value = {name: _bfcl_node(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA_ONE:
            value = _bfcl_node(value)
        elif key == "prefixItems" and isinstance(value, list):
            value = [_bfcl_node(sub) for sub in value]
        out[key] = value
    return out


def system_prompt(functions: list[dict[str, Any]]) -> str:
    """BFCL's default system prompt for prompting models, with `functions` as indented JSON."""
    tools = _AVAILABLE_TOOLS.format(functions=json.dumps(functions, indent=4))
    return f"{_PERSONA}{_TASK}\n\n{_TOOL_CALL_FORMAT}\n\n{_MULTITURN}\n\n{tools}"


def build_messages(question: list[dict[str, Any]], functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prompt messages: BFCL's system prompt, merged with a system turn the question opens with."""
    messages = [dict(message) for message in question]
    prompt = system_prompt(functions)
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = prompt + "\n\n" + messages[0]["content"]
    else:
        messages.insert(0, {"role": "system", "content": prompt})
    return messages


def load_category(category: str, data_dir: str | Path | None = None) -> list[BfclEntry]:
    """All entries of one single-turn category, in file order, with their possible answers.

    Only the data is read here; each entry builds its prompt when asked for it.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown BFCL category {category!r}; use one of {', '.join(CATEGORIES)}")
    folder = bfcl_data_dir(data_dir)
    rows = _read_jsonl(category_file(folder, category))
    answers: list[Any] = [None] * len(rows)
    if category not in RELEVANCE_CATEGORIES:
        answer_rows = _read_jsonl(category_file(folder / "possible_answer", category))
        if len(answer_rows) != len(rows):
            raise ValueError(
                f"BFCL {category}: {len(rows)} questions but {len(answer_rows)} possible answers"
            )
        # BFCL pairs questions and answers by position (eval_runner._subset_entries_by_model_ids).
        answers = [row["ground_truth"] for row in answer_rows]
    return [
        BfclEntry(row["id"], category, row["question"][0], row["function"], answer)
        for row, answer in zip(rows, answers, strict=True)
    ]


def load_bfcl(categories: str | Iterable[str] = "all", data_dir: str | Path | None = None) -> list[BfclEntry]:
    """Entries of the given categories or groups ("non_live", "live", "all"), category by category."""
    entries: list[BfclEntry] = []
    for category in resolve_categories(categories):
        entries.extend(load_category(category, data_dir))
    return entries
