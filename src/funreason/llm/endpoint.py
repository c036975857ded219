"""Generation from any OpenAI-compatible endpoint: vLLM, SGLang, llama.cpp server, hosted APIs.

One `openai.AsyncOpenAI` client sends many requests at once (bounded by `concurrency`, with the
client's connection pool sized to match; the pool is open only while `agenerate` calls are in
flight, so nothing needs closing and any event loop can drive the generator). The client's own
retries are off; ours retry 429, 408, 5xx, timeouts and dropped or refused connections with
exponential backoff and jitter, honouring `Retry-After`. What one prompt cannot get (a 400 for a context that is too long, or retries run
out) becomes a `Generation` with `error` set. When `down_after` requests in a row run out of
retries without an answer, or the endpoint answers 401/403/404 (wrong key, URL or model), the
endpoint counts as down and `EndpointDown` is raised so the caller can stop cleanly.

Modes: `chat` posts the messages to `/chat/completions`. `completions` posts to `/completions` the
messages rendered by `tokenizer.apply_chat_template(..., add_generation_prompt=True)` — the model's
own template, never a home-made concatenation (which would silently change the prompt format).
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, Protocol

import openai

from funreason.llm.base import EndpointDown, Generation, gather_or_cancel

Mode = Literal["chat", "completions"]
Transport = Literal["auto", "httpx", "aiohttp"]
logger = logging.getLogger(__name__)
_RETRY_STATUS = {408, 409, 425, 429}  # plus every 5xx
REFUSALS_TO_STOP = 3  # the same client error on this many requests, and no answer yet: stop the run
# A refusal about the prompt's length is that prompt's own, however many prompts are too long.
_PROMPT_TOO_LONG = re.compile(r"context|too long|token|length", re.IGNORECASE)
_FATAL_STATUS = {401: "the API key was refused", 403: "access is forbidden",
                 404: "the URL or the model name is wrong (the URL usually ends in /v1)"}


class ChatTemplate(Protocol):
    """What completions mode needs of a tokenizer."""

    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> Any: ...


class Slots:
    """At most `limit` requests in flight, a limit that can be lowered while requests wait."""

    def __init__(self, limit: int):
        self.limit, self.held = limit, 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.held < self.limit)
            self.held += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self.held -= 1
            self._changed.notify_all()

    def shrink(self) -> int | None:
        """Halve the limit (at least 1); the new limit, or None when it is 1 already."""
        if self.limit <= 1:
            return None
        self.limit = max(1, self.limit // 2)
        return self.limit


class _Retryable(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, message: str, wait: float | None = None, *, timed_out: bool = False):
        super().__init__(message)
        self.wait = wait  # seconds asked for by Retry-After, if any
        self.timed_out = timed_out  # the server took longer than the request timeout


class EndpointGenerator:
    """A `Generator` over an OpenAI-compatible HTTP endpoint.

    `base_url` is the API root (`http://localhost:8000/v1`), `model` the served model name.
    `timeout` bounds each request (seconds); `max_retries` retries each request after the first
    attempt, waiting `backoff * 2**attempt` seconds (capped at `max_backoff`, jittered ±25%), or
    what `Retry-After` asks (capped, never less). `deadline` bounds all requests together (seconds
    from the first): past it `EndpointDown` is raised, as for a server that is down. `down_after` consecutive requests that exhaust
    their retries raise `EndpointDown`, and the generator stays down (later calls raise at once). `extra_body` is merged into every request (e.g. vLLM's
    `{"chat_template_kwargs": {"enable_thinking": False}}`). `transport`: openai's aiohttp client,
    which spends about half the CPU per request of its httpx one (what a single client at
    hundreds of requests per second runs out of), or httpx; `auto` takes aiohttp when installed
    (`pip install 'openai[aiohttp]'`).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "EMPTY",
        mode: Mode = "chat",
        tokenizer: ChatTemplate | None = None,
        concurrency: int = 64,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        down_after: int = 3,
        extra_body: dict[str, Any] | None = None,
        transport: Transport = "auto",
        deadline: float | None = None,
    ):
        if mode not in ("chat", "completions"):
            raise ValueError(f"mode must be 'chat' or 'completions', not {mode!r}")
        if mode == "completions" and tokenizer is None:
            raise ValueError("mode='completions' renders the messages with the model's chat template: pass "
                             "tokenizer=funreason.models.load_tokenizer(<model>), or use mode='chat'")
        if transport not in ("auto", "httpx", "aiohttp"):
            raise ValueError(f"transport must be 'auto', 'httpx' or 'aiohttp', not {transport!r}")
        if transport == "aiohttp" and not _has_aiohttp():
            raise ValueError("transport='aiohttp' needs aiohttp and an openai with DefaultAioHttpClient: "
                             "pip install -U 'openai[aiohttp]'")
        if concurrency < 1 or max_retries < 0 or down_after < 1 or timeout <= 0 or (deadline is not None and deadline <= 0):
            raise ValueError("concurrency and down_after must be >= 1, max_retries >= 0, timeout and deadline > 0")
        self.name = model
        self.base_url, self.model, self.api_key = base_url, model, api_key
        self.mode, self.tokenizer = mode, tokenizer
        self.concurrency, self.timeout, self.max_retries = concurrency, timeout, max_retries
        self.concurrency_now = concurrency  # lowered when the server falls behind (`_fall_back`)
        self.backoff, self.max_backoff, self.down_after = backoff, max_backoff, down_after
        self.extra_body = dict(extra_body or {})
        self.deadline = deadline
        self._deadline_at: float | None = None  # monotonic time the deadline passes, from the first request
        self.transport = "aiohttp" if transport == "aiohttp" or (transport == "auto" and _has_aiohttp()) else "httpx"
        self.n_supported: bool | None = None  # learnt from the first answer to n > 1
        self._failing = 0  # consecutive requests that ran out of retries
        self._answered = False  # whether any request has been answered
        self._refusals: dict[str, int] = {}  # client errors (4xx) before any answer, by their text
        self._down: str | None = None
        self._users = 0  # agenerate calls in flight, sharing one pool
        self._client: openai.AsyncOpenAI | None = None
        self._slots: Slots | None = None

    # --- the Generator protocol -------------------------------------------------------------------

    async def agenerate(
        self,
        prompts: Sequence[list[dict[str, Any]]],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        n: int = 1,
        tools: Sequence[list[dict[str, Any]] | None] | None = None,
    ) -> list[list[Generation]]:
        """Sample `n` completions per prompt, all prompts at once (at most `concurrency` in flight).
        `tools`: per prompt, the OpenAI `tools` field to send (None or empty: none); the server's
        `tool_calls` come back in `Generation.tool_calls`.

        Returns one list of `n` generations per prompt, in order; a failed prompt gets `n`
        generations carrying its `error`. Raises `EndpointDown` (after cancelling what is in
        flight) when the endpoint stops answering.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        params = {"max_tokens": max_tokens, "temperature": temperature}
        if tools is not None and len(tools) != len(prompts):
            raise ValueError(f"{len(tools)} tools lists for {len(prompts)} prompts")
        per_prompt = [{**params, "tools": tools[i]} if tools and tools[i] else params for i in range(len(prompts))]
        self._open()
        try:
            calls = gather_or_cancel(self._prompt(p, n, q) for p, q in zip(prompts, per_prompt, strict=True))
            if self.deadline is None:
                return await calls
            if self._deadline_at is None:
                self._deadline_at = time.monotonic() + self.deadline
            try:
                return await asyncio.wait_for(calls, max(0.0, self._deadline_at - time.monotonic()))
            except asyncio.TimeoutError:
                raise self._mark_down(f"the deadline of {self.deadline:g}s on {self.base_url} has passed; what "
                                      "finished is kept (rerun with a later --deadline to go on)") from None
        finally:
            await self._close()

    # --- one prompt -----------------------------------------------------------------------------

    def _open(self) -> None:
        """Open the connection pool for the first call in flight; later calls share it.

        The pool lives only while calls are in flight (closed by `_close` after the last), so an
        idle generator holds no sockets and each event loop gets a pool of its own.
        """
        if self._users == 0:
            # openai re-exports the Limits of the httpx flavour it is built on (httpx or httpx2).
            limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            kind = openai.DefaultAioHttpClient if self.transport == "aiohttp" else openai.DefaultAsyncHttpxClient
            http = kind(limits=limits, timeout=self.timeout)
            self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0,
                                              timeout=self.timeout, http_client=http)
            self._slots = Slots(self.concurrency_now)  # a limit lowered before stays lowered
        self._users += 1

    async def _close(self) -> None:
        self._users -= 1
        if self._users == 0 and self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _prompt(self, messages: list[dict[str, Any]], n: int, params: dict[str, Any]) -> list[Generation]:
        """`n` generations for one prompt: the API's `n`, or `n` requests where the server ignores it."""
        if n == 1 or self.n_supported is not False:
            first = await self._request(messages, n, params)
            if first[0].error:
                return [replace(first[0]) for _ in range(n)]
            if len(first) >= n:
                return first[:n]
            missing = n - len(first)
        else:
            first, missing = [], n
        rest = await asyncio.gather(*(self._request(messages, 1, params) for _ in range(missing)))
        return first + [generations[0] for generations in rest]

    async def _request(self, messages: list[dict[str, Any]], n: int, params: dict[str, Any]) -> list[Generation]:
        """One request with retries; at least one generation (an error one when it fails)."""
        client, slots = self._client, self._slots
        assert client is not None and slots is not None, "requests are only made inside agenerate"
        last = ""
        for attempt in range(self.max_retries + 1):
            self._check_down()
            try:
                async with slots:
                    self._check_down()
                    generations = await self._call(client, messages, n, params)
            except _Retryable as exc:
                last = str(exc)
                if exc.timed_out and self._answered:
                    self._fall_back(slots, last)
                if attempt == self.max_retries:
                    break
                if exc.wait is not None:  # Retry-After: never sooner than asked
                    wait = min(self.max_backoff, exc.wait) * random.uniform(1.0, 1.25)
                else:
                    wait = min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.75, 1.25)
                await asyncio.sleep(wait)
                continue
            except openai.APIStatusError as exc:
                self._failing = 0
                if exc.status_code in _FATAL_STATUS:
                    raise self._mark_down(f"{self.base_url} answered {exc.status_code} for model {self.model!r}: "
                                          f"{_FATAL_STATUS[exc.status_code]} ({_message(exc)})") from exc
                error = f"HTTP {exc.status_code}: {_message(exc)}"
                self._refused(error)
                return [Generation(error=error)]
            except openai.OpenAIError as exc:  # a malformed answer: no point asking again
                self._failing = 0
                return [Generation(error=f"{type(exc).__name__}: {exc}")]
            self._failing, self._answered = 0, True
            if n > 1:
                self.n_supported = len(generations) >= n
            return generations
        self._failing += 1
        if self._failing >= self.down_after:
            raise self._mark_down(f"{self.base_url} did not answer {self._failing} requests in a row after "
                            f"{self.max_retries} retries each (last: {last}); is the server running?")
        return [Generation(error=f"gave up after {self.max_retries + 1} attempts: {last}")]

    async def _call(self, client: openai.AsyncOpenAI, messages: list[dict[str, Any]], n: int,
                    params: dict[str, Any]) -> list[Generation]:
        """One HTTP attempt; retryable failures become `_Retryable`."""
        if self.mode == "chat":
            path, body = "/chat/completions", {"model": self.model, "messages": messages}
        else:
            prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            path, body = "/completions", {"model": self.model, "prompt": prompt}
        if n > 1:  # sent only when asked for: some servers refuse the field, others ignore it
            body["n"] = n
        body.update({**params, **self.extra_body})
        started = time.monotonic()
        try:
            # The client's generic `post` (its documented way to reach any endpoint) sends the body
            # as is and returns the JSON: servers' extra fields pass through both ways, and the
            # typed `create` would spend more CPU per request than the rest of the request.
            response = await client.post(path, body=body, cast_to=object)
        except openai.APITimeoutError as exc:
            elapsed = time.monotonic() - started
            if elapsed < 0.9 * self.timeout:  # the client maps some dropped connections to timeouts
                raise _Retryable(f"connection closed after {elapsed:.1f}s without an answer "
                                 f"({_cause(exc)})") from exc
            raise _Retryable(f"timed out after {elapsed:.1f}s (request timeout {self.timeout:g}s)", timed_out=True) from exc
        except openai.APIConnectionError as exc:
            raise _Retryable(f"connection failed: {_cause(exc)}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code in _RETRY_STATUS or exc.status_code >= 500:
                raise _Retryable(f"HTTP {exc.status_code}: {_message(exc)}", _retry_after(exc)) from exc
            raise
        if not isinstance(response, dict) or not isinstance(response.get("choices"), list) or not response["choices"]:
            raise _Retryable(f"the answer has no choices: {str(response)[:200]}")
        return _generations(response)

    def _fall_back(self, slots: Slots, why: str) -> None:
        """A request timed out while others are answered: the server is slower than the requests in
        flight, not down. Halve the requests in flight (never below 1), say so, and go on."""
        lowered = slots.shrink()
        if lowered is not None:
            self.concurrency_now = lowered
            logger.warning("%s answers but is falling behind (%s): %d requests in flight from now on",
                           self.base_url, why, lowered)

    def _refused(self, error: str) -> None:
        """Stop at once when the server refuses the first requests alike (HTTP 400 for a wrong model
        name or field): every request would get the same answer. A refusal of one prompt (too long
        for the context) differs from the others', or comes after answers, and is that prompt's."""
        if self._answered or _PROMPT_TOO_LONG.search(error):
            return
        self._refusals[error] = self._refusals.get(error, 0) + 1
        if self._refusals[error] >= REFUSALS_TO_STOP:
            raise self._mark_down(f"{self.base_url} refused the first {REFUSALS_TO_STOP} requests for model "
                                  f"{self.model!r} alike and answered none: {error}")

    def _check_down(self) -> None:
        if self._down is not None:
            raise EndpointDown(self._down)

    def _mark_down(self, message: str) -> EndpointDown:
        """Remember that the endpoint is down, so requests still in flight stop too."""
        self._down = message
        return EndpointDown(message)


def _generations(response: dict[str, Any]) -> list[Generation]:
    """The choices of a (chat) completion; reasoning the server split off goes back in `<think>`.

    Every generation carries the prompt's token count; the completion tokens of the request are
    shared out evenly (any remainder on the first), so sums over generations stay right.
    """
    usage = response.get("usage") or {}
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    choices = sorted(response["choices"], key=lambda choice: choice.get("index") or 0)
    share, extra = divmod(int(usage.get("completion_tokens") or 0), len(choices))
    generations = []
    for index, choice in enumerate(choices):
        message = choice.get("message")
        if isinstance(message, dict):
            text = message.get("content") or ""
            if not isinstance(text, str):  # read as text, a list's repr could pass for an answer
                generations.append(Generation(
                    error=f"the answer's content is a {type(text).__name__}, not text: {str(text)[:120]}",
                    finish_reason=choice.get("finish_reason"), prompt_tokens=prompt_tokens))
                continue
            calls = _tool_calls(message.get("tool_calls"))
            thought = message.get("reasoning_content") or message.get("reasoning")
            if isinstance(thought, str) and thought.strip():
                text = f"<think>\n{thought.strip()}\n</think>\n\n{text}"
        else:
            text, calls = choice.get("text") or "", None
        generations.append(Generation(text=str(text), finish_reason=choice.get("finish_reason"),
                                      prompt_tokens=prompt_tokens, completion_tokens=share + (extra if index == 0 else 0),
                                      tool_calls=calls))
    return generations


def served_model(base_url: str, api_key: str = "EMPTY", timeout: float = 60.0) -> str:
    """The model an OpenAI-compatible server serves, when it serves exactly one (`GET /models`,
    as vLLM, SGLang, llama.cpp and `transformers serve` answer it); `ValueError` saying which
    otherwise, or why the list could not be read."""
    client = openai.OpenAI(base_url=base_url.rstrip("/"), api_key=api_key or "EMPTY", timeout=timeout, max_retries=1)
    try:
        ids = [model.id for model in client.models.list()]
    except openai.OpenAIError as exc:
        raise ValueError(f"{base_url}/models could not be read to find the served model ({exc}); name it") from None
    finally:
        client.close()
    if len(ids) != 1:
        listed = ", ".join(ids[:10]) or "none"
        raise ValueError(f"{base_url} serves {len(ids)} models ({listed}): name the one to use")
    return ids[0]


def _tool_calls(calls: Any) -> list[dict[str, str]] | None:
    """A message's `tool_calls` as BFCL keeps them, `[{name: arguments_json}]`; None without any.
    A call that is not `{"function": {"name", "arguments"}}` is kept as given under "" (it then
    fails to decode, as it would in BFCL)."""
    if not isinstance(calls, list) or not calls:
        return None
    kept = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            kept.append({function["name"]: function.get("arguments")})
        else:
            kept.append({"": call})
    return kept


def _cause(exc: BaseException) -> str:
    """What the transport said under the client's error: `ServerDisconnectedError: ...`."""
    cause = exc.__cause__ or exc
    text = str(cause)
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _has_aiohttp() -> bool:
    return hasattr(openai, "DefaultAioHttpClient") and importlib.util.find_spec("aiohttp") is not None


def _message(exc: openai.APIStatusError) -> str:
    """The server's own error text, short: OpenAI's `error.message`, or FastAPI's `detail` (a text
    or a list of `{loc, msg}`, as `transformers serve` and others answer), else the client's."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        text = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else inner
        if isinstance(text, list):  # FastAPI's validation errors
            text = "; ".join(
                f"{'.'.join(map(str, item.get('loc', [])))}: {item.get('msg')}" if isinstance(item, dict) else str(item)
                for item in text
            )
        if text:
            return str(text)[:300]
    return str(exc.message)[:300]


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds to wait from `retry-after-ms` / `Retry-After` (seconds or an HTTP date), if given."""
    headers = exc.response.headers
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None
