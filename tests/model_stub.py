"""A stand-in for the AI team's model server: a real HTTP server on 127.0.0.1 that answers
what a test sets (status, JSON or raw bytes, a delay) and records every request."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub:
    """A real HTTP server on 127.0.0.1 answering with what the test sets."""

    def __init__(self) -> None:
        self.reply: object = {}
        self.status = 200
        self.delay = 0.0
        self.seen: list[tuple[str, dict, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.seen.append((self.path, dict(self.headers), body))
                time.sleep(stub.delay)
                raw = stub.reply if isinstance(stub.reply, bytes) else json.dumps(stub.reply)
                data = raw if isinstance(raw, bytes) else raw.encode()
                try:
                    self.send_response(stub.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): that is the point

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
