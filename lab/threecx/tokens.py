"""Token-request cool-down of ``/connect/token``.

UNCONFIRMED vendor behaviour (one live report, shared/reference/3cx-xapi.md §1): after
repeated token requests the PBX answered 403 and needed a ~180 s cool-down. The lab
models it as: more than ``max_requests`` token requests for one client id within
``window_seconds`` start a cool-down of ``cooldown_seconds`` during which every token
request for that client id gets 403. Tokens already issued stay valid. The clock is
injectable (unit tests) and ``POST /_lab/tokens/cooldown/clear`` ends a cool-down (contract
tests), so no test ever sleeps.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable

DEFAULTS = {"enabled": True, "max_requests": 5, "window_seconds": 60.0, "cooldown_seconds": 180.0}


def check_options(raw: Any) -> dict:
    """Validate the reset option ``token_rate_limit``; returns the full settings."""
    if not isinstance(raw, dict):
        raise ValueError("token_rate_limit must be an object")
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"token_rate_limit: unknown keys {', '.join(sorted(unknown))}")
    out = dict(DEFAULTS)
    for key, value in raw.items():
        if key == "enabled":
            if not isinstance(value, bool):
                raise ValueError("token_rate_limit.enabled must be a boolean")
        elif key == "max_requests":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError("token_rate_limit.max_requests must be a positive integer")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"token_rate_limit.{key} must be a positive number of seconds")
        out[key] = value
    return out


class TokenCooldown:
    def __init__(self, settings: dict | None = None, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.settings = dict(settings or DEFAULTS)
        self._recent: dict[str, deque] = {}
        self._until: dict[str, float] = {}

    def configure(self, settings: dict) -> None:
        self.settings = dict(settings)
        self.clear()

    def clear(self) -> int:
        """End every cool-down and forget the request history; returns how many ended."""
        now = self.clock()
        active = sum(1 for until in self._until.values() if until > now)
        self._recent.clear()
        self._until.clear()
        return active

    def cooling(self, client_id: str) -> float:
        """Seconds of cool-down left for *client_id* (0 when none)."""
        return max(0.0, self._until.get(client_id, 0.0) - self.clock())

    def admit(self, client_id: str) -> bool:
        """Record one token request; False when it must be refused with 403."""
        if not self.settings["enabled"]:
            return True
        now = self.clock()
        if self._until.get(client_id, 0.0) > now:
            return False
        window = self._recent.setdefault(client_id, deque())
        while window and window[0] <= now - self.settings["window_seconds"]:
            window.popleft()
        window.append(now)
        if len(window) > self.settings["max_requests"]:
            self._until[client_id] = now + self.settings["cooldown_seconds"]
            window.clear()
            return False
        return True

    def state(self) -> dict:
        return {
            **self.settings,
            "cooling_down": {cid: round(self.cooling(cid), 1) for cid in self._until if self.cooling(cid) > 0},
        }
