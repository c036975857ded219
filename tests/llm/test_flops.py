"""FLOPs per token against counts done by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from funreason.llm.flops import token_flops

SMOLLM2_135M = SimpleNamespace(
    hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
    num_key_value_heads=3, vocab_size=49152,
)  # fmt: skip


def test_smollm2_135m_by_hand():
    flops = token_flops(SMOLLM2_135M)
    q_o = 2 * 576 * 576 * 2  # q and o projections: 576 x 576 each
    k_v = 2 * 576 * 192 * 2  # k and v: 3 heads of 64
    mlp = 2 * 576 * 1536 * 3
    assert flops.fixed == 30 * (q_o + k_v + mlp) + 2 * 576 * 49152
    assert flops.fixed == pytest.approx(2 * 134.5e6, rel=0.01)  # 2 x the parameters, embeddings tied
    assert flops.per_context == 30 * 4 * 9 * 64


def test_prompt_and_decode_sum_their_tokens():
    flops = token_flops(SMOLLM2_135M)
    # Three prompt tokens after two cached ones attend to 3, 4 and 5 positions.
    assert flops.prompt(3, cached=2) == pytest.approx(sum(flops.of(c) for c in (3, 4, 5)))
    # Two decode steps after a context of 10 attend to 11 and 12 positions.
    assert flops.decode(10, 2) == pytest.approx(flops.of(11) + flops.of(12))
    assert flops.prompt(0) == flops.decode(5, 0) == 0
