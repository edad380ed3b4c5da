"""An HTTP proxy that misbehaves on purpose, and a webhook receiver: both real servers on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

#: Decides what the proxy does with one request: ``"forward"``, ``"drop"`` (forward it, then close
#: the connection without the answer) or ``"busy"`` (answer 503 with ``Retry-After: 1`` itself).
Policy = Callable[[str, str, int], str]


class Proxy:
    """Forwards requests to ``upstream``, recording them, and does what ``policy`` says with each.

    ``aliases`` maps a name to a real id: requests have the name replaced by the id, answers the id by
    the name (seed 001 reads a session it calls ``sess_789``). ``alias_next_create`` names the id the
    next ``POST /api/v1/sessions`` answers with.
    """

    def __init__(self, upstream: str, policy: Optional[Policy] = None) -> None:
        self.upstream = urlsplit(upstream)
        self.policy: Policy = policy or (lambda method, path, count: "forward")
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.aliases: Dict[str, str] = {}
        self.alias_next_create: Optional[str] = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def handle_any(self) -> None:
                proxy.relay(self)

            do_GET = do_POST = do_PATCH = do_DELETE = handle_any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def relay(self, handler: BaseHTTPRequestHandler) -> None:
        """Forwards one request and answers, drops or refuses it as the policy says."""
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in ("host", "connection")}
        path = handler.path
        for name, real in self.aliases.items():
            path = path.replace(name, real)
        self.requests.append((handler.command, path, headers))
        count = sum(1 for method, seen, _ in self.requests if method == handler.command and seen.split("?")[0] == path.split("?")[0])
        action = self.policy(handler.command, path, count)
        if action == "busy":
            self._answer(handler, 503, {"Retry-After": "1", "Content-Type": "application/json"}, b'{"error":"Service unavailable","message":"busy"}')
            return
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            connection.request(handler.command, path, body=body, headers=headers)
            response = connection.getresponse()
            if (response.getheader("content-type") or "").startswith("text/event-stream"):
                self._stream(handler, response)
                return
            answer = response.read()
            answer_headers = {name: value for name, value in response.getheaders() if name.lower() not in ("content-length", "transfer-encoding", "connection")}
        finally:
            connection.close()
        if action == "drop":
            handler.close_connection = True  # the server did the work; the client never hears of it
            return
        if self.alias_next_create and handler.command == "POST" and path.split("?")[0] == "/api/v1/sessions" and response.status == 201:
            self.aliases[self.alias_next_create] = json.loads(answer)["id"]
            self.alias_next_create = None
        for name, real in self.aliases.items():
            answer = answer.replace(real.encode(), name.encode())
        self._answer(handler, response.status, answer_headers, answer)

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, response: http.client.HTTPResponse) -> None:
        """Passes a stream on line by line as it comes, until either side leaves."""
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.getheader("content-type") or "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        try:
            for line in iter(response.readline, b""):
                handler.wfile.write(line)
                handler.wfile.flush()
        except OSError:
            pass  # the client left, or the server did

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, headers: Dict[str, str], body: bytes) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        """Stops listening."""
        self._server.shutdown()
        self._server.server_close()


class Receiver:
    """A webhook endpoint that answers 204 and keeps each delivery's raw body and headers."""

    def __init__(self) -> None:
        self.deliveries: List[Tuple[bytes, Dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def do_POST(self) -> None:  # noqa: N802 - the base class's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.deliveries.append((body, dict(self.headers.items())))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stops listening."""
        self._server.shutdown()
        self._server.server_close()
