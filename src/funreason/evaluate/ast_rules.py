"""BFCL's AST matching rules: does a decoded answer match one of the possible answers?

This is bfcl-eval's `eval_checker/ast_eval/ast_checker.py` (2026.3.23) rule for rule, so that our
verdicts equal the official ones; the error_type strings are BFCL's. In short:

- call count: exactly as many calls as the possible answer has (`*:wrong_count`);
- `parallel` categories match calls in any order; `multiple` checks the one call against the
  function the answer names; the rest check one call against the first (only) function;
- function name must be equal (for API models that cannot use "." in names, BFCL compares
  against the name with "." replaced by "_": `underscore_to_dot`);
- every required parameter present, no parameter outside the schema or the possible answer, and
  every possible-answer parameter present unless "" is among its accepted values (optional);
- types: the declared type exactly (`bool` is not `int`), except that an int is accepted for a
  Python float; a value of the possible answer's type where it differs from the declared one is a
  "variable" and compared as is; lists are checked one level deep;
- values: strings compared after `standardize_string` (lowercase, without spaces and `,./-_*^`,
  `'` read as `"`), also inside lists and dicts; dicts key by key (a key whose accepted values
  include "" may be left out); lists of dicts item by item; anything else with `==`.

Decoded calls have BFCL's shape, `[{name: {param: value}}]`; Java/JavaScript values arrive as
source text and are converted by the declared type first (`java_js_types`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from funreason.evaluate.java_js_types import JAVA_TYPES, JS_TYPES, java_value, js_value

PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_NESTED = {"python": ("array", "tuple"), "java": ("Array", "ArrayList"), "javascript": ("array",)}

Calls = list[dict[Any, dict[Any, Any]]]


@dataclass(frozen=True)
class CheckResult:
    """A verdict: `valid`, BFCL's `error_type` (empty when valid) and readable `errors`; `decoded`:
    the calls the answer decoded to (None when it did not decode), when the checker decoded it."""

    valid: bool
    error_type: str = ""
    errors: list[Any] = field(default_factory=list)
    decoded: Any = None


PASS = CheckResult(True)


def _fail(error_type: str, *errors: Any) -> CheckResult:
    return CheckResult(False, error_type, list(errors))


# BFCL removes these with re.sub(r"[ \,\.\/\-\_\*\^]", "", ...); str.translate does the same faster.
_DROP = str.maketrans("", "", " ,./-_*^")


@functools.lru_cache(maxsize=65536)  # the possible answers' strings come back entry after entry
def standardize_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and `,./-_*^`, lowercase, `'` -> `"`."""
    return text.translate(_DROP).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def match_calls(
    functions: list[dict[str, Any]],
    calls: Calls,
    possible_answer: list[dict[str, Any]],
    language: str,
    category: str,
    *,
    underscore_to_dot: bool = False,
) -> CheckResult:
    """BFCL's `ast_checker`: decoded `calls` against `possible_answer`, given the function docs."""
    checker = _Checker(language, underscore_to_dot)
    if "parallel" in category:
        return checker.parallel(functions, calls, possible_answer)
    if "multiple" in category:
        if len(calls) != len(possible_answer):
            return _fail("multiple_function_checker:wrong_count", "Wrong number of functions.")
        return checker.call(_find(functions, possible_answer[0]), calls[0], possible_answer[0])
    if len(calls) != 1:
        return _fail("simple_function_checker:wrong_count", "Wrong number of functions.")
    return checker.call(functions[0], calls[0], possible_answer[0])


def _find(functions: list[dict[str, Any]], answer: dict[str, Any]) -> dict[str, Any]:
    name = next(iter(answer))
    return next((function for function in functions if function["name"] == name), None)  # type: ignore[return-value]


@dataclass
class _Checker:
    language: str
    underscore_to_dot: bool

    def parallel(self, functions: list[dict], calls: Calls, answers: list[dict]) -> CheckResult:
        if len(calls) != len(answers):
            return _fail("parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
        matched: list[int] = []
        # Each expected call takes the first unmatched output call that passes (greedy, as BFCL).
        for answer_index, answer in enumerate(answers):
            function = _find(functions, answer)
            errors: list[Any] = []
            for index, call in enumerate(calls):
                if index in matched:
                    continue
                result = self.call(function, call, answer)
                if result.valid:
                    matched.append(index)
                    break
                errors.append(
                    {
                        f"Model Result Index {index}": {
                            "sub_error": result.errors,
                            "sub_error_type": result.error_type,
                        }
                    }
                )
            else:
                left = [i for i in range(len(calls)) if i not in matched]
                message = (
                    f"Could not find a matching function among index {left} of model output "
                    f"for index {answer_index} of possible answers."
                )
                return _fail("parallel_function_checker_no_order:cannot_find_match", message, *errors)
        return PASS

    def call(
        self, function: dict[str, Any] | None, call: dict[Any, Any], answer: dict[str, Any]
    ) -> CheckResult:
        """BFCL's simple_function_checker: one decoded call against one possible answer."""
        expected = next(iter(answer.values()))
        if function is None:  # the possible answer names a function that is not offered
            return _fail(
                "simple_function_checker:wrong_func_name", f"No function doc for {next(iter(answer))!r}."
            )
        details = function["parameters"]["properties"]
        name = function["name"]
        if self.underscore_to_dot and "." in name:
            name = name.replace(".", "_")
        if name not in call:
            return _fail(
                "simple_function_checker:wrong_func_name",
                f"Function name {name!r} not found in model output.",
            )
        arguments = call[name]
        for param in function["parameters"].get("required", []):
            if param not in arguments:
                return _fail(
                    "simple_function_checker:missing_required", f"Missing required parameter: {param!r}."
                )
        for param, value in arguments.items():
            if param not in details or param not in expected:
                return _fail("simple_function_checker:unexpected_param", f"Unexpected parameter: {param!r}.")
            result = self.parameter(param, value, details[param], expected[param])
            if not result.valid:
                return result
        for param, options in expected.items():
            if param not in arguments and "" not in options:
                return _fail(
                    "simple_function_checker:missing_optional",
                    f"Optional parameter {param!r} not provided and not marked as optional.",
                )
        return PASS

    def parameter(self, param: Any, value: Any, detail: dict[str, Any], options: list[Any]) -> CheckResult:
        type_name = detail["type"]
        nested_name = detail["items"]["type"] if type_name in _NESTED[self.language] else None
        if self.language == "python":
            expected, nested = PYTHON_TYPES[type_name], PYTHON_TYPES.get(nested_name) if nested_name else None
            if type_name == "float" and type(value) is int:
                value = float(value)  # Python would accept an int where a float is declared
        else:
            types, convert = (JAVA_TYPES, java_value) if self.language == "java" else (JS_TYPES, js_value)
            expected, nested = types[type_name], types[nested_name] if nested_name else None
            if type(value) is not str:
                error_type = "type_error:java" if self.language == "java" else "type_error:js"
                return _fail(
                    error_type,
                    f"Incorrect type for parameter {param!r}. Expected type String, got {type(value).__name__}. Parameter value: {value!r}.",
                )
            value = convert(value, type_name, nested_name) if nested_name else convert(value, type_name)
        if type_name == "tuple" and type(value) is tuple:
            value = list(value)  # the possible answers went through JSON, where tuples are lists

        result, is_variable = _type_check(param, value, options, type_name, expected, nested)
        if not result.valid:
            return result
        if not is_variable:
            if expected is dict:
                return _dict_check(param, value, options)
            if expected is list and nested is dict:
                return _list_dict_check(param, value, options)
            if expected is str:
                return _string_check(param, value, options)
            if expected is list:
                return _list_check(param, value, options)
        if value not in options:
            return _fail(
                "value_error:others",
                f"Invalid value for parameter {param!r}: {value!r}. Expected one of {options}.",
            )
        return PASS


def _answer_type(options: list[Any]) -> type | None:
    for option in options:
        if option != "":  # "" marks an optional parameter
            return type(option)
    return None


def _type_check(
    param: Any, value: Any, options: list[Any], type_name: str, expected: type, nested: type | None
) -> tuple[CheckResult, bool]:
    """BFCL's type_checker: (verdict, is_variable). A "variable" is a value of the possible answer's
    type where that differs from the declared type (say a variable name given as a string)."""
    answer_type = _answer_type(options)
    is_variable = answer_type is not None and answer_type != expected
    failure = None
    if type(value) is expected:
        if nested is None:
            return PASS, is_variable
        for option in options:
            if type(option) is list and any(
                not _type_check(param, item, option, str(nested), nested, None)[0].valid for item in value
            ):
                continue
            return PASS, is_variable  # BFCL accepts at the first option that is not a failing list
        failure = _fail(
            "type_error:nested",
            f"Nested type checking failed for parameter {param!r}. Expected outer type {type_name} with inner type {nested}. Parameter value: {value!r}.",
        )
    if answer_type is not None and type(value) is answer_type:
        return failure or PASS, True
    message = f"Incorrect type for parameter {param!r}. Expected type {type_name}, got {type(value).__name__}. Parameter value: {value!r}."
    return _fail("type_error:simple", *(failure.errors if failure else []), message), is_variable


def _string_check(param: Any, value: str, options: list[Any]) -> CheckResult:
    if standardize_string(value) not in [standardize_string(o) for o in options if type(o) is str]:
        return _fail(
            "value_error:string",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {options}. Case insensitive.",
        )
    return PASS


def _list_check(param: Any, value: list[Any], options: list[Any]) -> CheckResult:
    # An option "" becomes [] here (BFCL iterates it), so an empty list passes an optional list.
    if [_std(item) for item in value] not in [[_std(item) for item in option] for option in options]:
        return _fail(
            "value_error:list/tuple",
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {options}.",
        )
    return PASS


def _dict_check(param: Any, value: dict[Any, Any], options: list[Any]) -> CheckResult:
    result = _fail("dict_checker:unclear")
    if not isinstance(value, dict):  # BFCL would crash here; a wrong type is the honest verdict
        return _fail("type_error:nested", f"Expected a dict for parameter {param!r}, got {value!r}.")
    for option in options:
        if option == "":
            continue
        result = PASS
        for key, item in value.items():
            if key not in option:
                result = _fail("value_error:dict_key", f"Unexpected dict key parameter: '{key}'.")
                break
            accepted = [_std(o) for o in option[key]]
            if _std(item) not in accepted:
                result = _fail(
                    "value_error:dict_value",
                    f"Invalid value for parameter {key!r}: {item!r}. Expected one of {accepted}.",
                )
                break
        for key, accepted in option.items():
            if key not in value and "" not in accepted:
                # BFCL appends this to an earlier error of the same option, under the same type.
                errors = (result.errors if not result.valid else []) + [
                    f"Missing dict key parameter: '{key}'."
                ]
                result = _fail("value_error:dict_key", *errors)
                break
        if result.valid:
            return PASS
    return result


def _list_dict_check(param: Any, value: list[Any], options: list[Any]) -> CheckResult:
    result = _fail("list_dict_checker:unclear")
    for option in options:
        if len(value) != len(option):
            result = _fail("value_error:list_dict_count", "Wrong number of dictionaries in the list.")
            continue
        result = PASS
        for item, expected in zip(value, option, strict=True):
            result = _dict_check(param, item, [expected])
            if not result.valid:
                break
        if result.valid:
            return PASS
    return result
