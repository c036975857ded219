"""BFCL's conversion of Java and JavaScript argument text into Python values, by declared type.

The Java/JavaScript decoders keep every argument as source text; BFCL's checker then converts it by
the parameter's declared type (`"5L"` as a `long` is 5, `"new int[]{1, 2}"` as an `Array` is
[1, 2]) and a text that does not fit the type stays a string, which then fails the type check.
These functions reproduce bfcl-eval's `eval_checker/ast_eval/type_convertor/java_type_converter.py`
and `js_type_converter.py` rule for rule, oddities included (a Java `char` is never converted, a
JavaScript dict is split with regular expressions), since the verdicts must equal the official ones.

Adapted from bfcl-eval 2026.3.23 (https://github.com/ShishirPatil/gorilla), Apache-2.0.
"""

from __future__ import annotations

from typing import Any

import regex as re

VALUE_SECONDS = 0.5  # longest one of BFCL's value patterns may run on one value


def _bounded(function: Any, *args: Any) -> Any:
    """Run a `regex` function of BFCL's value patterns with a time bound. Their nested lazy groups
    (the HashMap pattern's `{ {? (.*?) }? }`) backtrack for minutes on a long value with no closing
    brace, in BFCL too; past the bound the value is a `ValueError` (the checker records it)."""
    try:
        return function(*args, timeout=VALUE_SECONDS)
    except TimeoutError:
        longest = max(len(arg) for arg in args[1:] if isinstance(arg, str))
        raise ValueError(
            f"BFCL's pattern {args[0]!r} did not finish within {VALUE_SECONDS:g} s on a value of {longest:,} characters"
        ) from None


JAVA_TYPES: dict[str, type] = {
    "byte": int,
    "short": int,
    "integer": int,
    "float": float,
    "double": float,
    "long": int,
    "boolean": bool,
    "char": str,
    "Array": list,
    "ArrayList": list,
    "Set": set,
    "HashMap": dict,
    "Hashtable": dict,
    "Queue": list,
    "Stack": list,
    "String": str,
    "any": str,
}
JS_TYPES: dict[str, type] = {
    "String": str,
    "integer": int,
    "float": float,
    "Bigint": int,
    "Boolean": bool,
    "dict": dict,
    "array": list,
    "any": str,
}

_JAVA_FLOAT = r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$"


# --- Java -----------------------------------------------------------------------------------------


def java_value(value: str, expected: str, nested: str | None = None) -> Any:
    """`value` (Java source text) as the Python value of Java type `expected`, else the text."""
    if expected not in JAVA_TYPES:
        raise ValueError(f"Unsupported type: {expected}")
    if expected in ("byte", "short", "integer"):
        return int(value) if _bounded(re.match, r"^-?\d+$", value) else str(value)
    if expected == "float":
        return float(_bounded(re.sub, r"[fF]$", "", value)) if _bounded(re.match, _JAVA_FLOAT, value) else str(value)
    if expected == "double":
        return float(value) if _bounded(re.match, r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", value) else str(value)
    if expected == "long":
        return int(_bounded(re.sub, r"[lL]$", "", value)) if _bounded(re.match, r"^-?\d+[lL]$", value) else str(value)
    if expected == "boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected == "ArrayList":
        return _java_arraylist(value, nested)
    if expected == "Array":
        return _java_array(value, nested)
    if expected == "HashMap":
        return _java_hashmap(value)
    if expected in ("String", "any", "char"):
        # BFCL's char pattern (r"^\'.$\'") can never match, so a char is always left as text.
        return str(value)
    raise ValueError(f"{expected} conversion is not implemented")


def _java_element(text: str, nested: str | None) -> Any:
    if nested in ("char", "String"):
        return text[1:-1]  # drop the quotes
    return java_value(text, nested) if nested else _java_literal(text)


def _java_arraylist(text: str, nested: str | None) -> Any:
    as_list = _bounded(re.search, r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)", text)
    if as_list:
        return [_java_element(part.strip(), nested) for part in as_list.group(1).split(",")]
    adds = _bounded(re.search, r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", text, re.DOTALL)
    if adds:
        return [_java_element(m.strip(), nested) for m in _bounded(re.findall, r"add\((.+?)\)", adds.group(1))]
    if _bounded(re.search, r"new\s+ArrayList<\w*>\(\)", text):
        return []
    return text


def _java_array(text: str, nested: str | None) -> Any:
    match = _bounded(re.search, r"new\s+\w+\[\]\s*\{(.*?)\}", text)
    if not match:
        return text
    parts = [part.strip() for part in match.group(1).split(",") if part.strip()]
    # Unlike ArrayList, array elements keep their quotes: a String[] element is '"a"', not 'a'.
    return [java_value(part, nested) if nested else _java_literal(part) for part in parts]


def _java_hashmap(text: str) -> Any:
    match = _bounded(re.search, r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", text, re.DOTALL)
    if match:
        found = {}
        if match.group(1).strip():
            for key, value in _bounded(re.findall, r"put\(\"(.*?)\",\s*(.*?)\)", match.group(1)):
                found[key] = _java_literal(value.strip())
        return found
    if _bounded(re.search, r"new\s+HashMap<.*?>\s*\(\)", text):
        return {}
    return text


def _java_literal(text: str) -> Any:
    """A Java literal without a declared type (BFCL's parse_java_value)."""
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if _bounded(re.match, r"^-?\d+[lL]$", text):
        return int(text[:-1])
    if _bounded(re.match, _JAVA_FLOAT, text):
        return float(_bounded(re.sub, r"[fF]$", "", text))
    return _number_or_text(text)


# --- JavaScript -----------------------------------------------------------------------------------


def js_value(value: str, expected: str, nested: str | None = None) -> Any:
    """`value` (JavaScript source text) as the Python value of type `expected`, else the text."""
    if expected not in JS_TYPES:
        raise ValueError(f"Unsupported type: {expected}")
    if expected == "String":
        quoted = len(value) >= 1 and value[0] == value[-1] and value[0] in "\"'"
        return value[1:-1] if quoted else str(value)
    if expected == "integer":
        return int(value) if _bounded(re.match, r"^-?\d+$", value) else str(value)
    if expected == "float":
        return float(value) if _bounded(re.match, r"^-?\d+(\.\d+)?$", value) else str(value)
    if expected == "Bigint":
        return int(value[:-1]) if _bounded(re.match, r"^-?\d+n$", value) else str(value)
    if expected == "Boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected == "dict":
        return _js_dict(value.strip())
    if expected == "array":
        return _js_array(value.strip(), nested)
    return str(value)  # any


_JS_2D = r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)"


def _js_array(code: str, nested: str | None) -> Any:
    try:
        if _bounded(re.match, _JS_2D, code):
            rows = []
            for index, inner in enumerate(_bounded(re.findall, r"\[(.*?)\]", _bounded(re.match, _JS_2D, code).group(0))):
                inner = inner.strip()
                if index == 0 and inner.startswith("["):
                    inner = inner[1:]
                rows.append([_js_literal(e.strip()) for e in inner.split(",")])
            return rows
        match = _bounded(re.match, r"\[(.*?)\]|\bnew\s+Array\((.*?)\)", code)
        if not match:
            return code
        inside = match.group(1) if match.group(1) is not None else match.group(2)
        inside = (inside or "").strip()
        elements = inside.split(",") if inside else []
        if not nested:
            return [_js_literal(e.strip()) for e in elements]
        return [js_value(e.strip(), nested) for e in elements]
    except Exception:  # BFCL: any failure leaves the text as is (then it fails the type check)
        return code


def _js_dict(code: str) -> Any:
    if code == "{}":
        return {}
    match = _bounded(re.match, r"\{(.*?)\}", code)
    if not match:
        return code
    try:
        found = {}
        for key, value in _bounded(re.findall, r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", match.group(1)):
            key, value = key.strip().strip("'\""), value.strip()
            if value.startswith("[") and value.endswith("]"):
                found[key] = _js_array(value.strip(), None)
            elif value.startswith("{") and value.endswith("}"):
                found[key] = _js_dict(value.strip())
            else:
                found[key] = _js_literal(value.strip("'\""))
        return found
    except Exception:
        return code


def _js_literal(text: str) -> Any:
    """A JavaScript literal without a declared type (BFCL's parse_js_value)."""
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 1 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return _number_or_text(text)


def _number_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
