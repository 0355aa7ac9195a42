"""A phone's network link to the portal that a test can cut, below anything the browser emulates.

Chromium's offline mode and Playwright's request routing both let a request through now and then from a
page its service worker controls (a reloaded page can start with ``navigator.onLine`` still true, and
its requests are not always routed). A test that needs "nothing reached the server while offline" to
hold every time sends the browser through this link instead: while cut, every connection through it is
closed at once, as on a phone without a network.
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from shared.testing import spare_port


class NetworkLink:
    def __init__(self, upstream_url: str):
        target = urlsplit(upstream_url)
        self.upstream = (target.hostname, target.port)
        self.listener = socket.create_server(("127.0.0.1", spare_port()))
        self.url = f"{target.scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.is_cut = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """No connection gets through, and those open (a browser keeps them alive) are closed."""
        with self._lock:
            self.is_cut = True
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self.is_cut = False

    def close(self) -> None:
        self.cut()
        _close(self.listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                if self.is_cut:
                    _close(client)
                    continue
                try:
                    server = socket.create_connection(self.upstream)
                except OSError:
                    _close(client)
                    continue
                self._open.update((client, server))
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
