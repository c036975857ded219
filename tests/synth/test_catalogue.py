import importlib.util
import json
import re
from pathlib import Path

import pytest

from funreason.schema import normalize_tool
from funreason.synth import DOMAINS, FAMILIES
from funreason.synth.generator import dotted_name
from funreason.synth.pools import POOLS
from funreason.synth.spec import Param

SLOT = re.compile(r"\{([\w.]+)\}")


def slots_of(param: Param) -> set[str]:
    if param.type == "object":
        return {f"{param.name}.{field.name}" for field in param.properties}
    return {param.name}


def all_params():
    for fam in FAMILIES:
        for param in fam.params:
            yield fam, param
            for field in param.properties:
                yield fam, field


def test_catalogue_size_and_names():
    assert len(FAMILIES) >= 40
    assert len(DOMAINS) >= 8
    names = [f.name for f in FAMILIES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    for fam in FAMILIES:
        assert fam.description[:1].isupper() and fam.description.endswith("."), fam.name
        assert sum(p.required for p in fam.params) >= 1, fam.name


def test_every_json_type_appears():
    schemas = [p.schema() for _, p in all_params()]
    types = {s["type"] for s in schemas}
    assert types >= {"string", "integer", "number", "boolean", "array", "object"}
    assert any("enum" in s for s in schemas)
    assert {s["items"]["type"] for s in schemas if s["type"] == "array"} >= {"string", "number"}
    assert any(s["type"] == "array" and "enum" in s["items"] for s in schemas)
    assert any(not p.required and p.default is not None for _, p in all_params())
    assert any(not p.required and p.default is None for _, p in all_params())


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.name)
def test_templates_name_every_required_parameter(fam):
    required = set().union(*(slots_of(p) for p in fam.params if p.required))
    for template in fam.tasks + fam.questions:
        assert set(SLOT.findall(template)) == required, template
    for param in fam.params:
        if param.required:
            assert not param.say and param.type != "boolean", param.name
            continue
        assert param.say, f"optional {param.name} needs `say` fragments"
        phrases = param.say + param.say_false
        expected = set() if param.type == "boolean" else slots_of(param)
        assert all(set(SLOT.findall(s)) == expected for s in phrases), param.name
        if param.type == "boolean":
            assert param.say_false


def test_values_have_a_source():
    for fam, param in all_params():
        if param.type == "array" and param.enum:
            assert param.size[1] <= len(param.enum), f"{fam.name}.{param.name}"
        if param.type in ("boolean", "object") or param.enum:
            continue
        assert param.pool in POOLS, f"{fam.name}.{param.name}: unknown pool {param.pool!r}"
        if param.after:
            assert param.after in {p.name for p in fam.params}, f"{fam.name}.{param.name}"


def test_every_pool_is_used():
    used = {p.pool for _, p in all_params()}
    assert set(POOLS) <= used, f"unused pools: {sorted(set(POOLS) - used)}"


def test_catalogue_tools_are_already_normal():
    # The generator hands these to Sample without re-normalising them.
    for fam in FAMILIES:
        assert normalize_tool(fam.tool) == fam.tool


def bfcl_function_names() -> set[str]:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("bfcl_eval is not installed")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    names: set[str] = set()
    for path in [*data.glob("BFCL_v4_*.json"), *data.glob("multi_turn_func_doc/*.json")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("{\""):
                continue  # format_sensitivity.json is one indented object of ids, not JSON lines
            entry = json.loads(line)
            functions = entry.get("function", [entry])  # func docs hold one function per line
            names.update(f["name"] for f in functions if isinstance(f, dict) and "name" in f)
    assert len(names) > 1000
    return names


def test_no_name_collides_with_bfcl():
    names = {f.name for f in FAMILIES} | {dotted_name(f.name) for f in FAMILIES}
    assert names & bfcl_function_names() == set()
