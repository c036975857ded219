"""A tiny OpenAI-compatible HTTP server on loopback, scripted per request, for tests and benchmarks.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for `/v1/chat/completions` and
`/v1/completions`, on asyncio streams in a background thread, so it holds many slow requests at
once. A script turns each request into a `Reply`: text (one per choice), a delay, an HTTP error
with headers, or a dropped connection (the socket closed without an answer).

    with FakeServer(lambda request: Reply(text="hi", delay=0.1)) as server:
        EndpointGenerator(server.url, "fake")

Run as a script (`python fake_server.py --delay 0.2 --text '<judge>True</judge>'`) it prints its
URL and serves a fixed reply until killed, for benchmarks that want the server in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """What the server received: the path, the JSON body, the request's arrival number, and its
    headers (names in lower case)."""

    path: str
    body: dict[str, Any]
    index: int
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """The last user message's text (chat) or the prompt string (completions)."""
        if "prompt" in self.body:
            return str(self.body["prompt"])
        users = [m for m in self.body.get("messages", []) if m.get("role") == "user"]
        return str(users[-1].get("content", "")) if users else ""


@dataclass
class Reply:
    """How to answer one request. `text` as a list gives exactly that many choices; a string is
    repeated `n` times. `status` >= 400 sends `error` as an OpenAI error body with `headers`."""

    text: str | list[str] = ""
    reasoning: str | None = None
    finish_reason: str = "stop"
    delay: float = 0.0
    drop: bool = False
    status: int = 200
    error: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    content: Any = None  # sent as every choice's message content instead of `text` (a list, a number...)
    body: dict[str, Any] | None = None  # an error's JSON body instead of OpenAI's {"error": {"message": error}}
    tool_calls: list[dict[str, str]] | None = None  # {"name", "arguments"} each: sent as message.tool_calls


Script = Callable[[Request], Reply]
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}


class FakeServer:
    """The server; a context manager that starts it on 127.0.0.1 (an ephemeral port) and stops it."""

    def __init__(self, script: Script | None = None):
        self.script = script or (lambda request: Reply(text=request.prompt))
        self.requests: list[Request] = []
        self.active = self.peak = 0  # requests being answered now, and the most at once
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeServer:
        ready = threading.Event()
        loop = self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._start())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Close the port and every open connection (later requests are refused)."""
        if self._thread is None or self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def serve_forever(self, port: int = 0) -> None:
        """Serve in the current event loop until cancelled (script mode)."""
        self.port = port
        await self._start()
        print(self.url, flush=True)
        assert self._server is not None
        await self._server.serve_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    break
                path = line.decode("latin-1").split(" ")[1]
                headers = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = header.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(path, json.loads(raw or b"{}"), len(self.requests), headers)
                self.requests.append(request)
                reply = self.script(request)
                self.active += 1
                self.peak = max(self.peak, self.active)
                try:
                    if reply.delay:
                        await asyncio.sleep(reply.delay)
                finally:
                    self.active -= 1
                if reply.drop:
                    break
                writer.write(_response(request, reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _response(request: Request, reply: Reply) -> bytes:
    if request.path.endswith("/models") and reply.status < 400:  # GET /v1/models: `text` lists the ids
        ids = reply.text if isinstance(reply.text, list) else [reply.text]
        payload: dict[str, Any] = {"object": "list", "data": [{"id": i, "object": "model", "owned_by": "fake"} for i in ids]}
    elif reply.status >= 400:
        payload = reply.body or {"error": {"message": reply.error, "type": "fake", "code": reply.status}}
    else:
        texts = reply.text if isinstance(reply.text, list) else [reply.text] * int(request.body.get("n") or 1)
        chat = request.path.endswith("/chat/completions")
        choices = []
        for index, text in enumerate(texts):
            choice: dict[str, Any] = {"index": index, "finish_reason": reply.finish_reason}
            if chat:
                choice["message"] = {"role": "assistant", "content": text if reply.content is None else reply.content}
                if reply.tool_calls is not None:
                    choice["message"]["content"] = None
                    choice["message"]["tool_calls"] = [
                        {"id": f"call_{i}", "type": "function", "function": call} for i, call in enumerate(reply.tool_calls)
                    ]
                if reply.reasoning is not None:
                    choice["message"]["reasoning_content"] = reply.reasoning
            else:
                choice["text"], choice["logprobs"] = text, None
            choices.append(choice)
        tokens = sum(len(t.split()) for t in texts)
        payload = {"id": f"fake-{request.index}", "object": "chat.completion" if chat else "text_completion",
                   "created": 0, "model": request.body.get("model", "fake"), "choices": choices,
                   "usage": {"prompt_tokens": 7, "completion_tokens": tokens, "total_tokens": 7 + tokens}}
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in reply.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--text", default="<judge>True</judge>", help="the answer to every request")
    args = parser.parse_args()
    server = FakeServer(lambda request: Reply(text=args.text, delay=args.delay))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever(args.port))


if __name__ == "__main__":
    main()
