import asyncio

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from funreason.llm.local import TRIM_COLUMNS, LocalGenerator, stop_token_ids
from funreason.train.segments import CHATML_TEMPLATE

CORPUS = [
    "You are an expert in composing functions. Here is a list of functions in json format.",
    "What is the weather in Paris? Book a table for two at eight o'clock tonight, please.",
    "[get_weather(city='Paris', unit='celsius'), book_table(people=2, time='20:00')]",
    "<think>\nThe user wants the weather, so I call get_weather with the city.\n</think>\n\n",
]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="module")
def tokenizer():
    """A small byte-level BPE with ChatML tokens: eos `<|im_end|>`, pad `<|endoftext|>`."""
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL[1:],
        chat_template=CHATML_TEMPLATE,
    )


@pytest.fixture(scope="module")
def model(tokenizer, tiny_lm):
    return tiny_lm(len(tokenizer))


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are an expert."}, {"role": "user", "content": text}]


PROMPTS = [chat(text) for text in CORPUS] + [chat("Paris"), chat(CORPUS[0] + " " + CORPUS[1])]


def test_batched_greedy_equals_one_at_a_time(model, tokenizer):
    batched = LocalGenerator(model, tokenizer, batch_size=4).generate(PROMPTS, max_tokens=12)
    single = LocalGenerator(model, tokenizer, batch_size=1)
    alone = [single.generate([prompt], max_tokens=12)[0] for prompt in PROMPTS]
    assert [[g.text for g in gens] for gens in batched] == [[g.text for g in gens] for gens in alone]
    assert [gens[0].completion_tokens for gens in batched] == [gens[0].completion_tokens for gens in alone]
    assert all(len(gens) == 1 and gens[0].error is None for gens in batched)


@pytest.mark.parametrize("prefill_tokens", [None, 1])  # one prefill forward per batch, or per row
def test_matches_a_naive_argmax_loop_and_keeps_prompt_order(model, tokenizer, prefill_tokens):
    generator = LocalGenerator(model, tokenizer, batch_size=3, prefill_tokens=prefill_tokens)
    out = generator.generate(PROMPTS, max_tokens=6)
    for prompt, gens in zip(PROMPTS, out, strict=True):
        ids = generator.encode(prompt)
        expected: list[int] = []
        with torch.no_grad():
            for _ in range(6):
                token = int(model(torch.tensor([ids + expected])).logits[0, -1].argmax())
                expected.append(token)
                if token in generator.stop_ids:
                    break
        (gen,) = gens
        assert gen.prompt_tokens == len(ids)
        assert gen.completion_tokens == len(expected)
        assert gen.finish_reason == ("stop" if expected[-1] in generator.stop_ids else "length")
        kept = expected[:-1] if gen.finish_reason == "stop" else expected
        assert gen.text == tokenizer.decode([t for t in kept if t != generator.pad_id])


def test_stops_at_end_of_turn_and_strips_it(model, tokenizer):
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    calls = []

    def end_from_the_fourth_step(module, inputs, logits):
        if logits.shape[0] == 1:  # the shared-prompt-head pass: one row, not a generation step
            return logits
        calls.append(1)
        if len(calls) >= 4:
            logits[..., end] += 1e4
        return logits

    hook = model.lm_head.register_forward_hook(end_from_the_fourth_step)
    try:
        out = LocalGenerator(model, tokenizer).generate([chat("Paris"), chat("Rome")], max_tokens=10)
    finally:
        hook.remove()
    for (gen,) in out:
        assert gen.finish_reason == "stop" and gen.completion_tokens == 4
        assert "<|im_end|>" not in gen.text and "<|endoftext|>" not in gen.text
    assert len(calls) == 4  # both rows stopped together: no step after that


def test_rows_that_stop_early_leave_the_others_unchanged(model, tokenizer):
    generator = LocalGenerator(model, tokenizer, batch_size=len(PROMPTS))
    plain = generator.generate(PROMPTS, max_tokens=8)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    calls = []

    def stop_the_shortest_prompt(module, inputs, logits):
        if logits.shape[0] == 1:  # the shared-prompt-head pass
            return logits
        calls.append(logits.shape[0])
        if len(calls) == 3:
            logits[0, ..., end] += 1e4  # batch row 0: the shortest prompt, chat("Paris")
        return logits

    hook = model.lm_head.register_forward_hook(stop_the_shortest_prompt)
    try:
        hooked = generator.generate(PROMPTS, max_tokens=8)
    finally:
        hook.remove()
    shortest = PROMPTS.index(chat("Paris"))
    assert hooked[shortest][0].finish_reason == "stop" and hooked[shortest][0].completion_tokens == 3
    assert calls[:4] == [len(PROMPTS)] * 3 + [len(PROMPTS) - 1]  # the stopped row left the batch
    for index, (a, b) in enumerate(zip(plain, hooked, strict=True)):
        if index != shortest:
            assert a[0].text == b[0].text


def test_batches_respect_rows_and_tokens(model, tokenizer, monkeypatch):
    generator = LocalGenerator(model, tokenizer, batch_size=4, max_batch_tokens=120)
    lengths = sorted(len(generator.encode(prompt)) for prompt in PROMPTS)
    admitted: list[list[int]] = []
    original = generator._prefill

    def spy(prompts, prefix):
        admitted.append([len(ids) for ids in prompts])
        return original(prompts, prefix)

    rows = []
    monkeypatch.setattr(generator, "_prefill", spy)
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: rows.append(kwargs["input_ids"].shape[0]), with_kwargs=True
    )
    try:
        out = generator.generate(PROMPTS, max_tokens=4)
    finally:
        hook.remove()
    assert [length for batch in admitted for length in batch] == lengths  # shortest first
    assert all(len(batch) == 1 or len(batch) * max(batch) <= 120 for batch in admitted)
    assert len(admitted) > 2 and max(rows) <= 4
    alone = LocalGenerator(model, tokenizer, batch_size=1).generate(PROMPTS, max_tokens=4)
    assert [g[0].text for g in out] == [g[0].text for g in alone]
    admitted.clear()
    generator.generate(PROMPTS[:2], max_tokens=2, temperature=1.0, n=3)  # 3 rows per prompt
    assert admitted == [[length] for length in sorted(len(generator.encode(p)) for p in PROMPTS[:2])]


def test_finished_rows_make_room_for_waiting_prompts(model, tokenizer):
    """Continuous batching: when a row stops, the next prompt joins the rows still running, and
    every completion is what it would be alone."""
    generator = LocalGenerator(model, tokenizer, batch_size=3)
    plain = generator.generate(PROMPTS, max_tokens=8)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    shapes = []  # (rows, width) of every forward

    def stop_one_row_early(module, inputs, logits):
        decode_steps = [rows for rows, width in shapes if width == 1]
        if shapes[-1][1] == 1 and len(decode_steps) == 2:  # the second decode step of the first batch
            logits[1, ..., end] += 1e4
        return logits

    hooks = [
        model.register_forward_pre_hook(
            lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
        ),
        model.lm_head.register_forward_hook(stop_one_row_early),
    ]
    try:
        hooked = generator.generate(PROMPTS, max_tokens=8)
    finally:
        for hook in hooks:
            hook.remove()
    stopped = [i for i, (a, b) in enumerate(zip(plain, hooked, strict=True)) if a[0].text != b[0].text]
    assert len(stopped) == 1 and hooked[stopped[0]][0].finish_reason == "stop"
    # After the stop two rows took one step, then a waiting prompt was prefilled (one row, the width
    # of its prompt) and joined them, and three rows decoded on.
    decode_rows = [rows for rows, width in shapes if width == 1]
    assert decode_rows[:4] == [3, 3, 2, 3]
    joined = next(i for i in range(1, len(shapes) - 1) if shapes[i - 1] == (2, 1) and shapes[i][1] > 1)
    assert shapes[joined][0] == 1 and shapes[joined + 1] == (3, 1)
    assert sum(1 for rows, width in shapes if width > 1) >= 3  # the shared head, the first batch, joiners


def test_the_shared_prompt_head_is_prefilled_once(model, tokenizer):
    generator = LocalGenerator(model, tokenizer)
    encoded = [generator.encode(prompt) for prompt in PROMPTS]
    common = 0
    while len({tuple(ids[: common + 1]) for ids in encoded}) == 1:
        common += 1
    length, cache = generator._prefill_shared_prefix(encoded)
    assert length == common >= 16  # the rendered system turn and the user turn's opening
    assert cache.get_seq_length() == length
    assert generator._prefill_shared_prefix(encoded[:1]) is None
    assert generator._prefill_shared_prefix([[1, 2, 3] * 20, [1, 2, 4] * 20]) is None  # too short
    # The naive-loop test above runs with the shared head; here, without it, the texts are the same.
    with_head = generator.generate(PROMPTS, max_tokens=6)
    generator._prefill_shared_prefix = lambda prompts: None
    assert generator.generate(PROMPTS, max_tokens=6) == with_head


@pytest.mark.parametrize("shared_head", [True, False])
def test_prefill_in_groups_gives_the_same_completions(model, tokenizer, shared_head):
    whole = LocalGenerator(model, tokenizer, batch_size=8)
    grouped = LocalGenerator(model, tokenizer, batch_size=8, prefill_tokens=1)  # a forward per row
    if not shared_head:
        whole._prefill_shared_prefix = grouped._prefill_shared_prefix = lambda prompts: None
    widths = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: widths.append(kwargs["input_ids"].shape), with_kwargs=True
    )
    try:
        expected = whole.generate(PROMPTS, max_tokens=12)
        prefills = [shape for shape in widths if shape[1] > 1]
        widths.clear()
        assert grouped.generate(PROMPTS, max_tokens=12) == expected
    finally:
        hook.remove()
    assert [rows for rows, _ in prefills[shared_head:]] == [len(PROMPTS)]
    assert [rows for rows, width in widths if width > 1][shared_head:] == [1] * len(PROMPTS)
    torch.manual_seed(0)
    sampled = grouped.generate(PROMPTS[:3], max_tokens=6, temperature=1.0, n=3)
    torch.manual_seed(0)
    assert whole.generate(PROMPTS[:3], max_tokens=6, temperature=1.0, n=3) == sampled


def test_a_cache_the_model_does_not_take_is_an_error_not_garbage(model, tokenizer):
    generator = LocalGenerator(model, tokenizer)
    generator._cache_argument = "kv_under_another_name"  # forward's **kwargs swallow it
    with pytest.raises(RuntimeError, match="did not fill the KV cache passed as `kv_under_another_name`"):
        generator.generate(PROMPTS[:2], max_tokens=3)


def test_stop_ids_include_eos_and_template_markers(model, tokenizer):
    ids = stop_token_ids(model, tokenizer)
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in ids
    assert tokenizer.convert_tokens_to_ids("<|endoftext|>") in ids
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") not in ids


def test_too_long_prompt_is_an_error_entry(tokenizer, tiny_lm):
    model = tiny_lm(len(tokenizer), max_position_embeddings=64)
    generator = LocalGenerator(model, tokenizer, batch_size=2)
    long_prompt = chat(" ".join(CORPUS * 3))
    out = generator.generate([chat("Paris"), long_prompt, chat("Rome")], max_tokens=16, n=2)
    assert [len(gens) for gens in out] == [2, 2, 2]
    assert out[0][0].error is None and out[2][0].error is None
    error = out[1][0].error
    n_tokens = len(generator.encode(long_prompt))
    assert error is not None and error.startswith(f"prompt of {n_tokens} tokens exceeds the context of 48")
    assert out[1][1].error == error and out[1][0].text == ""
    assert (
        LocalGenerator(model, tokenizer, max_context=4096).generate([long_prompt], max_tokens=4)[0][0].error
        is None
    )


def test_sampling_gives_n_samples_per_prompt(model, tokenizer):
    generator = LocalGenerator(model, tokenizer, batch_size=4)
    torch.manual_seed(0)
    out = generator.generate(PROMPTS[:3], max_tokens=10, temperature=5.0, n=4)
    assert [len(gens) for gens in out] == [4, 4, 4]
    assert all(len({g.text for g in gens}) > 1 for gens in out)  # hot sampling: the samples differ
    torch.manual_seed(0)
    again = generator.generate(PROMPTS[:3], max_tokens=10, temperature=5.0, n=4)
    assert [[g.text for g in gens] for gens in again] == [[g.text for g in gens] for gens in out]
    greedy = generator.generate(PROMPTS[:2], max_tokens=10, n=3)
    assert all(len({g.text for g in gens}) == 1 and len(gens) == 3 for gens in greedy)


def test_agenerate_matches_generate(model, tokenizer):
    generator = LocalGenerator(model, tokenizer, batch_size=2)
    expected = generator.generate(PROMPTS[:3], max_tokens=5)
    got = asyncio.run(generator.agenerate(PROMPTS[:3], max_tokens=5))
    assert [[g.text for g in gens] for gens in got] == [[g.text for g in gens] for gens in expected]


def test_tokenizer_without_chat_template_uses_chatml(model, tokenizer):
    bare = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer.backend_tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    assert not bare.chat_template
    generator = LocalGenerator(model, bare)
    text = bare.decode(generator.encode(chat("Paris")))
    assert (
        text
        == "<|im_start|>system\nYou are an expert.<|im_end|>\n<|im_start|>user\nParis<|im_end|>\n<|im_start|>assistant\n"
    )


def test_bad_arguments_are_refused(model, tokenizer):
    with pytest.raises(ValueError, match="batch_size"):
        LocalGenerator(model, tokenizer, batch_size=0)
    with pytest.raises(ValueError, match="prefill_tokens"):
        LocalGenerator(model, tokenizer, prefill_tokens=0)
    with pytest.raises(ValueError, match="max_tokens"):
        LocalGenerator(model, tokenizer).generate(PROMPTS[:1], max_tokens=0)


@pytest.mark.slow
def test_embedded_smollm2_batched_equals_one_at_a_time(smollm2_checkpoint):
    from funreason.models import load_model

    model, tokenizer = load_model(smollm2_checkpoint, device="cpu")
    prompts = [chat("What is 2 + 2?"), chat("Name a colour."), chat("Say hi to Paris in French, briefly.")]
    batched = LocalGenerator(model, tokenizer, batch_size=3).generate(prompts, max_tokens=8)
    alone = [LocalGenerator(model, tokenizer).generate([p], max_tokens=8)[0] for p in prompts]
    assert [g[0].text for g in batched] == [g[0].text for g in alone]
    assert all(g[0].text.strip() for g in batched)


def test_a_long_queue_keeps_the_batch_no_wider_than_its_rows_need(model, tokenizer):
    """Joined rows are right-aligned to the running width; once TRIM_COLUMNS columns at the left are
    used by no remaining row they are dropped, so the batch never grows wider than the longest prompt
    plus max_tokens (plus fewer than TRIM_COLUMNS unused ones), however long the queue."""
    prompts = [chat(f"{text} {i}") for i in range(4) for text in CORPUS]
    generator = LocalGenerator(model, tokenizer, batch_size=3)
    widths = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: widths.append(kwargs["attention_mask"].shape[1])
        if "attention_mask" in kwargs else None, with_kwargs=True
    )
    try:
        out = generator.generate(prompts, max_tokens=40)
    finally:
        hook.remove()
    longest = max(len(generator.encode(prompt)) for prompt in prompts)
    assert max(widths) < longest + 40 + TRIM_COLUMNS
    alone = LocalGenerator(model, tokenizer, batch_size=1).generate(prompts, max_tokens=40)
    assert [g[0].text for g in out] == [g[0].text for g in alone]


def test_stream_arguments_are_checked_when_called(model, tokenizer):
    with pytest.raises(ValueError, match="max_tokens >= 1"):
        LocalGenerator(model, tokenizer).generate_stream([chat("Hi")], max_tokens=0)
