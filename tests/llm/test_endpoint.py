"""EndpointGenerator against a real loopback HTTP server: answers, retries, faults, down endpoints."""

import asyncio
import socket
import time

import fake_server
import pytest

from funreason.llm import EndpointDown, Generation
from funreason.llm.endpoint import EndpointGenerator, _has_aiohttp

FakeServer, Reply = fake_server.FakeServer, fake_server.Reply

FAST = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 2.0}
TRANSPORTS = [pytest.param("httpx"), pytest.param("aiohttp", marks=pytest.mark.skipif(
    not _has_aiohttp(), reason="aiohttp is not installed"))]


def user(text):
    return [{"role": "user", "content": text}]


def generate(generator, prompts, **kwargs):
    return asyncio.run(generator.agenerate([user(p) for p in prompts], **kwargs))


def test_chat_answers_in_order_with_n_choices_usage_and_reasoning():
    def script(request):
        return Reply(text=f"re: {request.prompt}", reasoning="let me see" if request.prompt == "b" else None)

    with FakeServer(script) as server:
        generator = EndpointGenerator(server.url, "fake-model", **FAST)
        out = generate(generator, ["a", "b", "c"], n=2, max_tokens=7, temperature=0.5)
    assert [[g.text for g in gens] for gens in out] == [
        ["re: a"] * 2, ["<think>\nlet me see\n</think>\n\nre: b"] * 2, ["re: c"] * 2]
    assert out[0][0] == Generation(text="re: a", finish_reason="stop", prompt_tokens=7, completion_tokens=2)
    assert out[0][1].completion_tokens == 2  # the request's 4 completion tokens, shared out
    body = server.requests[0].body
    assert body["model"] == "fake-model" and body["n"] == 2 and body["max_tokens"] == 7
    assert body["temperature"] == 0.5 and server.requests[0].path == "/v1/chat/completions"
    assert generator.n_supported is True and generator.name == "fake-model"


def test_completions_mode_renders_the_chat_template():
    class Tokenizer:
        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            assert tokenize is False and add_generation_prompt is True
            return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    with FakeServer(lambda request: Reply(text="done")) as server:
        generator = EndpointGenerator(server.url, "m", mode="completions", tokenizer=Tokenizer(), **FAST)
        out = generate(generator, ["hi"])
    assert out == [[Generation(text="done", finish_reason="stop", prompt_tokens=7, completion_tokens=1)]]
    assert server.requests[0].path == "/v1/completions"
    assert server.requests[0].body["prompt"] == "<user>hi<assistant>"
    with pytest.raises(ValueError, match="tokenizer="):
        EndpointGenerator(server.url, "m", mode="completions")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_transient_faults_are_retried(transport):
    # Each prompt fails once in its own way, then succeeds.
    def script(request):
        first = sum(r.prompt == request.prompt for r in server.requests) == 1
        if first and request.prompt == "drop":
            return Reply(drop=True)
        if first and request.prompt == "busy":
            return Reply(status=429, headers={"Retry-After": "0"})
        if first and request.prompt == "broken":
            return Reply(status=500)
        if first and request.prompt == "slow":
            return Reply(text="late", delay=1.0)
        return Reply(text=f"ok {request.prompt}")

    with FakeServer(script) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, **{**FAST, "timeout": 0.3})
        out = generate(generator, ["drop", "busy", "broken", "slow"])
    assert [gens[0].text for gens in out] == ["ok drop", "ok busy", "ok broken", "ok slow"]
    assert len(server.requests) == 8


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_retry_after_is_honoured(transport):
    def script(request):
        if request.index == 0:
            return Reply(status=503, headers={"Retry-After": "0.4"})
        return Reply(text="ok")

    with FakeServer(script) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, backoff=0.001, max_backoff=5.0, timeout=2.0)
        started = time.monotonic()
        out = generate(generator, ["x"])
    assert out[0][0].text == "ok" and time.monotonic() - started >= 0.3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_failed_prompt_is_an_error_generation_not_an_exception(transport):
    def script(request):
        if request.prompt == "huge":
            return Reply(status=400, error="This model's maximum context length is 4096 tokens")
        if request.prompt == "flaky":
            return Reply(status=500, error="boom")
        return Reply(text="fine")

    with FakeServer(script) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, max_retries=2, down_after=5, **FAST)
        out = generate(generator, ["huge", "ok", "flaky"], n=2)
    assert out[0] == [Generation(error="HTTP 400: This model's maximum context length is 4096 tokens")] * 2
    assert out[0][0] is not out[0][1]
    assert [g.text for g in out[1]] == ["fine", "fine"]
    assert out[2][0].error == "gave up after 3 attempts: HTTP 500: boom"
    assert sum(r.prompt == "huge" for r in server.requests) == 1  # a 400 is not retried
    assert sum(r.prompt == "flaky" for r in server.requests) == 3


def test_server_that_ignores_n_gets_n_requests():
    with FakeServer(lambda request: Reply(text=[f"answer {request.index}"])) as server:
        generator = EndpointGenerator(server.url, "m", **FAST)
        first = generate(generator, ["a"], n=3)
        assert generator.n_supported is False and len(server.requests) == 3
        second = generate(generator, ["b"], n=3)
    assert len(first[0]) == 3 and len({g.text for g in first[0]}) == 3
    assert len(second[0]) == 3 and len(server.requests) == 6
    assert ["n" not in r.body for r in server.requests[3:]] == [True, True, True]  # n=1 is not sent


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_concurrency_is_bounded_and_used(transport):
    with FakeServer(lambda request: Reply(text="ok", delay=0.05)) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, concurrency=4, **FAST)
        out = generate(generator, [str(i) for i in range(20)])
    assert len(out) == 20 and server.peak == 4


def test_wrong_model_or_url_stops_at_once():
    with FakeServer(lambda request: Reply(status=404, error="The model `nope` does not exist.")) as server:
        generator = EndpointGenerator(server.url, "nope", **FAST)
        with pytest.raises(EndpointDown, match="model 'nope'.*does not exist"):
            generate(generator, ["a", "b"])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_endpoint_down_raises_after_bounded_time(transport):
    generator = EndpointGenerator(f"http://127.0.0.1:{_closed_port()}/v1", "m", transport=transport, max_retries=3, **FAST)
    started = time.monotonic()
    with pytest.raises(EndpointDown, match="did not answer 3 requests in a row.*is the server running"):
        generate(generator, [str(i) for i in range(10)])
    assert time.monotonic() - started < 5
    with pytest.raises(EndpointDown):  # stays down: later calls stop at once
        generate(generator, ["again"])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_server_dying_mid_run_keeps_what_was_answered(transport):
    with FakeServer(lambda request: Reply(text="ok")) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, max_retries=2, **FAST)
        done = generate(generator, ["a", "b"])
        server.stop()
        with pytest.raises(EndpointDown):
            generate(generator, ["c", "d", "e"])
    assert [gens[0].text for gens in done] == ["ok", "ok"]


def test_one_generator_serves_several_event_loops():
    with FakeServer(lambda request: Reply(text="ok")) as server:
        generator = EndpointGenerator(server.url, "m", **FAST)
        assert generate(generator, ["a"])[0][0].text == "ok"
        assert generate(generator, ["b"])[0][0].text == "ok"

        async def together():  # two calls in flight share one pool, closed after the last
            return await asyncio.gather(generator.agenerate([user("c")]), generator.agenerate([user("d")]))

        assert [out[0][0].text for out in asyncio.run(together())] == ["ok", "ok"]
        assert generator._client is None


def test_transport_choice():
    assert EndpointGenerator("http://x/v1", "m").transport == ("aiohttp" if _has_aiohttp() else "httpx")
    assert EndpointGenerator("http://x/v1", "m", transport="httpx").transport == "httpx"
    with pytest.raises(ValueError, match="transport must be"):
        EndpointGenerator("http://x/v1", "m", transport="curl")


@pytest.mark.parametrize("content", [[{"type": "text", "text": "<judge>True</judge>"}], 7, {"text": "x"}])
def test_content_that_is_not_text_is_an_error_not_an_answer(content):
    with FakeServer(lambda request: Reply(content=content)) as server:
        out = generate(EndpointGenerator(server.url, "m", **FAST), ["q"])
    generation = out[0][0]
    assert generation.text == "" and generation.error.startswith(f"the answer's content is a {type(content).__name__}")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_closed_connection_is_not_called_a_timeout(transport):
    with FakeServer(lambda request: Reply(drop=True)) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, max_retries=0, down_after=5,
                                      **{**FAST, "timeout": 30.0})
        out = generate(generator, ["q"])
    error = out[0][0].error
    assert "timed out" not in error and ("connection" in error), error


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_timeout_says_the_limit(transport):
    with FakeServer(lambda request: Reply(text="late", delay=1.0)) as server:
        generator = EndpointGenerator(server.url, "m", transport=transport, max_retries=0, down_after=5,
                                      **{**FAST, "timeout": 0.3})
        out = generate(generator, ["q"])
    assert "timed out after" in out[0][0].error and "request timeout 0.3s" in out[0][0].error


def test_n_is_sent_only_when_more_than_one_answer_is_asked():
    with FakeServer(lambda request: Reply(text="ok")) as server:
        generate(EndpointGenerator(server.url, "m", **FAST), ["a"])
    assert "n" not in server.requests[0].body


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"detail": "Model 'nope' not found"}, "Model 'nope' not found"),
        ({"detail": [{"loc": ["body", "temperature"], "msg": "must be <= 2"}]}, "body.temperature: must be <= 2"),
        ({"error": {"message": "The model `nope` does not exist."}}, "The model `nope` does not exist."),
    ],
)
def test_the_servers_own_words_stop_a_run_that_every_request_would_fail(body, said):
    with FakeServer(lambda request: Reply(status=400, body=body)) as server:
        generator = EndpointGenerator(server.url, "nope", concurrency=1, **FAST)
        with pytest.raises(EndpointDown, match="refused the first 3 requests") as stopped:
            generate(generator, [f"q{i}" for i in range(10)])
    assert said in str(stopped.value) and len(server.requests) == 3


def test_a_prompt_too_long_is_its_own_failure_and_the_run_goes_on():
    def script(request):
        if request.prompt.startswith("long"):
            return Reply(status=400, error="This model's maximum context length is 4096 tokens")
        return Reply(text="fine")

    with FakeServer(script) as server:
        out = generate(EndpointGenerator(server.url, "m", concurrency=1, **FAST), ["long1", "long2", "long3", "long4", "ok"])
    assert [g[0].error for g in out[:4]] == ["HTTP 400: This model's maximum context length is 4096 tokens"] * 4
    assert out[4][0].text == "fine"


def test_a_server_that_falls_behind_gets_fewer_requests_not_a_stop(caplog):
    # A server working on two requests at a time: the more are in flight, the longer each waits.
    def script(request):
        return Reply(text=f"ok {request.prompt}", delay=0.25 * (server.active // 2 + 1))

    with FakeServer(script) as server:
        generator = EndpointGenerator(server.url, "m", concurrency=16, max_retries=6, down_after=3,
                                      backoff=0.01, max_backoff=0.05, timeout=0.9)
        with caplog.at_level("WARNING", logger="funreason.llm.endpoint"):
            out = generate(generator, [f"q{i}" for i in range(24)])
    assert [gens[0].text for gens in out] == [f"ok q{i}" for i in range(24)]  # every answer kept
    assert generator.concurrency_now < 16
    assert "falling behind" in caplog.text and "requests in flight from now on" in caplog.text
