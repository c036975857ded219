"""One render, one truth: a `Sample` becomes token ids, labels and per-token segment ids.

The chat is the BFCL prompting setup — a system prompt listing the tools (`system_prompt_for`: BFCL's
default wording around the tools written as BFCL writes its function docs, `"dict"`/`"float"` type
names and the Python language note included, so the model trains on the prompt it is evaluated
with), the sample's messages, then the target
assistant turn `<think>\\n{reasoning}\\n</think>\\n\\n{answer}` (`calls.format_turn`). The tokenizer's own
chat template renders it to text (a plain ChatML template stands in when it has none); the text is
tokenized once with character offsets, and each token gets the segment of its first character
(DESIGN.md, "Training target and segments"):

- `THINK` (1): from `<think>` through `</think>`;
- `RESULT` (2): everything after `</think>` in that assistant turn, through the template's end-of-turn
  token (e.g. `<|im_end|>`) — the model learns to stop after the call;
- `NONE` (0): everything else (system prompt, tools, user turns, tool results); label -100.

Every assistant turn is trained, earlier ones in `sample.messages` included, except in a sample a
conversation reader split off (`meta["conversation"]`): its earlier turns are samples of their own,
so only its target turn is trained (each turn once). The target's answer is
the canonical call text (python syntax, JSON for calls python cannot write, such as an argument
named `from`: `calls.writable_syntax`), or the text as written where the sample keeps it
(`target_answer`). `labels` and `segment_ids` are aligned with `input_ids`, unshifted (the model
shifts, as in transformers).

Finding the turns in the rendered text. Each assistant turn is rendered by us (`format_turn`) and
handed to the template as plain `content`; the template only wraps it. Where the conversation up to
a turn, rendered with the generation prompt, is a prefix of the full render (true of ordinary
templates), the turn must start right there — an exact anchor. Otherwise turns are searched from
the end of the text backwards: the target turn is the last occurrence of its text, each earlier
turn the last occurrence before the next one (after its anchor, if known). Some templates rewrite
assistant content — Qwen3's moves the reasoning out of `<think>` and drops it for turns before the
last user query. When a turn's exact text is not in the render, its answer text is searched
instead: if the template put a `<think>…</think>` block right before it (only whitespace between),
that block is the think segment; otherwise the turn is trained as result only, because that is what
the model will see. The end of turn is the first special token after the answer (whitespace between
is included); a template that closes turns without a special token is refused with an error.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any, Literal, TypedDict, get_args

from funreason import calls
from funreason.evaluate import bfcl
from funreason.records import CONVERSATION, RAW_ANSWER, Sample, ToolCall

NONE, THINK, RESULT = 0, 1, 2
IGNORE_INDEX = -100
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

# Used when the tokenizer has no chat template. ChatML, as SmolLM2 and Qwen2.5 use; a tokenizer
# without `<|im_start|>`/`<|im_end|>` tokens still works (they are split into ordinary pieces and the
# model learns to write `<|im_end|>`), but adding them as special tokens is better.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_END = "<|im_end|>"

class Encoded(TypedDict):
    """One rendered sample; the three lists have the same length."""

    input_ids: list[int]
    labels: list[int]  # the token id where trained, IGNORE_INDEX elsewhere
    segment_ids: list[int]  # NONE / THINK / RESULT per token


class SampleTooLong(ValueError):
    """The trained tokens of a sample do not fit in `max_length`: skip the sample (and count it).

    A sample is never cut inside a trained turn — that would teach half a call. Only an untrained
    tail after the last end-of-turn token (e.g. the template's final newline) is dropped.
    """

    def __init__(self, sample_id: str, length: int, needed: int, max_length: int):
        super().__init__(
            f"sample {sample_id!r}: {length} tokens, its trained part needs {needed} but max_length is "
            f"{max_length}; skip it or raise max_length"
        )
        self.sample_id, self.length, self.needed, self.max_length = sample_id, length, needed, max_length


ToolFormat = Literal["bfcl", "json", "mix"]
TOOL_FORMATS: tuple[str, ...] = get_args(ToolFormat)


def system_prompt_for(tools: Sequence[dict[str, Any]], tool_format: ToolFormat = "bfcl", key: str = "") -> str:
    """BFCL's default system prompt for prompting models around `tools` (normalised, `Sample.tools`).

    `tool_format`: `"bfcl"` writes the tools as BFCL's python prompt does (`bfcl.bfcl_docs` plus its
    language note), which is what the model sees at evaluation; `"json"` writes them as stored
    (JSON-schema type names, no note); `"mix"` picks one of the two per sample from a stable hash of
    `key` (the sample id), half and half, so a model learns to read both.
    """
    if tool_format not in TOOL_FORMATS:
        raise ValueError(f"unknown tool_format {tool_format!r}; use one of {', '.join(TOOL_FORMATS)}")
    if tool_format == "mix":
        tool_format = "bfcl" if zlib.crc32(key.encode()) % 2 == 0 else "json"
    if tool_format == "json":
        return bfcl.system_prompt(list(tools))
    return bfcl.system_prompt(bfcl.language_hints(bfcl.bfcl_docs(tools), "python"))


def chat_messages(
    sample: Sample, *, system_prompt: str | None = None, tool_format: ToolFormat = "bfcl"
) -> list[dict[str, Any]]:
    """The conversation handed to the chat template: system prompt, `sample.messages`, target turn.

    `system_prompt=None` uses `system_prompt_for(sample.tools, tool_format, sample.id)`; `""` adds
    none. As BFCL does, the prompt goes before the sample's own system message (joined by a blank
    line) or becomes a new first message. Every assistant turn is rendered with `calls.format_turn`
    as plain text content (tools are in the prompt, not passed to the template: BFCL's prompting
    mode). The prompt for generation is `chat_messages(sample)[:-1]`.
    """
    prompt = system_prompt_for(sample.tools, tool_format, sample.id) if system_prompt is None else system_prompt
    messages = [_chat_message(message) for message in sample.messages]
    if prompt:
        if messages and messages[0]["role"] == "system":
            messages[0] = {**messages[0], "content": f"{prompt}\n\n{messages[0]['content']}"}
        else:
            messages.insert(0, {"role": "system", "content": prompt})
    messages.append({"role": "assistant", "content": calls.format_turn(sample.reasoning, target_answer(sample))})
    return messages


def target_answer(sample: Sample) -> list[ToolCall] | str:
    """What the target turn says after the reasoning: the calls in canonical syntax, or, when the
    sample keeps the text its author wrote (`meta["raw_answer"]`, e.g. data before FCDR's format
    stage), that text as written: training learns what the data says, faults included."""
    raw = sample.meta.get(RAW_ANSWER)
    return raw if sample.is_call and isinstance(raw, str) and raw.strip() else sample.answer


def render_text(
    sample: Sample, tokenizer: Any, *, system_prompt: str | None = None, tool_format: ToolFormat = "bfcl"
) -> tuple[str, list[tuple[int, int, int]]]:
    """The rendered chat text and its trained character spans `(start, end, segment)`, in order."""
    messages = chat_messages(sample, system_prompt=system_prompt, tool_format=tool_format)
    fallback = not getattr(tokenizer, "chat_template", None)

    def render(conversation: list[dict[str, Any]], generation_prompt: bool) -> str:
        return tokenizer.apply_chat_template(
            conversation,
            tokenize=False,
            add_generation_prompt=generation_prompt,
            chat_template=CHATML_TEMPLATE if fallback else None,
        )

    text = render(messages, False)
    turns = []
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            try:  # where the template opens this turn, if rendering the conversation so far agrees
                prefix = render(messages[:index], True)
            except Exception:  # a template may refuse a partial conversation: search instead
                prefix = None
            anchor = len(prefix) if prefix is not None and text.startswith(prefix) else None
            turns.append((message["content"], anchor))
    if sample.meta.get(CONVERSATION):
        turns = turns[-1:]  # the earlier turns are trained as targets of their own samples
    ends = _special_tokens(tokenizer) | ({CHATML_END} if fallback else set())
    return text, _locate_turns(text, turns, ends)


def render_sample(
    sample: Sample,
    tokenizer: Any,
    *,
    max_length: int | None = None,
    system_prompt: str | None = None,
    tool_format: ToolFormat = "bfcl",
) -> Encoded:
    """Token ids, labels and segment ids of `sample` under `tokenizer`'s chat template.

    `tokenizer` is any fast transformers tokenizer (character offsets are needed). Raises
    `SampleTooLong` when the trained tokens do not fit in `max_length` (see its docstring), and
    `ValueError` when the template's output cannot be matched to the turns (see the module docstring).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            "render_sample needs a fast tokenizer (for character offsets); load it with use_fast=True"
        )
    text, spans = render_text(sample, tokenizer, system_prompt=system_prompt, tool_format=tool_format)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids = list(encoding["input_ids"])
    segment_ids = _token_segments(text, spans, encoding["offset_mapping"])
    labels = [tid if seg != NONE else IGNORE_INDEX for tid, seg in zip(input_ids, segment_ids, strict=True)]
    if max_length is not None and len(input_ids) > max_length:
        needed = max(i for i, seg in enumerate(segment_ids) if seg != NONE) + 1
        if needed > max_length:
            raise SampleTooLong(sample.id, len(input_ids), needed, max_length)
        input_ids, labels, segment_ids = input_ids[:max_length], labels[:max_length], segment_ids[:max_length]
    return Encoded(input_ids=input_ids, labels=labels, segment_ids=segment_ids)


# --- building the chat ------------------------------------------------------------------------------


def _text(content: Any) -> str:
    """Message content as text; OpenAI content parts keep their text parts."""
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    if role == "assistant":
        return {"role": "assistant", "content": _assistant_turn(message)}
    out = {"role": role, "content": _text(message.get("content"))}
    out.update({key: message[key] for key in ("name", "tool_call_id") if key in message})
    return out


def _assistant_turn(message: dict[str, Any]) -> str:
    """An earlier assistant message rendered like the target turn.

    Reasoning comes from `reasoning_content` and/or a `<think>…</think>` block in `content`
    (`calls.split_think`). With `tool_calls` (OpenAI style, parsed by `calls.parse_calls`), the answer
    is those calls, and any other text in `content` (the model's remark before calling) is kept as
    reasoning rather than dropped; without, the rest of `content` is a statement answer.
    """
    think, rest = calls.split_think(_text(message.get("content")))
    reasoning = "\n\n".join(p for p in (_text(message.get("reasoning_content")).strip(), think) if p)
    tool_calls = message.get("tool_calls") or []
    if not tool_calls:
        return calls.format_turn(reasoning, rest)
    reasoning = "\n\n".join(p for p in (reasoning, rest) if p)
    return calls.format_turn(reasoning, calls.parse_calls(json.dumps(tool_calls), "json"))


# --- finding the trained spans ----------------------------------------------------------------------


def _special_tokens(tokenizer: Any) -> set[str]:
    tokens = set(getattr(tokenizer, "all_special_tokens", None) or [])
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    tokens |= {token.content for token in added.values() if getattr(token, "special", False)}
    return {token for token in tokens if token}


def _split_turn(turn: str) -> tuple[str, str]:
    """`("<think>…</think>", rest)` for a turn with reasoning, else `("", turn)`."""
    if turn.startswith(THINK_OPEN) and THINK_CLOSE in turn:
        cut = turn.index(THINK_CLOSE) + len(THINK_CLOSE)
        return turn[:cut], turn[cut:]
    return "", turn


def _end_of_turn(text: str, pos: int, ends: set[str]) -> int:
    """The end of the end-of-turn token that closes the answer ending at `pos` (whitespace may precede it)."""
    at = pos
    while at < len(text) and text[at].isspace():
        at += 1
    for token in sorted(ends, key=len, reverse=True):
        if text.startswith(token, at):
            return at + len(token)
    raise ValueError(
        f"no end-of-turn token after the assistant turn at character {pos} (found {text[at : at + 30]!r}); "
        "the chat template must close assistant turns with a special token such as <|im_end|> or "
        "<|eot_id|> — register it with tokenizer.add_special_tokens"
    )


def _locate_turns(
    text: str, turns: list[tuple[str, int | None]], ends: set[str]
) -> list[tuple[int, int, int]]:
    """Trained character spans of each assistant turn `(content, anchor)` in the rendered `text`.

    `anchor` is where the template opens the turn (the length of the conversation before it rendered
    with the generation prompt) when known: the turn is expected there, and never searched before it.
    """
    spans: list[tuple[int, int, int]] = []
    limit = len(text)
    for turn, anchor in reversed(turns):
        think, rest = _split_turn(turn)
        low = anchor if anchor is not None and anchor <= limit else 0
        if anchor is not None and text.startswith(turn, anchor) and anchor + len(turn) <= limit:
            start = anchor
        else:
            start = text.rfind(turn, low, limit)
        if start >= 0:  # rendered as given
            think_span = (start, start + len(think)) if think else None
            result_start, answer_end = start + len(think), start + len(turn)
        else:  # rewritten by the template: find the answer, then a think block just before it
            answer = rest.strip()
            found = text.rfind(answer, low, limit) if answer else -1
            if found < 0:
                raise ValueError(
                    f"the chat template changed the assistant turn {turn[:60]!r}… beyond recognition; "
                    "use a template that keeps assistant content, or none (ChatML is used then)"
                )
            think_span, result_start, answer_end = None, found, found + len(answer)
            close = text.rfind(THINK_CLOSE, low, found)
            if close >= 0 and not text[close + len(THINK_CLOSE) : found].strip():
                open_ = text.rfind(THINK_OPEN, low, close)
                if open_ >= 0:
                    think_span = (open_, close + len(THINK_CLOSE))
                    result_start = think_span[1]
        spans.append((result_start, _end_of_turn(text, answer_end, ends), RESULT))
        if think_span is not None:
            spans.append((*think_span, THINK))
        limit = think_span[0] if think_span else result_start
    return spans[::-1]


def _token_segments(
    text: str, spans: list[tuple[int, int, int]], offsets: Sequence[Sequence[int]]
) -> list[int]:
    """The segment of each token: that of its first character.

    A token's first character is taken as the end of the text covered so far when that comes before
    the token's reported start: offsets of some tokenizers leave out a token's leading space
    (`trim_offsets`), and a byte-level piece of a character may report the whole character.
    """
    per_char = bytearray(len(text) + 1)  # one slot past the end: NONE
    for start, end, segment in spans:
        per_char[start:end] = bytes([segment]) * (end - start)
    segments, covered = [], 0
    for start, end in offsets:
        first = covered if end <= start else min(start, covered)
        covered = max(covered, end)
        segments.append(per_char[min(first, len(text))])
    return segments
