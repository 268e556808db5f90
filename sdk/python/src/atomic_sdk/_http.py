"""One request to the gateway over the standard library's HTTP client, its refusals as typed errors."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from ._version import __version__
from .errors import APIConnectionError, APITimeoutError, AtomicError, status_error

USER_AGENT = f"atomic-sdk-python/{__version__}"


class Transport:
    def __init__(self, base_url: str, api_key: str | None, headers: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"user-agent": USER_AGENT, "accept": "application/json", **headers}
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"
        self._opener = urllib.request.build_opener()

    def open(
        self,
        method: str,
        path: str,
        *,
        timeout: float,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        """The response, open for reading; a status of 400 or more is raised as its APIStatusError."""
        url = self.base_url + path
        present = {name: value for name, value in (query or {}).items() if value is not None}
        if present:
            url += "?" + urllib.parse.urlencode(present)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={**self.headers, **(headers or {})})
        if data is not None:
            request.add_header("content-type", "application/json")
        try:
            return self._opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
                lowered = {name.lower(): value for name, value in error.headers.items()}
            raise status_error(error.code, _json_or_text(raw), lowered) from None
        except (TimeoutError, socket.timeout) as error:
            raise APITimeoutError(f"{method} {path}: no answer within {timeout} s") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise APITimeoutError(f"{method} {path}: no answer within {timeout} s") from error
            raise APIConnectionError(f"{method} {path}: {error.reason}") from error
        except OSError as error:
            raise APIConnectionError(f"{method} {path}: {error}") from error

    def json(self, method: str, path: str, *, timeout: float, **options: Any) -> Any:
        with self.open(method, path, timeout=timeout, **options) as response:
            raw = _read(response, method, path, timeout)
        try:
            return json.loads(raw)
        except ValueError:
            raise AtomicError(f"{method} {path}: the answer is not JSON") from None

    def text(self, method: str, path: str, *, timeout: float, **options: Any) -> str:
        with self.open(method, path, timeout=timeout, headers={"accept": "text/plain"}, **options) as response:
            return _read(response, method, path, timeout).decode("utf-8")


def _read(response: http.client.HTTPResponse, method: str, path: str, timeout: float) -> bytes:
    try:
        return response.read()
    except (TimeoutError, socket.timeout) as error:
        raise APITimeoutError(f"{method} {path}: the answer stopped for {timeout} s") from error
    except (OSError, http.client.HTTPException) as error:
        raise APIConnectionError(f"{method} {path}: {error}") from error


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
