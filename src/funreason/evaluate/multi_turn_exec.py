"""Run calls against BFCL's simulated APIs without evaluating any text.

bfcl-eval executes a multi-turn call by rewriting the call string (`ls(a=True)` becomes
`<instance>.ls(a=True)`) and passing it to `eval` (`multi_turn_utils.execute_multi_turn_func_call`).
`Executor` gets the same results by dispatch instead: the calls arrive decoded (`checker.decode`
for model text, `parse_call` for ground-truth strings, literal values only), the name must be a
public method of the entry's API instances, and the method is called with those values.

What is the same as BFCL: fresh instances per entry, in `involved_classes` order, each given
`_load_scenario(deepcopy(initial_config[class]), long_context=...)` (not the stateless MathAPI);
a method name shared by two classes goes to the later class; blocked names (`kill`, `exit`, `quit`,
`remove`, `unlink`, `popen`, `Popen`, `run`, judged on the part after the first dot as BFCL judges
it) give "Function call X is not allowed."; an unknown name gives NameError's text
"name 'x' is not defined"; a bad argument gives python's own TypeError text (the method is called
with the arguments as given, so python binds them exactly as for BFCL's `eval`); any exception
becomes "Error during execution: <message>"; a result is kept if text, JSON-dumped (or `str`) if
a dict, otherwise `str`.

Where we differ, all on calls BFCL would `eval` with more power than a literal: a dotted or builtin
name that happens to exist in bfcl-eval's module globals (`json.dumps(...)`, `print(...)`,
`open(...)`) runs there and is "not defined" here; a private or dunder name is refused here (BFCL
finds no instance method either, so it is a NameError there too unless it is a global). Model
calls reach us decoded by BFCL's own rules (`decode_python`: bare names as strings, literal
arithmetic computed, a nested call without keywords as its text); BFCL then re-renders the decoded
values with `repr` and evaluates them (`decoded_output_to_execution_list`), which for literals
gives the same values, except that a dict whose values are all dicts (what a nested call with
keywords decodes to) is rendered by BFCL as a call and run before the outer one; here it stays a
dict value and the inner call never runs (and an empty dict, which fails BFCL's rendering, is
passed as one).
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

_PREFIX = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
# constants/executable_backend_config.py: CLASS_FILE_PATH_MAPPING (multi-turn classes).
CLASS_MODULES = {
    "GorillaFileSystem": f"{_PREFIX}.gorilla_file_system",
    "MathAPI": f"{_PREFIX}.math_api",
    "MessageAPI": f"{_PREFIX}.message_api",
    "TwitterAPI": f"{_PREFIX}.posting_api",
    "TicketAPI": f"{_PREFIX}.ticket_api",
    "TradingBot": f"{_PREFIX}.trading_bot",
    "TravelAPI": f"{_PREFIX}.travel_booking",
    "VehicleControlAPI": f"{_PREFIX}.vehicle_control",
}
STATELESS_CLASSES = ("MathAPI",)
BLOCKED_NAMES = ("kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run")

Call = tuple[str, Sequence[Any], Mapping[str, Any]]


def _api_class(name: str) -> type:
    if name not in CLASS_MODULES:
        raise ValueError(f"unknown BFCL multi-turn class {name!r}; known: {', '.join(CLASS_MODULES)}")
    try:
        module = importlib.import_module(CLASS_MODULES[name])
    except ImportError as exc:
        raise ImportError(
            f"BFCL's simulated APIs need bfcl-eval: `pip install --no-deps bfcl-eval` ({exc})"
        ) from exc
    return getattr(module, name)


def execution_text(result: Any) -> str:
    """A method's return value as BFCL feeds it back and compares it."""
    if type(result) is str:
        return result
    if type(result) is dict:
        try:
            return json.dumps(result)
        except (TypeError, ValueError):  # values that are objects
            return str(result)
    return str(result)


class Executor:
    """The API instances of one entry and the only door to them: public methods, by name."""

    def __init__(
        self,
        involved_classes: Iterable[str],
        initial_config: Mapping[str, Any],
        *,
        long_context: bool = False,
    ):
        self.instances: dict[str, Any] = {}
        self._methods: dict[str, Callable[..., Any]] = {}
        for class_name in involved_classes:
            instance = _api_class(class_name)()
            if class_name not in STATELESS_CLASSES:
                config = copy.deepcopy(initial_config.get(class_name, {}))
                instance._load_scenario(config, long_context=long_context)
            self.instances[class_name] = instance
            for name, method in inspect.getmembers(instance, predicate=inspect.ismethod):
                if not name.startswith("_"):
                    self._methods[name] = method  # a later class wins, as in BFCL

    @property
    def method_names(self) -> list[str]:
        """The names a call may use."""
        return sorted(self._methods)

    def call(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
        """Run one call and return BFCL's execution result text (errors included, never raised)."""
        short = name.split(".")[1] if "." in name else name
        if short in BLOCKED_NAMES:
            return f"Error during execution: Function call {short} is not allowed."
        method = self._methods.get(name)
        if method is None:
            return f"Error during execution: name '{name.split('.')[0]}' is not defined"
        try:
            result = method(*args, **dict(kwargs or {}))
        except Exception as exc:  # the API's own errors are results the model sees, as in BFCL
            return f"Error during execution: {exc}"
        return execution_text(result)

    def execute(self, calls: Iterable[Call]) -> list[str]:
        """Run calls in order; one result text per call."""
        return [self.call(name, args, kwargs) for name, args, kwargs in calls]


def decoded_calls(decoded: Iterable[Mapping[str, Mapping[str, Any]]]) -> list[Call]:
    """BFCL's decoded calls `[{name: {param: value}}]` as `(name, (), arguments)` calls."""
    return [(name, (), arguments) for call in decoded for name, arguments in call.items()]


def parse_call(text: str) -> Call:
    """A ground-truth call string (`sort('a.txt')`, `cd(folder='x')`) as a call, values read as
    python literals; positional arguments are kept (BFCL's ground truth uses them). Anything else
    (nested calls, names, expressions) raises ValueError."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a call: {text!r} ({exc.msg})") from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"not a call of a plain function name: {text!r}")
    if any(isinstance(arg, ast.Starred) for arg in node.args) or any(kw.arg is None for kw in node.keywords):
        raise ValueError(f"* and ** arguments are not allowed: {text!r}")
    try:
        args = [ast.literal_eval(arg) for arg in node.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None}
    except ValueError as exc:
        raise ValueError(f"arguments must be literals: {text!r} ({exc})") from None
    return node.func.id, args, kwargs
