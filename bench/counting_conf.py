"""gunicorn settings of the service under test (``BENCH_SERVICE_CONF``), plus counters of its caches.

The service keeps two caches and exposes no count of their hits: the token verifier's verified
tokens (``shared.auth.TokenVerifier``) and the representation cache
(``shared.http.representations.RepresentationCache``). Each worker wraps their lookups with a
counter after it starts (an integer added per lookup, nothing else changes) and writes its counts to
``BENCH_COUNTS_DIR/<pid>.json`` four times a second, for the bench to read around each figure.
"""

import importlib
import json
import os
import threading

_service = importlib.import_module(os.environ["BENCH_SERVICE_CONF"])
globals().update({name: value for name, value in vars(_service).items() if not name.startswith("_")})
_service_post_worker_init = getattr(_service, "post_worker_init", None)


def post_worker_init(worker):
    if _service_post_worker_init:
        _service_post_worker_init(worker)
    from shared.auth import TokenVerifier
    from shared.http.representations import RepresentationCache

    counts = {"token_lookups": 0, "token_verified": 0, "representation_lookups": 0, "representation_hits": 0}
    verify, verify_token, fresh = TokenVerifier.verify, TokenVerifier._verify, RepresentationCache._fresh

    def counted_verify(self, token):
        counts["token_lookups"] += 1
        return verify(self, token)

    def counted_verify_token(self, token):
        counts["token_verified"] += 1  # not found in the cache: verified again
        return verify_token(self, token)

    def counted_fresh(self, key, version, now):
        entry = fresh(self, key, version, now)
        counts["representation_lookups"] += 1
        counts["representation_hits"] += entry is not None
        return entry

    TokenVerifier.verify, TokenVerifier._verify = counted_verify, counted_verify_token
    RepresentationCache._fresh = counted_fresh
    path = os.path.join(os.environ["BENCH_COUNTS_DIR"], f"{os.getpid()}.json")

    def write():
        while True:
            with open(path + ".tmp", "w") as file:
                json.dump(counts, file)
            os.replace(path + ".tmp", path)
            threading.Event().wait(0.25)

    threading.Thread(target=write, daemon=True).start()
