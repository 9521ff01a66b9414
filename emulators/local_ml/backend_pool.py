"""Kept-alive HTTP connections from the router to the deployments' scoring servers."""
from __future__ import annotations

import http.client
import threading

MAX_IDLE_CONNECTIONS = 32


class BackendPool:
    """Idle connections per scoring server port, shared by all request threads."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._idle: dict[int, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def post(self, port: int, body: bytes) -> tuple[int, str, bytes]:
        """POST /invocations; (status, content type, body). Raises OSError/HTTPException on failure."""
        for attempt in (1, 2):
            connection, reused = self._take(port)
            try:
                connection.request("POST", "/invocations", body=body,
                                   headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.BadStatusLine):
                connection.close()
                if reused and attempt == 1:  # the server closed an idle kept-alive connection
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                self._give(port, connection)
            return response.status, response.getheader("Content-Type", ""), data
        raise AssertionError("unreachable")

    def _take(self, port: int) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(port)
            if idle:
                return idle.pop(), True
        return http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout), False

    def _give(self, port: int, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(port, [])
            if len(idle) < MAX_IDLE_CONNECTIONS:
                idle.append(connection)
                return
        connection.close()
