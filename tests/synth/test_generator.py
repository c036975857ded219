from collections import Counter
from typing import Any

import pytest

from funreason.records import Sample
from funreason.schema import validate_calls
from funreason.synth import DEFAULT_MIX, FAMILIES, SHAPES, generate
from funreason.synth.catalogue import BY_NAME
from funreason.synth.generator import dotted_name


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return list(generate(2000, seed=11))


def dumps(samples):
    return [s.model_dump(mode="json") for s in samples]


def test_same_seed_same_samples_and_prefixes():
    assert dumps(generate(150, seed=3)) == dumps(generate(150, seed=3))
    assert dumps(generate(40, seed=3)) == dumps(generate(150, seed=3))[:40]
    assert dumps(generate(50, seed=4)) != dumps(generate(50, seed=3))


def test_record_fields(samples):
    assert samples[5].id == "synth-11-5"
    assert len({s.id for s in samples}) == len(samples)
    for s in samples[:200]:
        assert s.source == "synth"
        assert s.messages == [{"role": "user", "content": s.query}]
        assert s.reasoning
    # What a later stage reads back from JSONL is exactly what was generated.
    for s in samples[:300]:
        assert Sample.model_validate(s.model_dump(mode="json")) == s


def test_every_call_validates_against_its_tools(samples):
    for s in samples:
        if s.is_call:
            assert validate_calls(s.calls, s.tools) == [], s.id


def test_shape_mix(samples):
    counts = Counter(s.shape for s in samples)
    assert set(counts) == set(SHAPES)
    for shape, weight in DEFAULT_MIX.items():
        assert abs(counts[shape] / len(samples) - weight) < 0.05, (shape, counts)
    for s in samples:
        assert s.meta["shape"] == s.shape


def test_mix_is_configurable():
    assert {s.shape for s in generate(30, seed=0, mix={"parallel": 1})} == {"parallel"}
    assert {s.shape for s in generate(30, seed=0, mix={"irrelevance": 2, "simple": 0})} == {"irrelevance"}
    with pytest.raises(ValueError, match="unknown shape"):
        generate(1, mix={"parallell": 1})
    with pytest.raises(ValueError, match="positive sum"):
        generate(1, mix={"simple": 0})


def test_shapes_offer_the_right_tools(samples):
    for s in samples:
        called = {c.name for c in s.calls}
        offered = [t["name"] for t in s.tools]
        assert len(set(offered)) == len(offered)
        assert called <= set(offered)
        if s.shape in ("multiple", "parallel_multiple"):
            assert len(offered) > 1
        if s.shape == "parallel":
            assert len(s.calls) > 1 and len(called) == 1
            assert all(s.calls[0] != c for c in s.calls[1:])


def family(name: str):
    """The catalogue family of a tool name, written `domain_method` or `domain.method`."""
    return BY_NAME[name.replace(".", "_", 1)]


def test_every_family_is_used_under_both_names(samples):
    used = {c.name for s in samples for c in s.calls}
    assert {family(name).name for name in used} == {f.name for f in FAMILIES}
    dotted = [s for s in samples if s.tools and "." in s.tools[0]["name"]]
    assert 0.4 < len(dotted) / len(samples) < 0.6
    for s in dotted:
        assert all(t["name"] == dotted_name(family(t["name"]).name) for t in s.tools)
        assert all("." in c.name for c in s.calls)


def test_some_parallel_requests_name_every_value_in_one_sentence(samples):
    merged = []
    for s in samples:
        if s.shape != "parallel" or "\n" in s.query:
            continue
        differing = {k for c in s.calls for k, v in c.arguments.items() if v != s.calls[0].arguments.get(k)}
        if len(differing) == 1 and len({tuple(c.arguments) for c in s.calls}) == 1:
            merged.append(s)
    assert len(merged) > 0.25 * sum(s.shape == "parallel" for s in samples)
    (key,) = {k for c in merged[0].calls for k, v in c.arguments.items() if v != merged[0].calls[0].arguments[k]}
    values = [str(c.arguments[key]) for c in merged[0].calls]
    assert ", ".join(values[:-1]) + " and " + values[-1] in merged[0].query


def leaves(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def test_every_argument_value_is_derivable_from_the_query(samples):
    for s in samples:
        query = s.query.lower()
        for call in s.calls:
            properties = family(call.name).tool["parameters"]["properties"]
            for name, value in call.arguments.items():
                schema = properties[name]
                allowed = schema.get("enum") or schema.get("items", {}).get("enum") or []
                for leaf in leaves(value):
                    if isinstance(leaf, bool) or leaf in allowed or leaf == schema.get("default"):
                        continue
                    assert str(leaf).lower() in query, (s.id, call.name, name, leaf, s.query)


def test_optional_parameters_are_sometimes_set(samples):
    given = Counter()
    for s in samples:
        for call in s.calls:
            for param in family(call.name).params:
                if not param.required:
                    given[param.name in call.arguments] += 1
    assert 0.35 < given[True] / (given[True] + given[False]) < 0.65


def test_irrelevance_offers_other_tools_mostly_of_the_same_domain(samples):
    irrelevant = [s for s in samples if s.shape == "irrelevance"]
    assert irrelevant
    same_domain = 0
    for s in irrelevant:
        assert isinstance(s.answer, str) and s.answer
        needed = BY_NAME[s.meta["needs"]]
        offered = [family(t["name"]) for t in s.tools]
        assert needed not in offered
        domains = {f.domain == needed.domain for f in offered}
        assert len(domains) == 1  # all siblings of the request's family, or all from elsewhere
        same_domain += domains == {True}
        assert all(f"`{t['name']}`" in s.answer for t in s.tools)
        assert "needs a tool that can" in s.reasoning
    assert 0.5 < same_domain / len(irrelevant) < 0.7
