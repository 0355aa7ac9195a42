"""A service's OpenAPI document as a test oracle: real responses checked against what it declares."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

import schemathesis
from werkzeug.serving import make_server

from shared.testing.fuzz import contract_breaches


class Contract:
    """Checks each response (status, media type, headers, body) against the operation that answered it."""

    def __init__(self, document: dict):
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)

    def check(self, response):
        """``response`` (a requests.Response) if the document allows it; AssertionError naming the breach if not."""
        method, path = response.request.method, urlsplit(response.request.url).path
        operation = self.schema.find_operation_by_path(method, path)
        assert operation is not None, f"{method} {path} is not in the OpenAPI document"
        template = re.escape(operation.path).replace(r"\{", "{").replace(r"\}", "}")
        values = re.fullmatch(re.sub(r"{(\w+)}", r"(?P<\1>[^/]+?)", template), path).groupdict()
        case = operation.Case(path_parameters={name: unquote(value) for name, value in values.items()})
        breaches = contract_breaches(case, response)
        assert not breaches, "\n".join(breaches)
        return response


@contextmanager
def serving(app):
    """``app`` on a real HTTP server (werkzeug, threaded) on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
