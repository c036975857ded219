"""Decode a python answer exactly as bfcl-eval's prompting decoder does, with nothing evaluated.

bfcl-eval 2026.3.23 reads prompting answers with `default_decode_ast_prompting` → `ast_parse` →
`resolve_ast_call` → `resolve_ast_by_type` (`bfcl_eval/model_handler/utils.py`). `decode_python`
follows it rule for rule:

- the text: strip backticks, newlines and spaces from both ends, add a missing outer `[` or `]`,
  strip whitespace and `'`, then parse it as one python expression. A call is one call; otherwise
  every item of the list (or tuple) must be a call; anything else does not decode;
- a call: its name is the attribute chain joined with dots (`a.b.f`; "" when the function is neither
  a name nor an attribute chain), its arguments are the keyword arguments only: positional ones are
  dropped, `**kw` is the key None, a repeated keyword keeps its last value;
- values: constants as they are (`...` is the string "..."); a bare name is its text (`unit=celsius`
  is "celsius"); lists, dicts and tuples item by item (tuples stay tuples, so they fail a list type
  check); a call without keywords is its `ast.unparse` text, one with keywords the nested
  `{name: {param: value}}`; a subscript is the text `value[slice]`; any unary operator negates a
  constant operand (`+5` is -5, `not True` is -1, `-x` does not decode); a lambda, attribute, set,
  comparison, f-string or any other expression does not decode;
- arithmetic (`ast.BinOp`): BFCL runs Python's `eval` on it. Here a small evaluator computes it over
  literals only: constants; `+ - * / // % ** << >> & | ^ @`; unary `- + ~ not` (with Python's
  meaning inside arithmetic); list, tuple and dict displays. Python's own operators do the work, so
  values and errors (`1/0` does not decode) are Python's.

Where we still differ from BFCL, refusing to decode where BFCL evaluates:

- arithmetic over names, calls, attributes, subscripts, comprehensions or anything else that is not
  a literal (`len('ab') + 1`, `x * 2`, `math.pi / 2`): BFCL evaluates it in its own module, with its
  builtins and globals; we fail to decode it;
- `str % args` and `bytes % args` (printf formatting) inside arithmetic;
- arithmetic over the limits: an int beyond 4,300 digits (`10**5000`; Python will not print it
  either), a power or shift whose result would be beyond that (`2**10**10`, where BFCL hangs), more
  than `MAX_SIZE` characters and items built by arithmetic in one answer (`'ab' * 10**7`), or
  arithmetic nested deeper than `MAX_DEPTH` (BFCL's own limit is its recursion limit, about 350).
"""

from __future__ import annotations

import ast
import operator
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_SIZE", "PythonDecodeError", "bfcl_trim", "bracketed", "decode_python"]

MAX_DEPTH = 300  # operators nested in one arithmetic expression
MAX_SIZE = 1_000_000  # characters and items that arithmetic may build in one answer
_MAX_INT = 10**4300  # Python's default limit on the digits of an int it converts to text
_MAX_BITS = 14_300  # bits of 10**4300, rounded up

Calls = list[dict[Any, dict[Any, Any]]]


class PythonDecodeError(ValueError):
    """The text is not a call list BFCL's python decoder reads, or its arithmetic is over our limits."""


def bracketed(output: str) -> str:
    """`default_decode_ast_prompting`'s trim, for every language: strip backticks, newlines and
    spaces from both ends, then add a missing outer `[` or `]`."""
    output = output.strip("`\n ")
    if not output.startswith("["):
        output = "[" + output
    if not output.endswith("]"):
        output = output + "]"
    return output


def bfcl_trim(output: str) -> str:
    """The text BFCL parses as python: `bracketed`, then `ast_parse`'s strip of spaces and quotes."""
    return bracketed(output).strip().strip("'")


def decode_python(output: str) -> Calls:
    """A python answer as BFCL's decoded calls `[{name: {param: value}}]`; raises `PythonDecodeError`."""
    body = _parse(bfcl_trim(output))
    if isinstance(body, ast.Call):
        nodes = [body]
    elif isinstance(body, (ast.List, ast.Tuple, ast.Set)):  # the nodes that have `elts`
        nodes = body.elts
    else:
        raise PythonDecodeError(f"expected a list of calls like [f(a=1)], got {type(body).__name__}")
    for index, node in enumerate(nodes):
        if not isinstance(node, ast.Call):
            raise PythonDecodeError(f"item {index} is not a function call but {type(node).__name__}")
    arithmetic = _Arithmetic()
    try:
        return [_call(node, arithmetic) for node in nodes]
    except RecursionError:
        raise PythonDecodeError("values nested too deeply") from None


# The parser warns on invalid escapes ('\d') and on a number run into a name (`1if`); silencing
# warnings costs about as much as decoding, so it is paid only when one of them may be there.
_DIGIT_LETTER = re.compile(r"[0-9][A-Za-z_]")


def _parse(text: str) -> ast.expr:
    try:
        if "\\" not in text and not _DIGIT_LETTER.search(text):
            return ast.parse(text, mode="eval").body
        with warnings.catch_warnings():  # the text is still read as python reads it
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise PythonDecodeError(f"not python syntax: {exc.msg} (column {exc.offset})") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, too deep, too long
        raise PythonDecodeError(f"not python syntax: {type(exc).__name__} {exc}".strip()) from None


def _call(node: ast.Call, arithmetic: _Arithmetic) -> dict[str, dict[Any, Any]]:
    # resolve_ast_call: keyword arguments only, the last of a repeated one wins.
    return {_function_name(node.func): {kw.arg: _value(kw.value, arithmetic) for kw in node.keywords}}


def _function_name(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _value(node: ast.expr | None, arithmetic: _Arithmetic) -> Any:
    """resolve_ast_by_type: one argument value. `node` is None for a `**` entry of a dict display."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        # BFCL computes `-node.operand.value` whatever the operator: only a number constant has one.
        operand = node.operand
        if isinstance(operand, ast.Constant) and isinstance(operand.value, (int, float, complex)):
            return -operand.value
        raise PythonDecodeError(f"unary operator on {type(operand).__name__}: BFCL negates constants only")
    if isinstance(node, ast.List):
        return [_value(item, arithmetic) for item in node.elts]
    if isinstance(node, ast.Dict):
        try:
            return {
                _value(k, arithmetic): _value(v, arithmetic)
                for k, v in zip(node.keys, node.values, strict=True)
            }
        except TypeError as exc:  # an unhashable key
            raise PythonDecodeError(f"dict key: {exc}") from None
    if isinstance(node, ast.BinOp):
        return arithmetic.value(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _call(node, arithmetic) if node.keywords else ast.unparse(node)
    if isinstance(node, ast.Tuple):
        return tuple(_value(item, arithmetic) for item in node.elts)
    if isinstance(node, ast.Subscript):
        return f"{ast.unparse(node.value)}[{ast.unparse(node.slice)}]"
    raise PythonDecodeError(f"unsupported value: {type(node).__name__}")


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.MatMult: operator.matmul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}
_SEQUENCES = (str, bytes, list, tuple)


@dataclass
class _Arithmetic:
    """Python's value of literal arithmetic within bounds: what BFCL's `eval` gives, or a refusal.

    `size_left`: characters and items arithmetic may still build in this answer. Every result is
    counted in full (shared items as often as they appear), so nothing built, printed or compared
    later holds more than `MAX_SIZE`, and the counting itself costs at most that much.
    """

    size_left: int = MAX_SIZE

    def value(self, node: ast.expr | None, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise PythonDecodeError(f"arithmetic nested deeper than {MAX_DEPTH} is not evaluated")
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
            return self._apply(type(node.op), left, right)
        if isinstance(node, ast.UnaryOp):
            return self._run(_UNARY[type(node.op)], self.value(node.operand, depth + 1))
        if isinstance(node, ast.List):
            return [self.value(item, depth + 1) for item in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.value(item, depth + 1) for item in node.elts)
        if isinstance(node, ast.Dict) and None not in node.keys:
            pairs = [
                (self.value(k, depth + 1), self.value(v, depth + 1))
                for k, v in zip(node.keys, node.values, strict=True)
            ]
            try:
                return dict(pairs)
            except TypeError as exc:  # an unhashable key
                raise PythonDecodeError(f"dict key: {exc}") from None
        kind = "a `**` entry" if node is None or isinstance(node, ast.Dict) else type(node).__name__
        raise PythonDecodeError(
            f"arithmetic over {kind} is not evaluated: only literal arithmetic is (BFCL runs eval on it)"
        )

    def _apply(self, op: type[ast.operator], left: Any, right: Any) -> Any:
        if op is ast.Pow:
            self._check_power(left, right)
        elif op is ast.LShift and _is_int(left) and _is_int(right) and left and right > _MAX_BITS:
            raise PythonDecodeError(f"arithmetic over the limits: a shift by {right} bits")
        elif op is ast.Mult:
            self._check_repeat(left, right)
            self._check_repeat(right, left)
        elif op is ast.Mod and isinstance(left, (str, bytes)):
            raise PythonDecodeError("printf-style formatting (`str % args`) is not evaluated")
        return self._run(_BINARY[op], left, right)

    def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            result = function(*args)
        except (ArithmeticError, TypeError, ValueError) as exc:  # 1/0, 'a' - 1, 2.0**10000, [] << 1
            raise PythonDecodeError(f"arithmetic failed: {type(exc).__name__}: {exc}") from None
        if _is_int(result) and not -_MAX_INT < result < _MAX_INT:
            raise PythonDecodeError("arithmetic over the limits: an int of more than 4300 digits")
        self._count(result)
        return result

    def _check_power(self, base: Any, exponent: Any) -> None:
        if _is_int(base) and _is_int(exponent) and abs(base) > 1 and exponent > 0:
            if (abs(base).bit_length() - 1) * exponent > _MAX_BITS:
                raise PythonDecodeError(f"arithmetic over the limits: a power to {exponent}")

    def _check_repeat(self, sequence: Any, times: Any) -> None:
        if isinstance(sequence, _SEQUENCES) and _is_int(times) and len(sequence) * times > self.size_left:
            raise PythonDecodeError(f"arithmetic over the limits: a sequence repeated {times} times")

    def _count(self, value: Any) -> None:
        # Walks the value without recursion and stops as soon as the budget is spent.
        stack = [value]
        while stack:
            item = stack.pop()
            self.size_left -= 1
            if isinstance(item, (str, bytes)):
                self.size_left -= len(item)
            elif isinstance(item, (list, tuple)):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            if self.size_left < 0:
                raise PythonDecodeError(
                    f"arithmetic over the limits: more than {MAX_SIZE} characters and items"
                )


def _is_int(value: Any) -> bool:
    return isinstance(value, int)  # bool included, as Python's operators read it
