"""Scripted faults: a queue of rules consumed by matching requests."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

KINDS = ("status", "delay", "drop", "commit_then_drop", "reshape")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    method: str | None
    path: str
    times: int
    action: dict
    regex: re.Pattern

    @property
    def kind(self) -> str:
        return self.action["kind"]

    def as_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "times": self.times, "action": dict(self.action)}


def parse_fault(raw: Any) -> Fault:
    if not isinstance(raw, dict):
        raise FaultError("each fault must be an object")
    unknown = set(raw) - {"method", "path", "times", "action"}
    if unknown:
        raise FaultError(f"unknown fault keys: {', '.join(sorted(unknown))}")
    method = raw.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise FaultError(f"method must be null or one of {', '.join(METHODS)}")
        method = method.upper()
    path = raw.get("path", "")
    if not isinstance(path, str):
        raise FaultError("path must be a regular expression string")
    try:
        regex = re.compile(path)
    except re.error as exc:
        raise FaultError(f"path is not a valid regular expression: {exc}") from None
    times = raw.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise FaultError("times must be a positive integer")
    action = raw.get("action")
    if not isinstance(action, dict) or action.get("kind") not in KINDS:
        raise FaultError(f"action.kind must be one of {', '.join(KINDS)}")
    kind = action["kind"]
    allowed = {"kind"} | {
        "status": {"status", "retry_after", "body"},
        "delay": {"seconds"},
        "reshape": {"drop", "add"},
    }.get(kind, set())
    extra = set(action) - allowed
    if extra:
        raise FaultError(f"action {kind} does not take: {', '.join(sorted(extra))}")
    if kind == "status":
        status = action.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise FaultError("action.status must be an HTTP status code")
        ra = action.get("retry_after")
        if ra is not None and (not isinstance(ra, (int, float)) or isinstance(ra, bool) or ra < 0):
            raise FaultError("action.retry_after must be a non-negative number of seconds")
    if kind == "delay":
        secs = action.get("seconds")
        if not isinstance(secs, (int, float)) or isinstance(secs, bool) or not 0 <= secs <= 60:
            raise FaultError("action.seconds must be a number between 0 and 60")
    if kind == "reshape":
        drop = action.get("drop", [])
        add = action.get("add", {})
        if not isinstance(drop, list) or not all(isinstance(d, str) and d for d in drop):
            raise FaultError("action.drop must be a list of property names")
        if not isinstance(add, dict):
            raise FaultError("action.add must be an object of properties to add")
        if not drop and not add:
            raise FaultError("action reshape needs drop or add")
    return Fault(method, path, times, dict(action), regex)


def reshape_body(value: Any, action: dict) -> Any:
    """The ``reshape`` fault: the lab breaks its own reply, to prove that validation catches it.

    ``drop`` removes the named properties from every object of the JSON body (at any depth);
    ``add`` adds properties to the top-level object (or, for a body that is a list, to each item).
    """
    drop = set(action.get("drop") or ())

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in drop}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    out = strip(value)
    add = action.get("add") or {}
    if isinstance(out, dict):
        out.update(add)
    elif isinstance(out, list):
        out = [{**item, **add} if isinstance(item, dict) else item for item in out]
    return out


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, raws: Any) -> list[Fault]:
        if not isinstance(raws, list):
            raise FaultError('body must be {"faults": [ ... ]}')
        parsed = [parse_fault(r) for r in raws]  # all or nothing
        with self._lock:
            self._faults.extend(parsed)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, method: str, path: str) -> dict | None:
        """Consume one use of the first fault matching the request."""
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, method.upper()):
                    continue
                if not fault.regex.search(path):
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return dict(fault.action)
        return None
