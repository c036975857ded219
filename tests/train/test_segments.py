"""Which tokens are trained, pinned by decoding them back to text, under three real tokenizers."""

from __future__ import annotations

import copy
import itertools

import pytest

from funreason.calls import parse_calls, split_think
from funreason.records import CONVERSATION, Sample, ToolCall
from funreason.schema import normalize_tools
from funreason.train import segments
from funreason.train.segments import (
    IGNORE_INDEX,
    NONE,
    RESULT,
    THINK,
    SampleTooLong,
    render_sample,
    render_text,
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CALL = "[get_weather(city='Paris')]"
REASONING = "The user wants the weather in Paris, so I call get_weather with city='Paris'."
STATEMENT = "I cannot help with that: none of the functions fits the request."


def make_sample(reasoning=REASONING, answer=None, messages=None, sample_id="s1") -> Sample:
    return Sample(
        id=sample_id,
        messages=messages or [{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER],
        reasoning=reasoning,
        answer=[ToolCall(name="get_weather", arguments={"city": "Paris"})] if answer is None else answer,
    )


def decode(tokenizer, ids) -> str:
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def runs(tokenizer, encoded) -> list[tuple[int, str]]:
    """Maximal runs of equal segment id, each decoded back to text."""
    pairs = zip(encoded["segment_ids"], encoded["input_ids"], strict=True)
    return [
        (seg, decode(tokenizer, [i for _, i in group]))
        for seg, group in itertools.groupby(pairs, key=lambda p: p[0])
    ]


def trained(tokenizer, encoded) -> list[tuple[int, str]]:
    return [(seg, text) for seg, text in runs(tokenizer, encoded) if seg != NONE]


def check_invariants(tokenizer, sample, encoded) -> None:
    """Labels mirror segments; decoding all tokens gives back the rendered text."""
    ids, labels, segs = encoded["input_ids"], encoded["labels"], encoded["segment_ids"]
    assert len(ids) == len(labels) == len(segs)
    assert set(segs) <= {NONE, THINK, RESULT}
    assert labels == [i if s != NONE else IGNORE_INDEX for i, s in zip(ids, segs, strict=True)]
    text, _ = render_text(sample, tokenizer)
    assert decode(tokenizer, ids) == text


# Where each tokenizer puts the "\n\n" after </think>: Qwen's pre-tokenizer glues it to ">" (one token
# ">\n\n" that starts in the think segment, so it goes there); the others keep "\n" tokens apart.
RESULT_STARTS_WITH = {"smollm2": "\n\n", "qwen25": "", "trained": "\n\n"}


@pytest.fixture(params=["smollm2", "qwen25", "trained"])
def named_tokenizer(request):
    return request.param, request.getfixturevalue(f"{request.param}_tokenizer")


def test_single_turn_trains_think_then_result_through_end_of_turn(named_tokenizer):
    name, tokenizer = named_tokenizer
    sample = make_sample()
    encoded = render_sample(sample, tokenizer)
    check_invariants(tokenizer, sample, encoded)
    gap = RESULT_STARTS_WITH[name]
    think = f"<think>\n{REASONING}\n</think>" + ("\n\n" if not gap else "")
    assert trained(tokenizer, encoded) == [(THINK, think), (RESULT, f"{gap}{CALL}<|im_end|>")]
    # Everything before is the prompt, untrained; after the end-of-turn only the template's newline.
    pieces = runs(tokenizer, encoded)
    assert [seg for seg, _ in pieces] == [NONE, THINK, RESULT, NONE]
    assert pieces[0][1].endswith("What is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n")
    assert pieces[-1][1] == "\n"


def test_end_of_turn_is_the_last_trained_token(smollm2_tokenizer, qwen25_tokenizer):
    for tokenizer in (smollm2_tokenizer, qwen25_tokenizer):
        encoded = render_sample(make_sample(), tokenizer)
        last = max(i for i, s in enumerate(encoded["segment_ids"]) if s == RESULT)
        assert encoded["input_ids"][last] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert qwen25_tokenizer.convert_tokens_to_ids("<|im_end|>") == 151645


def test_boundary_straddling_token_goes_to_its_first_characters_segment(qwen25_tokenizer):
    encoded = render_sample(make_sample(), qwen25_tokenizer)
    tokens = qwen25_tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    at = tokens.index(">ĊĊ")  # ">" closes </think>, "\n\n" belongs to the result: one token
    assert encoded["segment_ids"][at] == THINK
    assert encoded["segment_ids"][at + 1] == RESULT and tokens[at + 1] == "["


def test_first_character_rule_with_trimmed_and_overlapping_offsets():
    text = "ab<think>x</think>\n\n[f()]E"
    spans = [(2, 18, THINK), (18, 26, RESULT)]
    offsets = [
        (0, 3),  # "ab<": starts untrained, stays untrained though it reaches into <think>
        (3, 17),  # "think>x</think"
        (17, 20),  # ">\n\n": starts in think
        (21, 22),  # "[" reported without the "\n" before it (trim_offsets): covered text ends at 20
        (22, 26),
        (25, 26),  # a byte piece of the same character: same segment
        (26, 26),  # an empty-span token after the end: the next character, none
    ]
    segs = segments._token_segments(text, spans, offsets)
    assert segs == [NONE, THINK, THINK, RESULT, RESULT, RESULT, NONE]


def test_no_reasoning_has_only_a_result_segment(tokenizer):
    sample = make_sample(reasoning="")
    encoded = render_sample(sample, tokenizer)
    check_invariants(tokenizer, sample, encoded)
    assert THINK not in encoded["segment_ids"]
    assert trained(tokenizer, encoded) == [(RESULT, f"{CALL}<|im_end|>")]


@pytest.mark.parametrize("reasoning", ["", "No offered function can check flights."])
def test_statement_answer(tokenizer, reasoning):
    sample = make_sample(reasoning=reasoning, answer=STATEMENT)
    encoded = render_sample(sample, tokenizer)
    check_invariants(tokenizer, sample, encoded)
    got = trained(tokenizer, encoded)
    assert got[-1][0] == RESULT and got[-1][1].endswith(f"{STATEMENT}<|im_end|>")
    assert "".join(text for _, text in got) == (
        f"<think>\n{reasoning}\n</think>\n\n{STATEMENT}<|im_end|>" if reasoning else f"{STATEMENT}<|im_end|>"
    )
    assert [seg for seg, _ in got] == ([THINK, RESULT] if reasoning else [RESULT])


MULTI_TURN = [
    {"role": "user", "content": "Weather in Paris, then in Rome?"},
    {
        "role": "assistant",
        "content": None,
        "reasoning_content": "First Paris.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
    {
        "role": "assistant",
        "content": "<think>\nNow the answer for Paris.\n</think>\n\nIt is 21 degrees in Paris.",
    },
    {"role": "user", "content": "And Rome?"},
]


def test_multi_turn_trains_every_assistant_turn(tokenizer):
    sample = make_sample(
        reasoning="Now Rome.",
        answer=[ToolCall(name="get_weather", arguments={"city": "Rome"})],
        messages=MULTI_TURN,
    )
    encoded = render_sample(sample, tokenizer)
    check_invariants(tokenizer, sample, encoded)
    text = "".join(t for _, t in trained(tokenizer, encoded))
    assert text == (
        "<think>\nFirst Paris.\n</think>\n\n[get_weather(city='Paris')]<|im_end|>"
        "<think>\nNow the answer for Paris.\n</think>\n\nIt is 21 degrees in Paris.<|im_end|>"
        "<think>\nNow Rome.\n</think>\n\n[get_weather(city='Rome')]<|im_end|>"
    )
    assert [seg for seg, _ in trained(tokenizer, encoded)] == [THINK, RESULT] * 3
    untrained = "".join(t for s, t in runs(tokenizer, encoded) if s == NONE)
    assert '{"temp": 21}' in untrained and "And Rome?" in untrained


def test_a_turn_split_from_a_conversation_trains_only_its_target(tokenizer):
    """A conversation reader makes a sample of every assistant turn; training each one's history
    again would train a conversation's first turn as many times as it has turns."""
    sample = make_sample(
        reasoning="Now Rome.",
        answer=[ToolCall(name="get_weather", arguments={"city": "Rome"})],
        messages=MULTI_TURN,
    ).model_copy(update={"meta": {CONVERSATION: "row-7"}})
    encoded = render_sample(sample, tokenizer)
    text = "".join(t for _, t in trained(tokenizer, encoded))
    assert text == "<think>\nNow Rome.\n</think>\n\n[get_weather(city='Rome')]<|im_end|>"
    untrained = "".join(t for s, t in runs(tokenizer, encoded) if s == NONE)
    assert "First Paris." in untrained and "It is 21 degrees in Paris." in untrained


def test_calls_python_cannot_write_are_trained_in_json(trained_tokenizer):
    """An argument named like a keyword (`from`, `class`) is a valid call: the sample renders, its
    calls (target and earlier turns) in JSON, and the trained text reads back as those calls."""
    flight = {"name": "book_flight", "description": "Book a flight.", "parameters": {
        "type": "object", "properties": {"from": {"type": "string"}, "class": {"type": "string"}}}}
    earlier = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "book_flight", "arguments": '{"from": "Rome"}'}}]}
    target = [ToolCall(name="book_flight", arguments={"from": "Oslo", "class": "economy"})]
    sample = make_sample(reasoning="From Oslo.", answer=target, messages=[
        {"role": "user", "content": "From Rome, then from Oslo in economy."}, earlier,
        {"role": "tool", "tool_call_id": "c1", "content": "ok"}]).model_copy(update={"tools": [flight]})
    encoded = render_sample(sample, trained_tokenizer)
    check_invariants(trained_tokenizer, sample, encoded)
    text = "".join(t for _, t in trained(trained_tokenizer, encoded))
    assert text == (
        '[{"name": "book_flight", "arguments": {"from": "Rome"}}]<|im_end|>'
        '<think>\nFrom Oslo.\n</think>\n\n[{"name": "book_flight", "arguments": {"from": "Oslo", '
        '"class": "economy"}}]<|im_end|>'
    )
    _, answer = split_think(text.split("<|im_end|>")[1])
    assert parse_calls(answer) == target


def test_assistant_remark_beside_tool_calls_becomes_reasoning(smollm2_tokenizer):
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {"role": "tool", "content": "21"},
    ]
    sample = make_sample(reasoning="", answer="It is 21 degrees.", messages=messages)
    got = trained(smollm2_tokenizer, render_sample(sample, smollm2_tokenizer))
    assert "".join(t for _, t in got) == (
        "<think>\nLet me look.\n</think>\n\n[get_weather(city='Paris')]<|im_end|>It is 21 degrees.<|im_end|>"
    )


def test_the_target_turn_is_found_after_a_user_message_that_quotes_it(tokenizer):
    messages = [{"role": "user", "content": f"Please run {CALL} for me."}]
    sample = make_sample(reasoning="", messages=messages)
    encoded = render_sample(sample, tokenizer)
    pieces = runs(tokenizer, encoded)
    assert [seg for seg, _ in pieces] == [NONE, RESULT, NONE]
    assert CALL in pieces[0][1] and pieces[1][1] == f"{CALL}<|im_end|>"


def test_a_tool_result_that_echoes_the_call_is_not_mistaken_for_the_turn(tokenizer):
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "content": f"ran {CALL}"},  # ends with the assistant turn's exact text
    ]
    sample = make_sample(reasoning="", answer="It is sunny.", messages=messages)
    encoded = render_sample(sample, tokenizer)
    check_invariants(tokenizer, sample, encoded)
    got = trained(tokenizer, encoded)
    assert [text for _, text in got] == [f"{CALL}<|im_end|>", "It is sunny.<|im_end|>"]
    untrained = "".join(text for seg, text in runs(tokenizer, encoded) if seg == NONE)
    assert f"ran {CALL}" in untrained


def test_template_that_refuses_partial_conversations_falls_back_to_search(smollm2_tokenizer, monkeypatch):
    refusing = (
        "{% if messages[-1]['role'] != 'assistant' %}{{ raise_exception('complete chats only') }}{% endif %}"
        + smollm2_tokenizer.chat_template
    )
    monkeypatch.setattr(smollm2_tokenizer, "chat_template", refusing)
    sample = make_sample(reasoning="Now Rome.", answer="Done.", messages=MULTI_TURN)
    got = trained(smollm2_tokenizer, render_sample(sample, smollm2_tokenizer))
    assert [seg for seg, _ in got] == [THINK, RESULT] * 3
    assert got[-1] == (RESULT, "\n\nDone.<|im_end|>")


# A Qwen3-style template: it takes the reasoning out of the content, drops it for turns before the
# last user query, and re-renders the think block with its own spacing (a single newline after it).
REWRITING_TEMPLATE = """{%- set ns = namespace(last_query=-1) %}
{%- for m in messages %}{%- if m.role == 'user' %}{%- set ns.last_query = loop.index0 %}{%- endif %}{%- endfor %}
{%- for m in messages %}
{%- if m.role == 'assistant' %}
{%- set content = m.content %}{%- set reasoning = '' %}
{%- if '</think>' in content %}
{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\\n') %}
{%- set content = content.split('</think>')[-1].lstrip('\\n') %}
{%- endif %}
{%- if loop.index0 > ns.last_query %}
{{- '<|im_start|>assistant\\n<think>\\n' + reasoning + '\\n</think>\\n' + content + '<|im_end|>\\n' }}
{%- else %}
{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}
{%- endif %}
{%- else %}
{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}
{%- endif %}
{%- endfor %}"""


def test_template_that_rewrites_reasoning(qwen25_tokenizer, monkeypatch):
    monkeypatch.setattr(qwen25_tokenizer, "chat_template", REWRITING_TEMPLATE)
    sample = make_sample(
        reasoning="Now Rome.",
        answer=[ToolCall(name="get_weather", arguments={"city": "Rome"})],
        messages=MULTI_TURN,
    )
    encoded = render_sample(sample, qwen25_tokenizer)
    check_invariants(qwen25_tokenizer, sample, encoded)
    got = trained(qwen25_tokenizer, encoded)
    # Earlier turns lost their reasoning in the render: trained as result only. The last turn's think
    # block, re-spaced by the template, is found right before its answer.
    assert got == [
        (RESULT, "[get_weather(city='Paris')]<|im_end|>"),
        (RESULT, "It is 21 degrees in Paris.<|im_end|>"),
        (THINK, "<think>\nNow Rome.\n</think>\n"),
        (RESULT, "[get_weather(city='Rome')]<|im_end|>"),
    ]


def test_template_without_an_end_of_turn_token_is_refused(bare_tokenizer, monkeypatch):
    monkeypatch.setattr(
        bare_tokenizer,
        "chat_template",
        "{% for m in messages %}{{ m.role + ': ' + m.content + '\\n\\n' }}{% endfor %}",
    )
    with pytest.raises(ValueError, match="end-of-turn token"):
        render_sample(make_sample(), bare_tokenizer)


def test_fallback_chatml_template(trained_tokenizer, bare_tokenizer):
    for tokenizer in (trained_tokenizer, bare_tokenizer):
        text, _ = render_text(make_sample(), tokenizer)
        assert text.startswith("<|im_start|>system\nYou are an expert in composing functions.")
        assert text.endswith(f"<|im_start|>assistant\n<think>\n{REASONING}\n</think>\n\n{CALL}<|im_end|>\n")
    # Without <|im_end|> as a special token the marker is ordinary text, still trained to end the turn.
    encoded = render_sample(make_sample(), bare_tokenizer)
    assert trained(bare_tokenizer, encoded)[-1] == (RESULT, f"\n\n{CALL}<|im_end|>")


def test_system_prompt_is_bfcls_default():
    utils = pytest.importorskip("bfcl_eval.model_handler.utils")
    bfcl_utils = pytest.importorskip("bfcl_eval.utils")
    from bfcl_eval.constants.default_prompts import DEFAULT_SYSTEM_PROMPT_FORMAT

    docs = [  # BFCL's own dialect
        {"name": "get_weather", "description": "Current weather for a city.", "parameters": {
            "type": "dict", "properties": {"city": {"type": "string", "description": "City."},
                                           "hours": {"type": "float", "description": "Hours ahead."}},
            "required": ["city"]}},
        {"name": "math.add", "description": "Add.", "parameters": {"type": "dict", "properties": {}, "required": []}},
    ]  # fmt: skip
    # "json" shows the tools as given; the default, "bfcl", as BFCL's python prompt shows its docs.
    assert segments.system_prompt_for(docs, "json") == utils.formulate_system_prompt(
        DEFAULT_SYSTEM_PROMPT_FORMAT, docs
    )
    shown = bfcl_utils._func_doc_language_specific_pre_processing(copy.deepcopy(docs), "simple_python")
    expected = utils.formulate_system_prompt(DEFAULT_SYSTEM_PROMPT_FORMAT, shown)
    assert segments.system_prompt_for(normalize_tools(docs)) == expected


def test_training_prompt_is_the_evaluation_prompt_of_bfcl_entries():
    """Each single-turn python entry read as training data (`formats.bfcl`) is prompted, for training
    and for rollouts, exactly as `evaluate.bfcl` prompts it at evaluation, but for the few docs whose
    details normalisation drops (`bfcl.bfcl_docs` names them)."""
    from funreason.evaluate import bfcl as bfcl_eval
    from funreason.formats import bfcl as bfcl_format
    from funreason.records import Rejects

    def lossy(functions) -> bool:
        text = str(functions)
        return "'tuple'" in text or "'optional'" in text

    folder = bfcl_eval.bfcl_data_dir()
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"):
        entries = {entry.id: entry for entry in bfcl_eval.load_category(category)}
        path = bfcl_eval.category_file(folder, category)
        rejects = Rejects(strict=True)
        exact = skipped = 0
        for sample in bfcl_format.read(path, rejects):
            entry = entries[sample.id]
            if lossy(entry.source_functions):
                skipped += 1
                continue
            assert segments.chat_messages(sample)[:-1] == entry.messages, sample.id
            exact += 1
        assert exact == len(entries) - skipped and skipped <= 0.1 * len(entries), (category, skipped)


def test_mixed_tool_format_picks_each_rendering_for_about_half_the_samples():
    samples = [make_sample(sample_id=f"s{i}") for i in range(200)]
    bfcl_prompt, json_prompt = segments.system_prompt_for([WEATHER]), segments.system_prompt_for([WEATHER], "json")
    assert bfcl_prompt != json_prompt and '"type": "dict"' in bfcl_prompt and "Python 3 syntax" in bfcl_prompt
    prompts = [segments.chat_messages(sample, tool_format="mix")[0]["content"] for sample in samples]
    assert set(prompts) == {bfcl_prompt, json_prompt}
    assert 70 <= prompts.count(bfcl_prompt) <= 130
    assert prompts == [segments.chat_messages(sample, tool_format="mix")[0]["content"] for sample in samples]
    with pytest.raises(ValueError, match="unknown tool_format"):
        segments.system_prompt_for([WEATHER], "yaml")


def test_system_prompt_placement():
    sample = make_sample()
    messages = segments.chat_messages(sample)
    assert messages[0] == {"role": "system", "content": segments.system_prompt_for([WEATHER])}
    assert messages[-1] == {"role": "assistant", "content": f"<think>\n{REASONING}\n</think>\n\n{CALL}"}
    own = make_sample(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    messages = segments.chat_messages(own)
    assert messages[0]["content"] == segments.system_prompt_for([WEATHER]) + "\n\nBe brief."
    assert segments.chat_messages(own, system_prompt="")[0] == {"role": "system", "content": "Be brief."}
    assert segments.chat_messages(sample, system_prompt="Custom.")[0] == {
        "role": "system",
        "content": "Custom.",
    }


def test_max_length_drops_only_an_untrained_tail(qwen25_tokenizer):
    sample = make_sample()
    full = render_sample(sample, qwen25_tokenizer)
    n = len(full["input_ids"])
    assert render_sample(sample, qwen25_tokenizer, max_length=n) == full
    cut = render_sample(sample, qwen25_tokenizer, max_length=n - 1)  # the template's final "\n"
    assert cut == {key: value[: n - 1] for key, value in full.items()}
    with pytest.raises(SampleTooLong, match="max_length") as info:
        render_sample(sample, qwen25_tokenizer, max_length=n - 2)
    assert (info.value.sample_id, info.value.length, info.value.needed, info.value.max_length) == (
        "s1",
        n,
        n - 1,
        n - 2,
    )


def test_slow_tokenizer_is_refused(smollm2_tokenizer, monkeypatch):
    monkeypatch.setattr(type(smollm2_tokenizer), "is_fast", property(lambda self: False))
    with pytest.raises(ValueError, match="fast tokenizer"):
        render_sample(make_sample(), smollm2_tokenizer)
