"""A real HTTP server in a thread that records what it is sent and answers as a test tells it to."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each path with ``answers[path]``: an HTTP status, or ``"slow"`` (wait ``slow_seconds``, then
    200). Unknown paths get 200. ``requests`` lists what arrived, in order."""

    def __init__(self, slow_seconds: float = 1.0) -> None:
        self.answers: dict[str, int | str] = {}
        self.requests: list[Request] = []
        self.slow_seconds = slow_seconds
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(Request(self.path, dict(self.headers.items()), body))
                answer = receiver.answers.get(self.path, 200)
                if answer == "slow":
                    time.sleep(receiver.slow_seconds)
                    answer = 200
                assert isinstance(answer, int)
                try:
                    self.send_response(answer)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
