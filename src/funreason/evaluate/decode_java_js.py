"""BFCL's decoders for Java and JavaScript call strings, on tree-sitter; nothing is evaluated.

For the simple_java and simple_javascript categories BFCL expects one call in that language's
syntax with named arguments, `[Cls.method(arg="x", n=new int[]{1, 2})]`, every value kept as its
source text (the checker converts it by the declared type, see `java_js_types`). These functions
reproduce bfcl-eval's `model_handler/parser/java_parser.py` and `js_parser.py` and its
`default_decode_ast_prompting` around them, quirks included (only the first call is read, values
that are neither named nor identifiers are dropped, a parse error anywhere rejects the whole output),
so that our verdicts equal the official ones.

Adapted from bfcl-eval 2026.3.23 (https://github.com/ShishirPatil/gorilla), Apache-2.0.
Needs `tree_sitter` 0.21 with `tree_sitter_java` and `tree_sitter_javascript`.
"""

from __future__ import annotations

import functools
from typing import Any

from funreason.evaluate.decode_python import bracketed

Decoded = list[dict[Any, dict[Any, Any]]]


@functools.cache
def _parser(language: str) -> Any:
    try:
        from tree_sitter import Language, Parser

        if language == "java":
            import tree_sitter_java as grammar
        else:
            import tree_sitter_javascript as grammar
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "checking Java/JavaScript answers needs tree-sitter: "
            "pip install tree_sitter==0.21.3 tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4"
        ) from exc
    try:
        lang = Language(grammar.language(), language)  # tree_sitter 0.21
    except TypeError:  # pragma: no cover - tree_sitter >= 0.22 takes the pointer alone
        lang = Language(grammar.language())
    parser = Parser()
    if hasattr(parser, "set_language"):
        parser.set_language(lang)
    else:  # pragma: no cover
        parser.language = lang
    return parser


def _has_error_node(node: Any) -> bool:
    # BFCL tests `"ERROR" in root.sexp()`: ERROR nodes count, MISSING ones (a missing ";") do not.
    if node.type == "ERROR":
        return True
    return any(_has_error_node(child) for child in node.children)


def _wrap(output: str) -> str:
    # default_decode_ast_prompting's trim; the java/js branch of ast_parse then drops the first and
    # last character again.
    return bracketed(output)[1:-1]


def decode_java(output: str) -> Decoded | dict[Any, Any]:
    """BFCL's decoding of a Java answer: `[{name: {param: source text}}]`, or `{}` without a call.

    Raises `SyntaxError` on a parse error and `ValueError` on a repeated argument name.
    """
    source = _wrap(output)
    root = _parser("java").parse(bytes(source, "utf8")).root_node
    if _has_error_node(root):
        raise SyntaxError("Error parsing java the source code.")

    def text(node: Any) -> str:
        # BFCL slices the str with byte offsets (wrong past non-ASCII text); kept for equal verdicts.
        return source[node.start_byte : node.end_byte]

    def value_text(node: Any, nested: bool = False) -> str:
        if node.type in ("string_literal", "character_literal"):
            return text(node) if nested else text(node)[1:-1]
        if node.type in ("identifier", "class_literal", "type_identifier", "method_invocation"):
            return text(node)
        if node.type == "array_creation_expression":
            type_text = value_text(node.child_by_field_name("type"), True)
            items = value_text(node.child_by_field_name("value"), True)
            return f"new {type_text}[]{items}"
        if node.type == "object_creation_expression":
            type_text = value_text(node.child_by_field_name("type"), True)
            arguments = node.child_by_field_name("arguments")
            if not arguments:
                return f"new {type_text}()"
            parts = [value_text(c, True) for c in arguments.children if c.type not in (",", "(", ")")]
            return f"new {type_text}({', '.join(parts)})"
        if node.type == "set":
            items = [value_text(c, True) for c in node.children if c.type not in (",", "set")]
            return "{" + ", ".join(items) + "}"
        if node.child_count > 0:
            return "".join(value_text(child, True) for child in node.children)
        return text(node)

    def arguments(node: Any) -> dict[Any, Any]:
        found: dict[Any, list[str]] = {}
        for child in node.children:
            if child.type == "assignment_expression":
                name, value = text(child.children[0]), value_text(child.children[2])
            elif child.type in ("identifier", "class_literal", "set"):
                name, value = None, value_text(child)  # positional: BFCL files it under None
            else:
                continue
            found.setdefault(name, []).append(value)
        if any(len(values) > 1 for values in found.values()):
            raise ValueError("Error: Multiple arguments with the same name are not supported.")
        return {name: values[0] for name, values in found.items()}

    def first_call(node: Any) -> Decoded | None:
        if node.type == "method_invocation":
            name = text(node.child_by_field_name("name"))
            owner = node.child_by_field_name("object")
            if owner:
                name = f"{text(owner)}.{name}"
            args = node.child_by_field_name("arguments")
            return [{name: arguments(args)}] if args else None
        for child in node.children:
            result = first_call(child)
            if result:
                return result
        return None

    return first_call(root) or {}


def decode_javascript(output: str) -> Decoded | None:
    """BFCL's decoding of a JavaScript answer: `[{name: {param: source text}}]`, or None.

    Only a call that is a top-level statement counts. String values lose their quotes.
    Raises `SyntaxError` on a parse error and `ValueError` on a repeated argument name.
    """
    source = _wrap(output)
    root = _parser("javascript").parse(bytes(source, "utf8")).root_node
    if _has_error_node(root):
        raise SyntaxError("Error js parsing the source code.")

    def arguments(node: Any) -> dict[Any, Any]:
        found: dict[Any, list[str]] = {}
        for child in node.children:
            if child.type == "assignment_expression":
                name = child.children[0].text.decode("utf-8")
                value = child.children[2].text.decode("utf-8")
                if len(value) >= 1 and value[0] == value[-1] and value[0] in "\"'":
                    value = value[1:-1]
            elif child.type in ("identifier", "true"):
                name, value = None, child.text.decode("utf-8")
            else:
                continue
            found.setdefault(name, []).append(value)
        if any(len(values) > 1 for values in found.values()):
            raise ValueError("Error: Multiple arguments with the same name are not supported.")
        return {name: values[0] for name, values in found.items()}

    if root.type != "program":
        return None
    for child in root.children:
        if child.type != "expression_statement":
            continue
        for sub in child.children:
            if sub.type == "call_expression":
                name = sub.children[0].text.decode("utf8")
                return [{name: arguments(sub.children[1])}]
    return None
