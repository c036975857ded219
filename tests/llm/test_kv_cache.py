import warnings

import pytest
import torch
from transformers import DynamicCache, MistralConfig, Qwen2Config

from funreason.llm.kv_cache import (
    MIN_ROOM,
    RoomyCache,
    RoomyLayer,
    cache_argument,
    full_attention,
    new_cache,
    stack_rows,
)


def states(rows: int, length: int, *, start: float = 0.0) -> torch.Tensor:
    """[rows, 2 heads, length, 3] of distinct values, so a misplaced position shows."""
    count = rows * 2 * length * 3
    return torch.arange(start, start + count).reshape(rows, 2, length, 3)


def test_updates_write_into_room_and_grow_by_half():
    layer = RoomyLayer()
    first, second = states(2, 200), states(2, 1, start=1e4)
    keys, values = layer.update(first, -first)
    assert torch.equal(keys, first) and torch.equal(values, -first)
    buffer = layer._keys
    assert buffer.shape[-2] == 300
    for step in range(100):
        keys, _ = layer.update(second + step, second)
    assert layer._keys is buffer  # no copy while there is room
    assert layer.get_seq_length() == 300
    keys, values = layer.update(second, second)  # full: grows by half of the new length
    assert layer._keys is not buffer and layer._keys.shape[-2] == 301 + 150
    expected = torch.cat([first, *(second + step for step in range(100)), second], dim=-2)
    assert torch.equal(keys, expected)
    short = RoomyLayer()
    short.update(states(1, 4), states(1, 4))
    assert short._keys.shape[-2] == 4 + MIN_ROOM  # at least MIN_ROOM of room


def test_row_selection_and_repetition_keep_the_layout():
    layer = RoomyLayer()
    layer.update(states(3, 4), states(3, 4))
    layer.batch_select_indices(torch.tensor([2, 0]))
    assert torch.equal(layer.keys, states(3, 4)[[2, 0]])
    layer.batch_repeat_interleave(2)
    assert torch.equal(layer.values, states(3, 4)[[2, 2, 0, 0]])
    keys, _ = layer.update(states(4, 1), states(4, 1))
    assert torch.equal(keys[:, :, -1:], states(4, 1)) and layer.get_seq_length() == 5
    layer.crop(-2)
    assert layer.get_seq_length() == 3 and torch.equal(layer.keys, states(3, 4)[[2, 2, 0, 0]][:, :, :3])
    keys, _ = layer.update(states(4, 1, start=-9.0), states(4, 1))
    assert torch.equal(keys[:, :, 3:], states(4, 1, start=-9.0)) and layer.get_seq_length() == 4
    layer.reset()
    assert layer.get_seq_length() == 0 and layer.keys is None


def test_drop_columns_forgets_a_middle_span_and_keeps_the_rest_in_order():
    layer = RoomyLayer()
    layer.update(states(2, 6), states(2, 6))
    layer.drop_columns(1, 4)
    expected = states(2, 6)[:, :, [0, 4, 5]]
    assert layer.get_seq_length() == 3 and torch.equal(layer.keys, expected) and torch.equal(layer.values, expected)
    keys, _ = layer.update(states(2, 1, start=-7.0), states(2, 1))
    assert torch.equal(keys[:, :, -1:], states(2, 1, start=-7.0)) and layer.get_seq_length() == 4


def test_stack_rows_keeps_the_head_and_right_aligns_the_rest():
    head = 2
    parts = []
    for rows, length, start in ((1, head + 3, 0.0), (2, head + 1, 500.0)):
        cache = RoomyCache()
        cache.update(states(rows, length, start=start), states(rows, length, start=start), 0)
        parts.append(cache)
    stacked = stack_rows(parts, head=head, width=3)
    assert all(part.get_seq_length() == 0 for part in parts)  # freed once copied
    keys = stacked.layers[0].keys
    assert keys.shape == (3, 2, head + 3, 3) and stacked.get_seq_length() == head + 3
    assert torch.equal(keys[:1], states(1, head + 3))
    narrow = states(2, head + 1, start=500.0)
    assert torch.equal(keys[1:, :, :head], narrow[:, :, :head])
    assert torch.equal(keys[1:, :, -1:], narrow[:, :, head:])
    assert not keys[1:, :, head : head + 2].any()  # the middle the narrower part lacks: zeros, masked


def test_a_model_decodes_the_same_with_roomy_and_dynamic_caches(tiny_lm):
    model = tiny_lm(97, max_position_embeddings=512)
    prompt = torch.randint(0, 97, (3, 12), generator=torch.Generator().manual_seed(1))
    runs = []
    for cache in (RoomyCache(), DynamicCache()):
        logits = []
        passing = {cache_argument(model): cache, "use_cache": True}
        with torch.inference_mode():
            out = model(input_ids=prompt, **passing)
            for _ in range(MIN_ROOM + 20):  # past the first buffer's room: one growth on the way
                logits.append(out.logits[:, -1])
                out = model(input_ids=out.logits[:, -1:].argmax(-1), **passing)
        runs.append(torch.stack(logits))
    roomy, dynamic = runs
    torch.testing.assert_close(roomy, dynamic, rtol=1e-5, atol=1e-5)
    assert torch.equal(roomy.argmax(-1), dynamic.argmax(-1))


def test_the_cache_goes_by_the_name_forward_takes(tiny_lm):
    model = tiny_lm(97)
    cache = RoomyCache()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("error", FutureWarning)  # no deprecated name, on whichever transformers
        model(input_ids=torch.tensor([[1, 2, 3]]), **{cache_argument(model): cache}, use_cache=True)
    assert cache.get_seq_length() == 3


class Renamed:
    """A model whose forward takes the cache as `cache`, as transformers 5.24's do."""

    def forward(self, input_ids=None, cache=None): ...


class Wrapper:
    """A wrapper whose forward takes anything, as PEFT, torch.compile and DDP wrappers do."""

    def __init__(self, **inner):
        self.__dict__.update(inner)

    def forward(self, *args, **kwargs): ...


def test_wrappers_are_looked_through_for_the_cache_name():
    inner = Renamed()
    assert cache_argument(inner) == "cache"
    assert cache_argument(Wrapper()) == "past_key_values"
    peft = Wrapper(get_base_model=lambda: inner)
    assert cache_argument(peft) == cache_argument(Wrapper(_orig_mod=peft)) == cache_argument(Wrapper(module=inner))
    assert cache_argument(peft) == "cache"


@pytest.mark.parametrize(
    ("config", "roomy"),
    [
        (Qwen2Config(num_hidden_layers=2), True),
        (Qwen2Config(num_hidden_layers=2, use_sliding_window=True, sliding_window=16, max_window_layers=0), False),
        (MistralConfig(num_hidden_layers=2, sliding_window=16), False),
    ],
)
def test_sliding_window_models_keep_transformers_cache(config, roomy):
    assert full_attention(config) is roomy
    assert isinstance(new_cache(config), RoomyCache) is roomy
