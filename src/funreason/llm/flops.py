"""How much arithmetic a decoder-only transformer does per token, to compare a generator with the machine.

Counts multiply-adds as 2 FLOPs, forward pass only, for LLaMA-style models (the shape of SmolLM2,
Qwen2, Llama): per layer the q/k/v/o projections, a gated MLP (three matrices), and attention over
`context` positions (scores and the weighted sum of values, 2·2·heads·head_dim each); then the output
layer. Norms, rotary embeddings and softmax are left out (a few percent at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenFlops:
    """FLOPs of one token: `fixed` (the matrices) plus `per_context` times the positions it attends to."""

    fixed: float
    per_context: float

    def of(self, context: float) -> float:
        return self.fixed + self.per_context * context

    def prompt(self, new: int, cached: int = 0) -> float:
        """`new` prompt tokens after `cached` ones, each attending to everything before it and itself."""
        attended = new * cached + new * (new + 1) / 2
        return self.fixed * new + self.per_context * attended

    def decode(self, context: int, steps: int) -> float:
        """`steps` generated tokens, the first attending to `context + 1` positions, each next one more."""
        attended = steps * (context + 1) + steps * (steps - 1) / 2
        return self.fixed * steps + self.per_context * attended


def token_flops(config: Any) -> TokenFlops:
    """`TokenFlops` of a transformers config (`hidden_size`, `intermediate_size`, `num_hidden_layers`,
    `num_attention_heads`, `num_key_value_heads`, `vocab_size`, optional `head_dim`)."""
    hidden, layers, heads = config.hidden_size, config.num_hidden_layers, config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    projections = 2 * hidden * head_dim * (2 * heads + 2 * kv_heads)  # q and o; k and v
    mlp = 2 * 3 * hidden * config.intermediate_size
    head = 2 * hidden * config.vocab_size
    return TokenFlops(fixed=layers * (projections + mlp) + head, per_context=layers * 4 * heads * head_dim)
