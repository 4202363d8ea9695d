"""The HTTP face of the emulator: auth, routing, fault injection, JSON and file responses.

Plain `http.server` so the emulator needs nothing beyond the standard library. HTTP/1.1 with a
Content-Length on every answer lets clients keep connections alive, which is what makes faults
such as a connection closed mid-request realistic.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from . import _asset_routes as asset_routes
from . import _catalog_routes as routes
from ._app import Abort, App, LogEntry
from ._errors import ApiFailure, api_error, bad_request, fail

logger = logging.getLogger("seedance_widgets.emulator")

MAX_BODY_BYTES = 64 * 1024 * 1024  # a few data-URL images; anything bigger is a mistake
IDLE_TIMEOUT_S = 120.0  # idle keep-alive connections are dropped after this
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_FILE = re.compile(r"^/files/(ldtask_[0-9a-f]{32}(?:\.mp4|-last\.png))$")


class Reply(NamedTuple):
    status: int
    body: dict[str, Any]


_Route = Callable[["Handler", Mapping[str, str], Mapping[str, str], int, bytes], Reply]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SeedanceEmulator/0.1"
    # Headers and body go out as two writes; without this, Nagle plus delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self._status: int | None = None
        self._key_index: int | None = None
        self._extra_headers: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        # Requests http.server cannot parse still get a contract-shaped JSON error.
        self.close_connection = True
        kind = "invalid_request_error" if code < 500 else "server_error"
        body = api_error(kind, message or HTTPStatus(code).phrase)
        with contextlib.suppress(OSError):
            self._send_json(code, body, {"Connection": "close"})

    def _send(self, status: int, data: bytes, content_type: str,
              headers: Mapping[str, str] | None = None, *, throttle: float = 0.0) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**self._extra_headers, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD" or status in (204, 304):
            return
        if throttle <= 0:
            self.wfile.write(data)
            return
        chunk = max(1024, int(throttle / 20))
        began, sent = time.monotonic(), 0
        for i in range(0, len(data), chunk):
            self.wfile.write(data[i : i + chunk])
            sent += len(data[i : i + chunk])
            # Pace against the clock so the average rate holds whatever each write costs.
            delay = began + sent / throttle - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None,
                   *, truncate: bool = False) -> None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        if truncate:
            data = data[: max(1, len(data) // 2)]
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes:
        # Always drain the body, even for requests about to be refused, so the next request
        # on a kept-alive connection starts where it should.
        if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
            self.close_connection = True
            raise bad_request("chunked request bodies are not supported; send Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            raise bad_request(f"request body must be 0-{MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _base_url(self) -> str:
        # Result URLs use the host the client reached us by (a port mapping, "localhost").
        host = self.headers.get("Host", "")
        return "http://" + host if _HOST.match(host) else self.server.base_url

    # ------------------------------------------------------------------ dispatch
    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        app = self.server.app
        self._status, self._key_index, self._extra_headers = None, None, {}
        started = time.time()
        aborted = False
        split = urlsplit(self.path)
        path = split.path
        query = dict(parse_qsl(split.query))
        try:
            body = self._read_body()
            if app.faults.latency_s > 0:
                time.sleep(app.faults.latency_s)
            if path.startswith("/files/"):
                self._extra_headers["Access-Control-Allow-Origin"] = "*"
                self._serve_file(path, query)
            elif path == "/v1" or path.startswith("/v1/"):
                self._serve_api(path, query, body)
            else:
                raise fail(404, "not_found_error", f"No route for {self.command} {path}")
        except ApiFailure as failure:
            self._send_json(failure.status, failure.body, failure.headers)
        except Abort:
            aborted = True
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away; nothing to tell it
        except Exception:
            logger.exception("emulator error on %s %s", self.command, path)
            self.close_connection = True
            if self._status is None:
                self._send_json(500, api_error("server_error", "An internal error occurred"))
        finally:
            # Logged before an abort takes effect, so a client that saw the connection drop
            # also finds the entry.
            app.record(LogEntry(started, self.command, path, self._status, self._key_index))
            if aborted:
                self._abort()

    def _serve_api(self, path: str, query: Mapping[str, str], body: bytes) -> None:
        app = self.server.app
        self._key_index = key = app.authenticate(self.headers.get("Authorization"))
        limited = app.rate_limit()
        if limited is not None:
            raise limited
        method = "GET" if self.command == "HEAD" else self.command
        route, params = _match(path, method)
        faults = app.faults
        if method in ("GET", "DELETE"):
            if app.dice.chance(faults.reset_rate):
                raise Abort
            if app.dice.chance(faults.error_rate):
                status = app.dice.choice((500, 502, 503))
                raise fail(status, "server_error", "An internal error occurred",
                           code=f"emulated_{status}", retryable=True)
            if faults.slow_s > 0 and app.dice.chance(faults.slow_rate):
                # Held past a client's read timeout: it gives up, this answer lands nowhere.
                time.sleep(faults.slow_s)
        reply = route(self, params, query, key, body)
        truncate = (method == "GET" and reply.status == 200
                    and app.dice.chance(faults.malformed_rate))
        self._send_json(reply.status, reply.body, truncate=truncate)

    # ------------------------------------------------------------------ routes
    def _create(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                raw: bytes) -> Reply:
        return Reply(200, self.server.app.create_task(raw, key))

    def _get_task(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                  raw: bytes) -> Reply:
        store = self.server.app.store
        return Reply(200, store.body(store.find(params["id"], key), self._base_url()))

    def _get_legacy(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                    raw: bytes) -> Reply:
        # The contract documents no 403 on this older route: another key's task is "not found".
        store = self.server.app.store
        task = store.find(params["id"], key, foreign_status=404)
        return Reply(200, store.body(task, self._base_url()))

    def _cancel(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                raw: bytes) -> Reply:
        store = self.server.app.store
        return Reply(200, store.body(store.cancel(params["id"], key), self._base_url()))

    def _models(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                raw: bytes) -> Reply:
        return Reply(200, routes.list_models(self.server.app.catalog, query))

    def _model(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
               raw: bytes) -> Reply:
        return Reply(200, routes.model_detail(self.server.app.catalog, params["model"]))

    def _model_pricing(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                       raw: bytes) -> Reply:
        return Reply(200, routes.model_pricing(self.server.app.catalog, params["model"]))

    def _pricing(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                 raw: bytes) -> Reply:
        return Reply(200, routes.pricing_list(self.server.app.catalog, query))

    # ------------------------------------------------------------------ material assets
    def _asset_create(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                      raw: bytes) -> Reply:
        app = self.server.app
        return Reply(201, asset_routes.create(app.assets, key, raw, app.catalog))

    def _asset_list(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                    raw: bytes) -> Reply:
        return Reply(200, asset_routes.listing(self.server.app.assets, key, query))

    def _asset_get(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                   raw: bytes) -> Reply:
        assets = self.server.app.assets
        project = asset_routes.project_of(query)
        return Reply(200, assets.body(assets.get(key, params["id"], project)))

    def _asset_update(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                      raw: bytes) -> Reply:
        app = self.server.app
        return Reply(200, asset_routes.update(app.assets, key, params["id"], raw, app.catalog))

    def _asset_delete(self, params: Mapping[str, str], query: Mapping[str, str], key: int,
                      raw: bytes) -> Reply:
        assets = self.server.app.assets
        asset = assets.delete(key, params["id"], asset_routes.project_of(query))
        return Reply(200, {"deleted": True, "id": asset.id})

    # ------------------------------------------------------------------ result files
    def _serve_file(self, path: str, query: Mapping[str, str]) -> None:
        if self.command not in ("GET", "HEAD"):
            raise fail(405, "invalid_request_error", "Files are read with GET or HEAD",
                       code="method_not_allowed")
        m = _FILE.match(path)
        if not m:
            raise fail(404, "not_found_error", "File not found")
        data, content_type = self.server.app.store.file(m[1], query.get("exp"),
                                                        query.get("sig"))
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
        status = 200
        wanted = self.headers.get("Range")
        span = _byte_range(wanted, len(data)) if wanted else None
        if span == "unsatisfiable":
            raise ApiFailure(416, api_error("invalid_request_error", "Range not satisfiable"),
                             {"Content-Range": f"bytes */{len(data)}", **headers})
        if isinstance(span, tuple):
            start, end = span
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        self._send(status, data, content_type, headers,
                   throttle=self.server.app.faults.download_bytes_per_s)


def _byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte of a single `bytes=` range, "unsatisfiable", or None to send all."""
    m = _RANGE.match(header.strip())
    if not m or (not m[1] and not m[2]):
        return None  # multiple or odd ranges: a full 200 answer is always allowed
    if not m[1]:
        suffix = int(m[2])
        return (max(0, size - suffix), size - 1) if suffix and size else "unsatisfiable"
    start = int(m[1])
    end = min(int(m[2]), size - 1) if m[2] else size - 1
    return (start, end) if start < size and start <= end else "unsatisfiable"


_ROUTES: tuple[tuple[re.Pattern[str], dict[str, _Route]], ...] = (
    (re.compile(r"/v1/videos/generations"), {"POST": Handler._create}),
    (re.compile(r"/v1/videos/generations/(?P<id>[^/]+)"), {"GET": Handler._get_legacy}),
    (re.compile(r"/v1/tasks/(?P<id>[^/]+)"),
     {"GET": Handler._get_task, "DELETE": Handler._cancel}),
    (re.compile(r"/v1/models"), {"GET": Handler._models}),
    (re.compile(r"/v1/models/(?P<model>[^/]+)/pricing"), {"GET": Handler._model_pricing}),
    (re.compile(r"/v1/models/(?P<model>[^/]+)"), {"GET": Handler._model}),
    (re.compile(r"/v1/pricing"), {"GET": Handler._pricing}),
    (re.compile(r"/v1/videos/assets"),
     {"POST": Handler._asset_create, "GET": Handler._asset_list}),
    (re.compile(r"/v1/videos/assets/(?P<id>[^/]+)"),
     {"GET": Handler._asset_get, "PUT": Handler._asset_update,
      "DELETE": Handler._asset_delete}),
)


def _match(path: str, method: str) -> tuple[_Route, dict[str, str]]:
    for pattern, methods in _ROUTES:
        m = pattern.fullmatch(path)
        if m is None:
            continue
        if method not in methods:
            raise ApiFailure(
                405,
                api_error("invalid_request_error", f"{method} is not allowed on {path}",
                          code="method_not_allowed"),
                {"Allow": ", ".join(methods)},
            )
        return methods[method], {k: unquote(v) for k, v in m.groupdict().items()}
    raise fail(404, "not_found_error", f"No route for {method} {path}")


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = str(host)
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"  # the wildcard is not an address a client can use
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # Open connections are tracked so stop() can end kept-alive ones: otherwise their threads
    # would keep answering after the emulator was stopped.
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            logger.debug("client %s went away: %r", client_address, exc)
        else:
            logger.warning("error serving %s", client_address, exc_info=True)
