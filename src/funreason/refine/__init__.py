"""FCDR, the paper's function-call data refinement: five staged checks by pluggable judges.

    >>> from funreason.refine import make_judge, refine
    >>> summary = refine("data.jsonl", "out/", make_judge("rules"))

With a teacher that rewrites stage 4-5 failures (`TeacherRegenerator` over any `Generator`):

    >>> from funreason.llm.endpoint import EndpointGenerator
    >>> teacher = TeacherRegenerator(EndpointGenerator("http://localhost:8000/v1", "Qwen/QwQ-32B"))
    >>> summary = refine("data.jsonl", "out/", make_judge("hybrid", endpoint=..., model=...), regenerator=teacher)
"""

from funreason.refine.judges import JUDGES, STAGES, Judge, Judgement, make_judge, register
from funreason.refine.pipeline import RefineSummary, arefine, refine
from funreason.refine.stages import Regeneration, Regenerator
from funreason.refine.teacher import TeacherRegenerator

__all__ = ["JUDGES", "STAGES", "Judge", "Judgement", "RefineSummary", "Regeneration", "Regenerator",
           "TeacherRegenerator", "arefine", "make_judge", "refine", "register"]
