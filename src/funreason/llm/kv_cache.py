"""A KV cache that writes each decoded token into spare room instead of concatenating.

transformers' `DynamicCache` appends a step's keys and values with `torch.cat`, which copies the
layer's whole cache every step: at batch 16 over ~450 cached tokens that copying was 42% of a CPU
decode step of SmolLM2-135M (torch profiler). A `RoomyLayer` keeps its keys and values in a buffer
with room to spare along the sequence and grows it by half when full, so a step writes only its
own token and the copies amortise to a constant per token. The model sees views of the filled part.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer

# Room to add at least, in tokens, when a buffer grows: a short prompt should not regrow every few tokens.
MIN_ROOM = 64


class RoomyLayer(DynamicLayer):
    """One layer's keys and values, `[batch, heads, seq, head_dim]`, in buffers with spare seq room."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.length = 0
        self._keys: torch.Tensor | None = None
        self._values: torch.Tensor | None = None

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new states after the cached ones; all cached states, as views."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if self._keys is None or end > self._keys.shape[-2]:
            keys, values = _room(key_states, end), _room(value_states, end)
            if self.length:
                keys[..., : self.length, :] = self.keys
                values[..., : self.length, :] = self.values
            self._keys, self._values = keys, values
        self._keys[..., self.length : end, :] = key_states
        self._values[..., self.length : end, :] = value_states
        self.length = end
        self._expose()
        return self.keys, self.values

    def _expose(self) -> None:
        self.keys = self._keys[..., : self.length, :]
        self.values = self._values[..., : self.length, :]

    def get_seq_length(self) -> int:
        return self.length

    def reset(self) -> None:
        self.length = 0
        self._keys = self._values = None
        super().reset()

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self._keys is not None:
            self._keys = self._keys.repeat_interleave(repeats, dim=0)
            self._values = self._values.repeat_interleave(repeats, dim=0)
            self._expose()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self._keys is not None:
            self._keys = self._keys[indices, ...]
            self._values = self._values[indices, ...]
            self._expose()

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        if self._keys is not None:
            self.batch_select_indices(beam_idx.to(self._keys.device))

    def crop(self, tokens_to_remove: int) -> None:
        """Forget the last `-tokens_to_remove` positions (transformers' convention: a negative count)."""
        if tokens_to_remove > 0:
            raise ValueError(f"crop takes a negative count of positions to remove, got {tokens_to_remove}")
        if self._keys is not None and tokens_to_remove:
            self.length = max(self.length + tokens_to_remove, 0)
            self._expose()

    def drop_columns(self, start: int, stop: int) -> None:
        """Forget positions `start..stop-1` of every row, moving the later ones down (the buffer keeps
        its room)."""
        if self._keys is None or stop <= start:
            return
        tail = self.length - stop
        for buffer in (self._keys, self._values):
            buffer[..., start : start + tail, :] = buffer[..., stop : self.length, :].clone()
        self.length -= stop - start
        self._expose()

    def offload(self) -> None:
        raise NotImplementedError("RoomyLayer does not offload; use transformers' DynamicCache for that")

    prefetch = offload


def _room(like: torch.Tensor, length: int, rows: int | None = None) -> torch.Tensor:
    """A zeroed buffer shaped like `like` (with `rows` rows) for `length` positions and room to grow."""
    capacity = length + max(length // 2, MIN_ROOM)
    return like.new_zeros((rows or like.shape[0], *like.shape[1:-2], capacity, like.shape[-1]))


class RoomyCache(DynamicCache):
    """A `DynamicCache` whose layers are `RoomyLayer`s, created as the model first writes to them."""

    def __init__(self) -> None:
        Cache.__init__(self, layer_class_to_replicate=RoomyLayer)


def cache_argument(model: Any) -> str:
    """The name of the model's forward argument for the KV cache: transformers 5.24 renamed
    `past_key_values` to `cache` (the old name warns, and goes in 5.40); earlier 5.x know only the old.

    Wrappers whose forward takes `**kwargs` are looked through: PEFT, torch.compile, DDP.
    """
    while True:
        inner = getattr(model, "get_base_model", None)
        inner = inner() if inner else getattr(model, "_orig_mod", None) or getattr(model, "module", None)
        if inner is None or inner is model:
            break
        model = inner
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def full_attention(config: Any) -> bool:
    """Whether every layer of the model attends to the whole sequence (no sliding window or other kind)."""
    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=config).layers)


def new_cache(config: Any) -> DynamicCache:
    """A `RoomyCache` for a full-attention model; otherwise transformers' `DynamicCache`, which knows the
    rules of sliding-window and other special layers."""
    return RoomyCache() if full_attention(config) else DynamicCache(config=config)


def drop_columns(cache: RoomyCache, start: int, stop: int) -> None:
    """`RoomyLayer.drop_columns` on every layer of `cache`."""
    for layer in cache.layers:
        layer.drop_columns(start, stop)


def stack_rows(parts: list[RoomyCache], head: int, width: int) -> RoomyCache:
    """One cache of the rows of all `parts`, laid out as `head` positions, then `width` right-aligned ones.

    Each part holds `head` positions its rows share (a prompt head) and then its own left-padded columns, as
    prefilling a group of rows leaves them; a narrower part gets zeros in the middle, which the attention mask
    must hide, as it hides the pads inside a part.
    """
    stacked = RoomyCache()
    end = head + width
    for layers in zip(*(part.layers for part in parts), strict=True):
        rows = sum(layer.keys.shape[0] for layer in layers)
        merged = RoomyLayer()
        merged.lazy_initialization(layers[0].keys, layers[0].values)
        merged._keys, merged._values = _room(layers[0].keys, end, rows), _room(layers[0].values, end, rows)
        row = 0
        for layer in layers:
            count, own = layer.keys.shape[0], layer.length - head
            for buffer, states in ((merged._keys, layer.keys), (merged._values, layer.values)):
                buffer[row : row + count, ..., :head, :] = states[..., :head, :]
                buffer[row : row + count, ..., end - own : end, :] = states[..., head:, :]
            row += count
            layer.reset()  # copied: free it now, so at most one layer's parts and copy coexist
        merged.length = end
        merged._expose()
        stacked.layers.append(merged)
    return stacked
