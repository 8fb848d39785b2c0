"""Test helpers: local HTTP servers speaking the OpenAI chat-completions and Anthropic messages
wire protocols with scripted replies, run by uvicorn on 127.0.0.1 in a thread that stops itself."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Scripted:
    """One scripted HTTP answer."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WireServer:
    """The script being served and every request received (parsed JSON body + headers)."""

    script: list[Scripted]
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def openai_reply(calls: list[tuple[str, str]] | None = None, text: str | None = None,
                 usage: tuple[int, int] = (100, 20)) -> Scripted:
    """A chat.completion with tool calls given as (name, raw JSON arguments)."""
    tool_calls = [
        {"id": f"call_{i}_{int(time.time() * 1e6) % 10**9}", "type": "function",
         "function": {"name": n, "arguments": a}}
        for i, (n, a) in enumerate(calls or [])
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Scripted({
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": "test-model",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                  "total_tokens": usage[0] + usage[1]},
    })


def anthropic_reply(calls: list[tuple[str, dict[str, Any]]] | None = None, text: str | None = None,
                    usage: tuple[int, int] = (100, 20)) -> Scripted:
    """A Messages-API message with tool_use blocks given as (name, input)."""
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    for i, (n, inp) in enumerate(calls or []):
        content.append({"type": "tool_use", "id": f"toolu_{i}_{int(time.time() * 1e6) % 10**9}",
                        "name": n, "input": inp})
    return Scripted({
        "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    })


def error_reply(status: int, kind: str = "error") -> Scripted:
    """An error answer; retry-after-ms keeps the SDK's backoff short in tests."""
    return Scripted({"error": {"message": f"scripted {status}", "type": kind}}, status,
                    {"retry-after-ms": "20"})


@contextmanager
def serve_wire(script: list[Scripted]) -> Iterator[WireServer]:
    """Serve `script` (one answer per request, in order) on 127.0.0.1; stops when the block ends."""
    server_state = WireServer(script=list(script))
    lock = threading.Lock()

    async def handle(request: Request) -> JSONResponse:
        body = await request.json()
        with lock:
            server_state.requests.append(body)
            server_state.headers.append(dict(request.headers))
            if not server_state.script:
                return JSONResponse({"error": {"message": "script exhausted", "type": "test"}},
                                    status_code=400, headers={"x-should-retry": "false"})
            item = server_state.script.pop(0)
        return JSONResponse(item.body, status_code=item.status, headers=item.headers)

    app = Starlette(routes=[
        Route("/v1/chat/completions", handle, methods=["POST"]),
        Route("/v1/messages", handle, methods=["POST"]),
    ])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    server_state.url = f"http://127.0.0.1:{port}"
    try:
        yield server_state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def body_json(server: WireServer, i: int) -> str:
    """The i-th request body as JSON text (for substring assertions)."""
    return json.dumps(server.requests[i])
