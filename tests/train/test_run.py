"""Reading a training file: what is trained, what the length filter skips, what is rejected."""

from __future__ import annotations

import json

from funreason.records import write_jsonl
from funreason.synth import generate
from funreason.train.run import encode_samples


def test_a_sample_that_cannot_be_rendered_is_a_counted_reject_not_a_crash(smollm2_tokenizer, tmp_path):
    calls = [s for s in generate(40, seed=3) if s.shape == "simple"][:3]
    good, long, broken = calls
    long = long.model_copy(update={"reasoning": "word " * 3000})
    # A model's own answer with a second think block inside its reasoning (seen in self-refinement).
    broken = broken.model_copy(update={"reasoning": "First thought.\n<think>\nSecond thought."})
    data = tmp_path / "train.jsonl"
    write_jsonl(data, [good, long, broken])

    encoded, shapes, rejected = encode_samples(data, smollm2_tokenizer, 1536, tmp_path / "out")

    assert len(encoded) == 1 and rejected == 1
    assert shapes == {"simple": {"trained": 1, "skipped": 1}}
    [row] = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert broken.id in row["where"] and "<think>" in row["error"]
    [skipped] = [json.loads(line) for line in (tmp_path / "out" / "skipped.jsonl").read_text().splitlines()]
    assert skipped["id"] == long.id
