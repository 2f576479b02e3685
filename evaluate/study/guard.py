"""Rate limiting of the admin login: a few wrong tokens per client, then a wait.

A wrong admin token is logged (logger ``void.study.admin``, which Streamlit prints to its
console) with the client address Streamlit reports; after ``max_failures`` failures from
one client within ``window_s`` the next attempts are refused unchecked until the oldest
failure leaves the window. Clients without a known address share one budget, so the
limit holds even when the address is hidden (a reverse proxy should pass it on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

LOG = logging.getLogger("void.study.admin")


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 300.0, clock=time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque:
        q = self._failures.setdefault(client, deque())
        now = self._clock()
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def wait_s(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            q = self._recent(client)
            if len(q) < self.max_failures:
                return 0.0
            return max(0.0, self.window_s - (self._clock() - q[0]))

    def failed(self, client: str) -> None:
        with self._lock:
            q = self._recent(client)
            q.append(self._clock())
            n = len(q)
        LOG.warning("admin login failed from %s (%d failure(s) in the last %.0f s)", client, n, self.window_s)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
        LOG.info("admin login from %s", client)
