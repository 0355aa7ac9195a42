"""The one way the portal reaches the services: their public REST APIs over a pooled ``requests.Session``.

Each call forwards the signed-in person's bearer token, has a timeout, and is counted for the page
being rendered (the page's ``X-API-Calls`` header), so a page that makes too many calls shows.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from flask import g, has_request_context
from requests.adapters import HTTPAdapter


@dataclass
class BackendError(Exception):
    """An API answered with an error: its status and its problem details (RFC 9457)."""

    status: int
    problem: dict = field(default_factory=dict)

    @property
    def field_errors(self) -> dict:
        """The problem's ``errors`` flattened to ``{"field": "message"}`` (nested fields joined with dots)."""
        flat: dict[str, str] = {}

        def walk(prefix: str, value) -> None:
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), inner)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                flat[prefix] = " ".join(value)
            elif isinstance(value, list):
                for index, inner in enumerate(value):
                    walk(f"{prefix}.{index}", inner)
            elif value is not None:
                flat[prefix] = str(value)

        walk("", self.problem.get("errors") or {})
        return flat

    @property
    def message(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or f"The service answered {self.status}.")


class Unavailable(Exception):
    """An API could not be reached or did not answer in time."""

    def __init__(self, service: str, reason: str):
        super().__init__(f"{service}: {reason}")
        self.service = service


class Backend:
    """The services' APIs, by name (``content``, ``scheduling``), for one process."""

    def __init__(self, bases: dict[str, str], *, timeout: float, pool_size: int):
        self.bases = {name: url for name, url in bases.items() if url}
        self.timeout = timeout
        self.http = requests.Session()
        adapter = HTTPAdapter(pool_connections=len(self.bases) or 1, pool_maxsize=pool_size)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        # A page's independent reads go out together: it waits for the slowest, not for their sum.
        self.together = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="api")

    def has(self, service: str) -> bool:
        return service in self.bases

    def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        token: str | None = None,
        json=None,
        params=None,
        files=None,
        idempotency_key: str | None = None,
        accept: str = "application/json",
        stream: bool = False,
        idempotent_create: bool = False,
        if_match: str | None = None,
    ) -> requests.Response:
        """Send one request; return the response of a success, raise ``BackendError`` or ``Unavailable`` otherwise.

        ``idempotent_create`` gives a POST an ``Idempotency-Key`` of its own, so the service can tell a
        retry from a second create. ``if_match`` is the ETag of the read an update is based on.
        """
        headers = {"Accept": accept}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key or idempotent_create:
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        if if_match:
            headers["If-Match"] = if_match
        counted = has_request_context()
        if counted:
            g.api_calls = getattr(g, "api_calls", 0) + 1
        started = time.perf_counter()
        try:
            response = self.http.request(
                method,
                self.bases[service] + path,
                headers=headers,
                json=json,
                params=params,
                files=files,
                timeout=self.timeout,
                stream=stream,
            )
        except requests.RequestException as error:
            raise Unavailable(service, type(error).__name__) from error
        finally:
            if counted:
                g.api_seconds = getattr(g, "api_seconds", 0.0) + time.perf_counter() - started
        if response.status_code >= 500:
            raise Unavailable(service, f"status {response.status_code}")
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            raise BackendError(response.status_code, problem if isinstance(problem, dict) else {})
        return response

    def get(self, service: str, path: str, **kwargs):
        return self.call("GET", service, path, **kwargs).json()

    def get_all(self, *reads: tuple[str, str, dict]) -> list:
        """Several independent GETs ``(service, path, kwargs)`` at once; their answers in order.

        The first failure is raised, as one ``get`` would raise it; a read whose kwargs name an ``absent``
        value answers it instead of a 404.
        """
        counted = has_request_context()
        if counted:
            g.api_calls = getattr(g, "api_calls", 0) + len(reads)  # the pool's threads have no request context
        started = time.perf_counter()
        try:
            futures = [self.together.submit(self._get_json, service, path, kwargs) for service, path, kwargs in reads]
            return [future.result() for future in futures]
        finally:
            if counted:  # the page waited for the slowest read, not for their sum
                g.api_seconds = getattr(g, "api_seconds", 0.0) + time.perf_counter() - started

    def _get_json(self, service: str, path: str, kwargs: dict):
        kwargs = dict(kwargs)
        has_absent, absent = "absent" in kwargs, kwargs.pop("absent", None)
        try:
            return self.call("GET", service, path, **kwargs).json()
        except BackendError as error:
            if error.status != 404 or not has_absent:
                raise
            return absent

    def post(self, service: str, path: str, **kwargs):
        response = self.call("POST", service, path, **kwargs)
        return response.json() if response.content else {}

    def put(self, service: str, path: str, **kwargs):
        return self.call("PUT", service, path, **kwargs).json()
