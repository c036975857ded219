"""Generation with a local transformers model: batched, left-padded, KV-cached.

Prompts are rendered with the tokenizer's chat template (`add_generation_prompt=True`; the ChatML
fallback of `train.segments` when the tokenizer has none, so generation sees what training saw),
sorted by length so that rows decoded together have prompts of similar length, generated up to
`batch_size` rows at a time and handed back in the caller's order. The head all prompts of a call
share (a system prompt) is prefilled once and its KV cache copied into every prefill. Batching is
continuous: a row that finishes leaves at once and new prompts join the running rows, so answers of
unequal length (a 100-token refusal beside a 500-token parallel call) do not leave the batch to one
straggler; on a CPU the decode step costs nearly as much for 2 rows as for 20.

The decoding loop is our own rather than `model.generate`: `generate` merges the checkpoint's
`generation_config.json` (top_k, top_p, repetition penalty...) into every call, so "temperature 0.7"
would silently mean something different per model. Here greedy is argmax and sampling is softmax of
logits / temperature, nothing else. Each row carries the positions of its own tokens (pads are
masked and skipped), and a row that stops is dropped from the batch and its KV cache. The KV cache (`llm.kv_cache`) writes each step into spare room instead of
copying itself to append, as `DynamicCache` does. Batched greedy output equals one-at-a-time output
(tests check it on CPU float32; other dtypes and kernels may round differently with other shapes).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from funreason.llm.base import Generation
from funreason.llm.flops import TokenFlops, token_flops
from funreason.train.segments import CHATML_TEMPLATE

# A shorter common head of all prompts is not worth a separate forward pass.
MIN_SHARED_PREFIX = 16

# Columns of the running batch that no row attends to any more (the prompts of rows that left were
# longer) are dropped once there are this many: the copy of the cache is then worth it.
TRIM_COLUMNS = 32

# Rows x padded length of one prefill forward on the CPU (see `LocalGenerator`).
CPU_PREFILL_TOKENS = 1024

# End-of-turn / end-of-text markers of common chat templates; those the tokenizer has as one token
# stop generation, with its eos token and the model's generation_config eos ids.
STOP_TOKENS = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end_of_text|>",
    "<end_of_turn>",
    "<|end|>",
)


@dataclasses.dataclass
class GenerationStats:
    """Running totals of a generator's work: time in prefill and in decoding, and tokens."""

    prefill_s: float = 0.0
    decode_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prefill_tokens: int = 0  # prompt tokens run through the model: a shared head once per call
    prefill_flops: float = 0.0  # useful arithmetic (`llm.flops`), padding not counted
    decode_flops: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second of generation (prefill included)."""
        seconds = self.prefill_s + self.decode_s
        return self.completion_tokens / seconds if seconds else 0.0


class LocalGenerator:
    """A `Generator` over an in-memory transformers causal LM and its tokenizer.

    `batch_size`: rows decoded together at most (n samples of one prompt count as n rows).
    `max_batch_tokens`: rows x longest prompt of the prompts that join the batch at once, at most (one
    prompt alone may exceed it), so a prefill of long prompts stays small: a padded attention mask
    grows with rows x length².
    `prefill_tokens`: rows x longest prompt of one prefill forward at most (one row alone may exceed
    it); default 1024 on the CPU, where BFCL prompts prefilled 4 rows at a time ran 1.2x faster than
    16 at once, and no limit but `max_batch_tokens` on an accelerator.
    `max_context`: the model's context in tokens; default `config.max_position_embeddings`. A prompt
    longer than `max_context - max_tokens` gets a `Generation` with `error` set instead of a crash.
    Sampling (temperature > 0) draws from torch's global RNG: seed it with `torch.manual_seed`.
    `stats` adds up the time and tokens of every call.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 16,
        max_context: int | None = None,
        max_batch_tokens: int = 32768,
        prefill_tokens: int | None = None,
        name: str | None = None,
    ):
        if prefill_tokens is None:
            prefill_tokens = CPU_PREFILL_TOKENS if model.device.type == "cpu" else max_batch_tokens
        if min(batch_size, max_batch_tokens, prefill_tokens) < 1:
            raise ValueError(
                "batch_size, max_batch_tokens and prefill_tokens must be at least 1, "
                f"got {batch_size}, {max_batch_tokens}, {prefill_tokens}"
            )
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.prefill_tokens = prefill_tokens
        self.max_context = max_context or getattr(model.config, "max_position_embeddings", None)
        self.name = name or f"local:{getattr(model, 'name_or_path', '') or model.config.model_type}"
        self.stop_ids = stop_token_ids(model, tokenizer)
        try:  # for the stats only: a model of another shape is generated with, its FLOPs not counted
            self.flops: TokenFlops | None = token_flops(model.config)
        except AttributeError:
            self.flops = None
        from funreason.llm.kv_cache import cache_argument

        self._cache_argument = cache_argument(model)
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else min(self.stop_ids, default=0)
        self.stats = GenerationStats()

    async def agenerate(
        self,
        prompts: Sequence[list[dict[str, Any]]],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        n: int = 1,
    ) -> list[list[Generation]]:
        """`generate` in a worker thread, so an event loop keeps running meanwhile."""
        return await asyncio.to_thread(
            self.generate, prompts, max_tokens=max_tokens, temperature=temperature, n=n
        )

    def generate(
        self,
        prompts: Sequence[list[dict[str, Any]]],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        n: int = 1,
    ) -> list[list[Generation]]:
        """One list of `n` generations per prompt (chat messages), in prompt order.

        Greedy (temperature 0) gives `n` copies of one completion; temperature > 0 samples `n`.
        """
        results: list[list[Generation]] = [[] for _ in prompts]
        for index, generations in self.generate_stream(prompts, max_tokens=max_tokens, temperature=temperature, n=n):
            results[index] = generations
        return results

    def generate_stream(
        self,
        prompts: Sequence[list[dict[str, Any]]],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        n: int = 1,
    ) -> Iterator[tuple[int, list[Generation]]]:
        """`generate`, yielding `(prompt index, its n generations)` as each prompt finishes, so a
        caller can keep what is done while the rest runs (prompts too long for the context first)."""
        if max_tokens < 1 or n < 1 or temperature < 0:
            raise ValueError(
                f"need max_tokens >= 1, n >= 1 and temperature >= 0; got {max_tokens}, {n}, {temperature}"
            )
        return self._stream(prompts, max_tokens, temperature, n)

    def _stream(
        self, prompts: Sequence[list[dict[str, Any]]], max_tokens: int, temperature: float, n: int
    ) -> Iterator[tuple[int, list[Generation]]]:
        encoded = [self.encode(messages) for messages in prompts]
        room = None if self.max_context is None else self.max_context - max_tokens
        runnable = []
        for index, ids in enumerate(encoded):
            if room is not None and len(ids) > room:
                error = (
                    f"prompt of {len(ids)} tokens exceeds the context of {room} "
                    f"({self.max_context} positions less max_tokens={max_tokens})"
                )
                yield index, [Generation(error=error, prompt_tokens=len(ids)) for _ in range(n)]
            else:
                runnable.append(index)
        samples = n if temperature > 0 else 1
        runnable.sort(key=lambda index: len(encoded[index]))
        prefix = self._prefill_shared_prefix([encoded[i] for i in runnable])
        for index, rows in self._decode(runnable, encoded, max_tokens, temperature, samples, prefix):
            yield index, rows if samples == n else [dataclasses.replace(rows[0]) for _ in range(n)]

    def _admit(self, queue: deque[int], lengths: list[int], live: int, samples: int) -> list[int]:
        """The next prompts (shortest first) to join `live` running rows: `samples` rows each, at most
        `batch_size` rows in all, and at most `max_batch_tokens` rows x longest prompt among the new
        ones (one prompt alone may exceed it)."""
        batch: list[int] = []
        while queue:
            rows = (len(batch) + 1) * samples
            too_many = live + rows > self.batch_size and (batch or live)
            if too_many or (batch and rows * lengths[queue[0]] > self.max_batch_tokens):
                break
            batch.append(queue.popleft())
        return batch

    def encode(self, messages: list[dict[str, Any]]) -> list[int]:
        """The prompt's token ids: the chat template with the generation prompt, no extra BOS."""
        template = None if getattr(self.tokenizer, "chat_template", None) else CHATML_TEMPLATE
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, chat_template=template
        )
        # The template writes any BOS itself; tokenizing must not add a second one.
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prefill_shared_prefix(self, prompts: list[list[int]]) -> tuple[int, Any] | None:
        """The KV cache of the tokens every prompt starts with, as `(length, cache)`, if worth it.

        Chat prompts of one task share a long head (BFCL: ~250 tokens of system prompt); computing it
        once per call instead of once per prompt saves that much prefill. At least one token of each
        prompt is left out, so every prompt still has a position to take its first logits from.
        """
        if len(prompts) < 2:
            return None
        length = min(len(ids) for ids in prompts) - 1
        first = prompts[0]
        for ids in prompts[1:]:
            length = next((i for i in range(length) if ids[i] != first[i]), length)
        if length < MIN_SHARED_PREFIX:
            return None
        import torch

        from funreason.llm.kv_cache import new_cache

        started = time.perf_counter()
        with torch.inference_mode():
            ids = torch.tensor([first[:length]], dtype=torch.long, device=self.model.device)
            cache = new_cache(self.model.config)
            self._forward(cache, input_ids=ids)
        self.stats.prefill_s += time.perf_counter() - started
        self.stats.prefill_tokens += length
        self.stats.prefill_flops += self.flops.prompt(length) if self.flops else 0.0
        return length, cache

    def _forward(self, cache: Any, **inputs: Any) -> Any:
        """The logits at the last position of `inputs`; `cache` is updated in place.

        A model that took the cache under another name would swallow it and decode from the newest
        token alone: the cache must have grown by the input's length.
        """
        before = cache.get_seq_length()
        out = self.model(**inputs, **{self._cache_argument: cache}, use_cache=True, logits_to_keep=1)
        if cache.get_seq_length() != before + inputs["input_ids"].shape[1]:
            raise RuntimeError(
                f"{type(self.model).__name__}.forward did not fill the KV cache passed as "
                f"`{self._cache_argument}`: this transformers version or model wrapper is not supported"
            )
        return out.logits[:, -1]

    def _prefill(self, prompts: list[list[int]], prefix: tuple[int, Any] | None) -> tuple[Any, ...]:
        """Run the prompts through the model: `(cache, last logits, attention mask, positions)` of the batch.

        With a shared `prefix` (its length and KV cache), each row is laid out as prefix, pads, rest of the
        prompt: the pads sit in the middle, masked, and positions skip them. Rows go through the model in
        groups of at most `prefill_tokens` padded tokens, each padded only to its own longest prompt, and the
        groups' caches are stacked into one (models with sliding-window layers prefill the batch at once).
        """
        import torch

        from funreason.llm.kv_cache import full_attention, new_cache, stack_rows

        device = self.model.device
        shared = prefix[0] if prefix else 0
        width = max(len(ids) for ids in prompts) - shared
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for row, prompt in enumerate(prompts):
            rest = prompt[shared:]
            ids[row, width - len(rest) :] = torch.tensor(rest, dtype=torch.long)
            mask[row, shared + width - len(rest) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        group = max(1, self.prefill_tokens // width) if full_attention(self.model.config) else len(prompts)
        parts, logits = [], []
        for start in range(0, len(prompts), group):
            rows = slice(start, start + group)
            skip = width + shared - max(len(prompt) for prompt in prompts[rows])  # columns of pads only
            if prefix is None:
                cache = new_cache(self.model.config)
            else:
                cache = copy.deepcopy(prefix[1])
                cache.batch_repeat_interleave(len(prompts[rows]))
            logits.append(
                self._forward(
                    cache,
                    input_ids=ids[rows, skip:],
                    attention_mask=torch.cat([mask[rows, :shared], mask[rows, shared + skip :]], dim=1),
                    position_ids=positions[rows, skip:],
                )
            )
            parts.append(cache)
        cache = parts[0] if len(parts) == 1 else stack_rows(parts, shared, width)
        return cache, torch.cat(logits), mask, positions

    def _decode(
        self,
        order: list[int],
        encoded: list[list[int]],
        max_tokens: int,
        temperature: float,
        samples: int,
        prefix: tuple[int, Any] | None,
    ) -> Iterator[tuple[int, list[Generation]]]:
        """Decode the prompts `order` (indices into `encoded`, shortest first) with continuous batching.

        Rows run together until each stops or reaches `max_tokens`; a finished row leaves the batch at
        once, and when at least a quarter of the batch is free (or it is empty) the next prompts are
        prefilled and join the running rows, their own columns right-aligned after the shared head, so
        the batch stays full however unequal the answers' lengths. Models with sliding-window layers
        (transformers' own cache) only start a new batch when the last one has finished. Yields
        `(prompt index, its samples' generations)` as each prompt finishes.
        """
        import torch

        from funreason.llm.kv_cache import drop_columns, full_attention, stack_rows

        device = self.model.device
        stop = torch.tensor(sorted(self.stop_ids), dtype=torch.long, device=device)
        shared = prefix[0] if prefix else 0
        joinable = full_attention(self.model.config)
        lengths = [len(ids) for ids in encoded]
        queue, refill = deque(order), max(samples, self.batch_size // 4)
        owner: list[int] = []  # the prompt of each running row
        tokens: list[list[int]] = []  # what each running row generated so far
        finished: dict[int, list[Generation]] = {}
        cache = logits = mask = last = None
        while queue or owner:
            # Inference mode for each step only: a caller works between the yields in its own mode.
            with torch.inference_mode():
                if queue and (not owner or (joinable and self.batch_size - len(owner) >= refill)):
                    batch = self._admit(queue, lengths, len(owner), samples)
                    started = time.perf_counter()
                    fresh, new_logits, new_mask, positions = self._prefill([encoded[i] for i in batch], prefix)
                    if samples > 1:  # prefill each prompt once, then fork its cache into the samples
                        fresh.batch_repeat_interleave(samples)
                        new_logits, new_mask, positions = (
                            t.repeat_interleave(samples, dim=0) for t in (new_logits, new_mask, positions)
                        )
                    if owner:
                        width = max(cache.get_seq_length(), fresh.get_seq_length()) - shared
                        cache = stack_rows([cache, fresh], shared, width)
                        mask = torch.cat([_right_align(m, shared, shared + width) for m in (mask, new_mask)])
                        logits, last = torch.cat([logits, new_logits]), torch.cat([last, positions[:, -1]])
                    else:
                        cache, logits, mask, last = fresh, new_logits, new_mask, positions[:, -1]
                    owner += [index for index in batch for _ in range(samples)]
                    tokens += [[] for _ in range(len(batch) * samples)]
                    self._count_prefill([encoded[i] for i in batch], shared, time.perf_counter() - started)
                started = time.perf_counter()
                chosen = _pick(logits, temperature)
                stopped = torch.isin(chosen, stop).tolist()
                keep = []
                for row, token in enumerate(chosen.tolist()):
                    tokens[row].append(token)
                    if stopped[row] or len(tokens[row]) >= max_tokens:
                        generation = self._generation(tokens[row], "stop" if stopped[row] else "length",
                                                      lengths[owner[row]])  # fmt: skip
                        finished.setdefault(owner[row], []).append(generation)
                        self._count_decode(lengths[owner[row]], len(tokens[row]))
                    else:
                        keep.append(row)
                if len(keep) < len(owner):
                    rows = torch.tensor(keep, dtype=torch.long, device=device)
                    if keep:
                        cache.batch_select_indices(rows)
                    else:
                        cache = None  # free it before the next prefill
                    chosen, mask, last = chosen[rows], mask[rows], last[rows]
                    owner, tokens = [owner[row] for row in keep], [tokens[row] for row in keep]
                    if keep and joinable:  # columns no remaining row uses (the left rows' longer prompts)
                        unused = int(mask[:, shared:].any(0).int().argmax())
                        if unused >= TRIM_COLUMNS:
                            drop_columns(cache, shared, shared + unused)
                            mask = torch.cat([mask[:, :shared], mask[:, shared + unused :]], dim=1)
                if owner:
                    mask = torch.cat([mask, mask.new_ones((len(owner), 1))], dim=1)
                    last = last + 1
                    logits = self._forward(
                        cache, input_ids=chosen[:, None], attention_mask=mask, position_ids=last[:, None]
                    )
                self.stats.decode_s += time.perf_counter() - started
            for index in [index for index, rows in finished.items() if len(rows) == samples]:
                yield index, finished.pop(index)

    def _count_prefill(self, prompts: list[list[int]], shared: int, seconds: float) -> None:
        self.stats.prefill_s += seconds
        self.stats.prompt_tokens += sum(len(prompt) for prompt in prompts)
        self.stats.prefill_tokens += sum(len(prompt) - shared for prompt in prompts)
        if self.flops:
            self.stats.prefill_flops += sum(self.flops.prompt(len(prompt) - shared, shared) for prompt in prompts)

    def _count_decode(self, prompt_tokens: int, generated: int) -> None:
        self.stats.completion_tokens += generated
        if self.flops:  # each generated token but the last was fed back: one decode step each
            self.stats.decode_flops += self.flops.decode(prompt_tokens, max(generated - 1, 0))

    def _generation(self, tokens: list[int], finish_reason: str, prompt_tokens: int) -> Generation:
        kept = tokens[:-1] if finish_reason == "stop" else tokens
        kept = [token for token in kept if token != self.pad_id]
        return Generation(
            text=self.tokenizer.decode(kept, skip_special_tokens=False),
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
        )


def _right_align(mask: Any, head: int, width: int) -> Any:
    """A `[rows, length]` attention mask widened to `width` columns: zeros inserted after the first
    `head` (the shared prompt head), so each row's own columns end at the last one."""
    import torch

    pad = mask.new_zeros((mask.shape[0], width - mask.shape[1]))
    return torch.cat([mask[:, :head], pad, mask[:, head:]], dim=1)


def _pick(logits: Any, temperature: float) -> Any:
    """Greedy argmax, or one draw from softmax(logits / temperature)."""
    import torch

    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    return torch.multinomial(probs, 1).squeeze(1)


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Token ids that end a completion: eos (tokenizer and generation_config) and end-of-turn markers."""
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None)
    ids.update([eos] if isinstance(eos, int) else (eos or []))
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in STOP_TOKENS if token in vocab)
    return ids
