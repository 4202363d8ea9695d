"""A scripted HTTP server on 127.0.0.1 whose every answer a test chooses.

It speaks raw HTTP/1.1 on an asyncio loop in a background thread, so it can do what a real
server does and a mock transport cannot: stay silent, trickle a body byte by byte (forever if
asked), reset the connection, lie in Content-Length, send huge or deeply nested bodies, echo
the request's headers back. Every request is recorded (method, path, headers, body) so a test
can assert what reached the server.

    with HostileServer() as srv:
        srv.route("POST", "/v1/videos/generations", Reply(json={"id": "t1"}))
        srv.route("GET", "/v1/tasks/", [Reply(json=...), Silence()])   # in turn; last repeats
        srv.route("GET", "/cdn/", lambda req: Reply(body=b"..."))      # computed per request
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_UNSET: Any = object()


@dataclass
class Recorded:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """An answer. `json` or `body` (raw bytes); `delay` s of silence before it; `trickle`
    (bytes, seconds) sends the body that many bytes at a time; `endless` keeps trickling past
    the body for ever (with a Content-Length that promises more)."""

    status: int = 200
    json: Any = _UNSET
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: tuple[int, float] | None = None
    endless: bool = False
    content_length: int | None = None  # a lie, when set
    reason: str = "OK"

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.json is _UNSET:
            return b""
        return json.dumps(self.json).encode()


@dataclass
class Silence:
    """Read the request, then say nothing until the client gives up."""


@dataclass
class Reset:
    """Read the request, then reset the connection (TCP RST)."""


@dataclass
class Close:
    """Read the request, then close the connection without a word."""


Action = Reply | Silence | Reset | Close
Handler = Action | list[Action] | Callable[[Recorded], Action]


class HostileServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        self._conns: set[asyncio.Task[None]] = set()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="hostile-server")
        self._server: asyncio.Server | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20), self.loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ scripting
    def route(self, method: str, prefix: str, handler: Handler) -> None:
        """Answer `method` requests whose path starts with `prefix` (later routes win)."""
        if isinstance(handler, list):
            handler = list(handler)
        with self._lock:
            self._routes.insert(0, (method.upper(), prefix, handler))

    def seen(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and r.path.startswith(prefix)]

    @property
    def creates(self) -> list[Recorded]:
        return self.seen("POST", "/v1/videos/generations")

    def _pick(self, req: Recorded) -> Action:
        with self._lock:
            for method, prefix, handler in self._routes:
                if method == req.method and req.path.startswith(prefix):
                    if isinstance(handler, list):
                        return handler.pop(0) if len(handler) > 1 else handler[0]
                    return handler(req) if callable(handler) else handler
        return Reply(404, json={"error": {"message": f"no route for {req.method} {req.path}",
                                          "type": "not_found_error"}})

    # ------------------------------------------------------------------ the wire
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                req = await _read_request(reader)
                if req is None:
                    break
                with self._lock:
                    self.requests.append(req)
                if not await self._perform(self._pick(req), reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                asyncio.CancelledError, OSError):
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _perform(self, action: Action, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> bool:
        """Carry out one action; True when the connection may serve another request."""
        if isinstance(action, Silence):
            await reader.read()  # returns when the client hangs up
            return False
        if isinstance(action, Reset):
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if isinstance(action, Close):
            writer.close()
            return False
        if action.delay:
            await asyncio.sleep(action.delay)
        body = action.payload()
        length = action.content_length
        if length is None:
            length = 10**9 if action.endless else len(body)
        headers = {"Content-Type": "application/json", **action.headers,
                   "Content-Length": str(length)}
        head = f"HTTP/1.1 {action.status} {action.reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1", "backslashreplace"))
        await writer.drain()
        if action.trickle is None:
            writer.write(body)
            await writer.drain()
        else:
            step, pause = action.trickle
            data = body
            while data or action.endless:
                chunk, data = (data[:step], data[step:]) if data else (b" " * step, b"")
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(pause)
        return length == len(body)


async def _read_request(reader: asyncio.StreamReader) -> Recorded | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length") or 0)
    body = await reader.readexactly(size) if size else b""
    return Recorded(method, path, headers, body)
