"""Answer sets: answers generated elsewhere, split into the sets that are scored each on its own.

bfcl-eval 2026.3.23 writes a model's answers to
`result/<model>/<group>/BFCL_v4_<category>_result.json` (`BaseHandler.write`): `<model>` is the
model's registry name with "/" replaced by "_", `<group>` is `non_live`, `live`, `multi_turn`,
`format_sensitivity` or `agentic` (memory categories one level deeper,
`agentic/memory/<backend>/`), and each file holds one `{"id", "result", ...}` object a line.

`answer_sets` takes the paths a user gives (the whole `result/` folder, one model folder, single
files, folders of our own `{"id", "result"}` JSONL) and makes one set per model folder found in that
layout, and one per path given for every other file, so several models are scored in one run and
the same entry id may appear once in each set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BFCL_GROUPS", "AnswerSet", "answer_sets", "response_files", "result_category"]

# utils.get_general_grouping: the folders a model's result files are sorted into.
BFCL_GROUPS = ("non_live", "live", "multi_turn", "agentic", "format_sensitivity")
# utils.extract_test_category reads the category out of the file name the same way.
_RESULT_FILE = re.compile(r"BFCL_v\d+_(\w+?)_result\.json")
_SUFFIXES = (".json", ".jsonl")


@dataclass(frozen=True)
class AnswerSet:
    """Answers scored together: their files, and the name of their output folder and table column.

    `model`: True when the set is a model folder of bfcl-eval's layout (`name` is then the folder's
    name, the model's name with "/" written "_").
    """

    name: str
    files: tuple[Path, ...]
    model: bool


def result_category(path: str | Path) -> str | None:
    """The category a bfcl-eval result file holds, from its name (`BFCL_v4_<category>_result.json`)."""
    match = _RESULT_FILE.fullmatch(Path(path).name)
    return match.group(1) if match else None


def _model_folder(file: Path) -> Path | None:
    """The model folder of a result file in bfcl-eval's layout, else None."""
    if result_category(file) is None:
        return None
    for parent in list(file.parents)[:3]:  # <group>/, or agentic/memory/<backend>/
        if parent.name in BFCL_GROUPS and parent.parent != parent:
            return parent.parent
    return None


def response_files(paths: Iterable[str | Path]) -> list[Path]:
    """The given files, and every `.json`/`.jsonl` file below the given folders, in order."""
    return [file for path in map(Path, paths) for file in _files(path)]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        if not found:
            raise FileNotFoundError(f"no .json or .jsonl files below {path}")
        return found
    if path.is_file():
        return [path]
    raise FileNotFoundError(f"no responses at {path}")


def answer_sets(paths: Iterable[str | Path]) -> list[AnswerSet]:
    """Split the given files and folders into answer sets, in the order they are first met.

    Every `.json`/`.jsonl` file below a folder is read. A result file in bfcl-eval's layout belongs
    to its model folder's set (however it was given: `result/`, `result/<model>`, the file itself);
    any other file to the set of the path it was found under, named after that path. Raises
    `FileNotFoundError` for a path that does not exist or holds no such file, `ValueError` when two
    different folders would give sets of the same name.
    """
    members: dict[Path, tuple[str, bool, list[Path]]] = {}
    for given in map(Path, paths):
        for file in _files(given):
            folder = _model_folder(file)
            key = (folder or given).resolve()
            if key not in members:
                name = folder.name if folder else (given.stem if given.is_file() else given.resolve().name)
                members[key] = (name, folder is not None, [])
            if file not in members[key][2]:
                members[key][2].append(file)
    sets: dict[str, AnswerSet] = {}
    where: dict[str, Path] = {}
    for key, (name, model, files) in members.items():
        if name in sets:
            raise ValueError(
                f"two answer sets are named {name!r}: {where[name]} and {key}; score them in separate "
                "runs (another --out) and compare the folders with `funreason compare`"
            )
        sets[name], where[name] = AnswerSet(name, tuple(files), model), key
    return list(sets.values())
