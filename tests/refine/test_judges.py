"""The judge registry: kinds by name, typed options that reject unknown keys."""

import pytest

from funreason.refine import JUDGES, STAGES, make_judge, register
from funreason.refine.judges import check_stage
from funreason.refine.rules import VERSION, RulesJudge


def test_make_judge_builds_registered_kinds_with_checked_options():
    rules = make_judge("rules", syntax="json")
    assert isinstance(rules, RulesJudge)
    assert (rules.name, rules.version) == ("rules", f"{VERSION}:json")
    assert JUDGES["rules"] is RulesJudge
    with pytest.raises(ValueError, match=r"unknown judge 'oracle'; use one of .*rules"):
        make_judge("oracle")
    with pytest.raises(ValueError, match=r"rules judge options: synax: Extra inputs .*\(known: syntax\)"):
        make_judge("rules", synax="json")
    with pytest.raises(ValueError, match="rules judge options: syntax"):
        make_judge("rules", syntax="yaml")


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register("rules")(type("Other", (), {}))
    assert register("rules")(RulesJudge) is RulesJudge  # the same class again is fine


def test_stages_are_the_papers_five():
    assert STAGES == ("response", "query_tool", "reasoning", "function_params", "format")
    check_stage("format")
    with pytest.raises(ValueError, match="unknown FCDR stage 'style'"):
        check_stage("style")
