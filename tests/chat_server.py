"""A local HTTP server that speaks the OpenAI chat-completions protocol, for tests and the
bench: it answers `POST /v1/chat/completions` with the replies it was given, in order, and
keeps every request it received (path, headers, JSON body).

A reply is a `Reply`: a status, a body (a dict is sent as JSON, a str as it is) and an
optional delay before answering (to make the client time out). `completion()` builds the
body a server sends for a model's answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | str = ""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ChatServer:
    base_url: str
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    # What to answer once `replies` is used up (None: HTTP 500).
    default: Callable[[dict[str, Any]], Reply] | None = None

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def completion(
    content: str, *, tokens: tuple[int, int] = (120, 40), finish: str = "stop"
) -> dict[str, Any]:
    """A chat completion's body, as OpenAI, Ollama and vLLM send it."""
    prompt_tokens, completion_tokens = tokens
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    """A server on a free loopback port for the duration of the block."""
    state = ChatServer(base_url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            with lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                if state.replies:
                    reply = state.replies.pop(0)
                elif state.default is not None:
                    reply = state.default(body)
                else:
                    reply = Reply(500, {"error": {"message": "no reply scripted"}})
            if reply.delay:
                time.sleep(reply.delay)
            data = (
                json.dumps(reply.body).encode()
                if isinstance(reply.body, dict)
                else reply.body.encode()
            )
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet tests

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
