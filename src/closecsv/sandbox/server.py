"""The :class:`Sandbox` and its two adapters: an httpx transport and a real HTTP server.

The transport calls the dispatcher in-process; when a fault says "commit then drop", the work
is done and :class:`httpx.RemoteProtocolError` is raised, as a dropped connection appears to
httpx.  The server (``http.server.ThreadingHTTPServer``) closes the socket without writing a
response in that case.  With ``trickle_ms`` every body is served one byte at a time, that
many milliseconds apart (a slow-loris answer that never trips a read timeout): on the socket
with real sleeps, in-process through the injectable ``sleep`` as the body is read.
Neither logs the ``Authorization`` header: the request log line is method, path and status.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from closecsv.sandbox.errors import Response, json_response
from closecsv.sandbox.populate import populate
from closecsv.sandbox.routes import PREFIX, Dispatcher
from closecsv.sandbox.state import State

SANDBOX_API_KEY = "sandbox-key-0000000000000000"
log = logging.getLogger("closecsv.sandbox")


def parse_query(raw: str) -> dict[str, str]:
    """Query parameters; a repeated name joins its values with commas (``lead_id=a&lead_id=b``)."""
    out: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


class _Trickle(httpx.SyncByteStream):
    """A body handed out one byte per ``pause`` seconds of the sandbox's ``sleep``."""

    def __init__(self, body: bytes, pause: float, sleep: Callable[[float], None]) -> None:
        self._body, self._pause, self._sleep = body, pause, sleep

    def __iter__(self) -> Iterator[bytes]:
        for i in range(len(self._body)):
            self._sleep(self._pause)
            yield self._body[i : i + 1]


class _Transport(httpx.BaseTransport):
    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        answer = self._dispatcher.handle(
            request.method,
            request.url.path,
            parse_query(request.url.query.decode()),
            dict(request.headers),
            body,
        )
        if answer.drop_after:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        pause = self._dispatcher.trickle
        if pause > 0 and answer.body:
            stream = _Trickle(answer.body, pause, self._dispatcher.sleep)
            return httpx.Response(answer.status, headers=answer.headers, stream=stream)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)


class _Server(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a killed import, a timeout) is routine here: it is
    logged at debug level instead of printing a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            log.debug("client %s hung up", client_address)
            return
        super().handle_error(request, client_address)


# the largest request body the sandbox reads; a bigger declared length is a 413, not an
# attempt to allocate it
MAX_BODY = 16 * 1024 * 1024
TOO_LARGE = f"Request body too large (the sandbox reads at most {MAX_BODY // 1024 // 1024} MB)."


def _content_length(header: str | None) -> int | None:
    """The request body's length; None when the header is not a non-negative integer."""
    try:
        length = int(header or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def _handler_class(dispatcher: Dispatcher) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "closecsv-sandbox"
        # Headers and body go out in separate writes; with Nagle on, the client's delayed
        # ACK stalls every answer by ~40 ms, which would distort latency benchmarks.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = _content_length(self.headers.get("content-length"))
            if length is None:  # the body cannot be found: answer, then close the connection
                self.close_connection = True
                self._write(json_response(400, {"error": "Invalid Content-Length header."}))
                return
            if length > MAX_BODY:  # not read: answered at once, then the connection closed
                self.close_connection = True
                self._write(json_response(413, {"error": TOO_LARGE}))
                return
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            headers: Mapping[str, str] = {k: v for k, v in self.headers.items()}
            answer = dispatcher.handle(
                self.command, parts.path, parse_query(parts.query), headers, body
            )
            if answer.drop_after:
                self.close_connection = True
                return
            self._write(answer)

        def _write(self, answer: Response) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            pause = dispatcher.trickle
            if pause <= 0:
                self.wfile.write(answer.body)
                return
            try:
                for i in range(len(answer.body)):
                    self.wfile.flush()
                    time.sleep(pause)
                    self.wfile.write(answer.body[i : i + 1])
            except OSError:  # the client gave up waiting and closed the connection
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.command, urlsplit(self.path).path)

    return Handler


class Sandbox:
    """A local Close org.  See ``docs/SANDBOX.md`` for what it emulates and what it does not."""

    def __init__(
        self,
        data_path: Path | None = None,
        *,
        api_key: str = SANDBOX_API_KEY,
        rate_limit: float | None = None,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        seed: int = 0,
        max_skip: int | None = None,
        trickle_ms: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.state = State(None if data_path is None else Path(data_path), seed=seed)
        self.seed = seed
        self.shift = timedelta(0)  # moved by advance_clock
        wall = now or (lambda: datetime.now(UTC))
        self.dispatcher = Dispatcher(
            self.state,
            api_key=api_key,
            clock=clock,
            sleep=sleep,
            now=lambda: wall() + self.shift,
            rate_limit=rate_limit,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            seed=seed,
            max_skip=max_skip,
        )
        self.dispatcher.trickle = trickle_ms / 1000.0

    def __repr__(self) -> str:
        return f"Sandbox(data_path={self.state.data_path!r})"

    def set_api_key(self, key: str) -> None:
        """Accept only ``key`` from now on: revoke the old key in the middle of a run."""
        self.dispatcher.api_key = key

    def set_rate_limit(self, rps: float | None) -> None:
        """Change the rate limit while serving (``None``: no limit, no ``RateLimit`` header)."""
        self.dispatcher.set_rate_limit(rps)

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's wall clock (timestamps, event times and retention) forward."""
        self.shift += timedelta(seconds=seconds)

    def set_key_user(self, user_id: str) -> None:
        """Make the key belong to another active user (e.g. one who is not an admin)."""
        self.dispatcher.owner = user_id

    def set_merge_window(self, seconds: float) -> None:
        """Set the event log's consolidation window (0: every write is its own event)."""
        self.state.event_merge_seconds = seconds

    def set_trickle(self, ms: float) -> None:
        """Serve every body one byte per ``ms`` milliseconds from now on (0: at once)."""
        self.dispatcher.trickle = ms / 1000.0

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport: ``httpx.Client(transport=sb.transport(), base_url=...)``."""
        return _Transport(self.dispatcher)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> Response:
        """The core dispatcher, for callers that want no HTTP at all."""
        return self.dispatcher.handle(method, path, query, headers, body)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run the HTTP server on a thread; yields the base URL (ends in ``/api/v1/``)."""
        server = _Server((host, port), _handler_class(self.dispatcher))
        thread = threading.Thread(target=server.serve_forever, name="closecsv-sandbox", daemon=True)
        thread.start()
        try:
            yield self._url(server)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def serve_forever(
        self, host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] | None = None
    ) -> None:
        """Serve in this thread until interrupted (Ctrl-C); state is compacted on the way out."""
        server = _Server((host, port), _handler_class(self.dispatcher))
        try:
            if on_ready is not None:
                on_ready(self._url(server))
            server.serve_forever()
        finally:
            server.server_close()
            self.close()

    @staticmethod
    def _url(server: ThreadingHTTPServer) -> str:
        host, port = server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}{PREFIX}"

    def populate(
        self, leads: int, activities: int, activity_types: int, objects: int = 0, rng_seed: int = 1
    ) -> None:
        """Bulk data for benchmarks (fast; persisted).  See :func:`populate.populate`."""
        populate(
            self.state,
            leads=leads,
            activities=activities,
            activity_types=activity_types,
            objects=objects,
            rng_seed=rng_seed,
        )

    def close(self) -> None:
        """Compact the data file (snapshot + empty log)."""
        self.state.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
