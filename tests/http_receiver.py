"""A loopback HTTP receiver for tests: every POST it gets is put on a queue as (headers, body)
and answered 200. Standard library only, so the suites of both environments can use it."""
from __future__ import annotations

import contextlib
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@contextlib.contextmanager
def post_receiver(path: str = "/hook") -> Iterator[tuple[str, queue.Queue]]:
    """(URL to POST to, queue of (headers dict, body bytes)); the server stops on exit."""
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}", received
    finally:
        server.shutdown()
        server.server_close()
