"""Read a YAML (or JSON) config file safely: bounded in size and alias expansion, errors as one line.

PyYAML's `safe_load` builds no Python objects from tags, but it expands aliases without limit (a
"billion laughs" file of nested aliases takes all memory) and its errors are multi-line tracebacks.
`load_config_file` composes the YAML tree first, counts every node the loaded value would hold
(each alias counted for the size of what it points to), and only then constructs plain values; a
file over the limits, a syntax error or a python tag is a `ValueError` naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 4 << 20  # 4 MiB: configs are hand-written, a few KB
MAX_NODES = 100_000  # scalars, sequences and mappings of the loaded value, aliases expanded


class _Loader(yaml.SafeLoader):
    """SafeLoader: plain YAML types only (`!!python/...` tags are a `ConstructorError`)."""


def load_config_file(path: str | Path, *, max_nodes: int = MAX_NODES) -> Any:
    """The plain value (dicts, lists, scalars) a YAML/JSON config file holds; None when empty.

    Raises `ValueError` with `file:line` on a syntax error, a tag outside plain YAML, more than
    `max_nodes` nodes once aliases are expanded, or a file over `MAX_BYTES`; `FileNotFoundError` if
    there is no file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{path}: {size:,} bytes is too large for a config file (limit {MAX_BYTES:,})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        count = _expanded_size(node, {}, max_nodes)
        if count > max_nodes:
            raise ValueError(
                f"{path}: the config expands to more than {max_nodes:,} values (nested aliases?); refused"
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ValueError(f"{where}: {what or 'not valid YAML'}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a config") from None
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, seen: dict[int, int], limit: int) -> int:
    """How many nodes `node` stands for once aliases are expanded; stops counting past `limit`.

    An alias is the same node object as its anchor, so each node's size is computed once (`seen`)
    and reused: the count is exact and takes time linear in the file, whatever the expansion.
    """
    known = seen.get(id(node))
    if known is not None:
        return known
    seen[id(node)] = limit + 1  # a node inside itself (a recursive alias) counts as too large
    total = 1
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        total += _expanded_size(child, seen, limit)
        if total > limit:
            break
    seen[id(node)] = total
    return total
