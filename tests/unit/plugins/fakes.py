"""Test doubles for the vendor clients' transport: scripted HTTP replies, no network."""

import json

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class Reply:
    """One scripted reply: a status and body, or an exception to raise instead."""

    def __init__(self, status=200, body=None, headers=None, raise_exc=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raise_exc = raise_exc


class ScriptedAdapter(BaseAdapter):
    """A requests adapter that answers from a list of (method, path-substring, Reply) rules.

    A rule with ``times`` is used that many times, then skipped; the first matching rule wins.
    Every request is recorded in ``sent`` as (method, url, headers, body), and the transport's
    settings it came with (``timeout``, ``verify``, ...) in ``settings``.
    """

    def __init__(self):
        super().__init__()
        self.rules = []
        self.sent = []
        self.settings = []

    def on(self, method, path, *replies):
        for reply in replies:
            self.rules.append([method, path, reply, 1])
        return self

    def always(self, method, path, reply):
        self.rules.append([method, path, reply, None])
        return self

    def send(self, request, **kwargs):
        body = request.body
        if isinstance(body, bytes):
            body = body.decode()
        self.sent.append((request.method, request.url, dict(request.headers), body))
        self.settings.append(kwargs)
        for rule in self.rules:
            method, path, reply, times = rule
            if method == request.method and path in request.url and (times is None or times > 0):
                if times is not None:
                    rule[3] -= 1
                if reply.raise_exc is not None:
                    raise reply.raise_exc
                return self._response(request, reply)
        raise AssertionError("unexpected request %s %s" % (request.method, request.url))

    @staticmethod
    def _response(request, reply):
        response = requests.Response()
        response.status_code = reply.status
        response.headers = CaseInsensitiveDict(reply.headers)
        if reply.body is None:
            response._content = b""
        elif isinstance(reply.body, (dict, list)):
            response._content = json.dumps(reply.body).encode()
            response.headers.setdefault("Content-Type", "application/json")
        else:
            response._content = str(reply.body).encode()
        response._content_consumed = True  # as after a real read: requests may close it (redirects)
        response.request = request
        response.url = request.url
        response.encoding = "utf-8"
        return response

    def close(self):
        pass

    def writes(self):
        return [s for s in self.sent if s[0] not in ("GET", "HEAD")]


def session_with(adapter):
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RecordingSleep:
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)
