"""HTTP load: closed-loop clients drawing requests at random from a list, bursts, paced load; RSS.

Clients are threads spread over processes (one per CPU by default, ``BENCH_CLIENT_PROCESSES``), so
that fifty clients do not queue on one interpreter lock. Each keeps its connection open while the
server allows it (HTTP keep-alive) and opens a new one when the server closes it. Every figure counts
the answers by status class and is timed from the first request sent to the last answer received.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


def client_processes() -> int:
    return int(os.environ.get("BENCH_CLIENT_PROCESSES", max(os.cpu_count() or 1, 1)))


class _Connection:
    def __init__(self, port: int):
        self.port = port
        self.conn = None

    def send(self, request: Request) -> int:
        """The status of the answer, or 0 when the connection failed."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(request.method, request.path, body=request.body, headers=request.headers)
            response = self.conn.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close" or response.version == 10:
                self.close()
            return response.status
        except (OSError, http.client.HTTPException):
            self.close()
            return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _tally(statuses: list[int]) -> dict:
    classes = {"2xx": 0, "4xx": 0, "5xx": 0, "failed": 0}
    for status in statuses:
        key = "failed" if status == 0 else f"{status // 100}xx"
        classes[key] = classes.get(key, 0) + 1
    return classes


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def _summary(statuses: list[int], latencies: list[float], began: float, ended: float) -> dict:
    seconds = max(ended - began, 1e-9)
    tally = _tally(statuses)
    return {
        "requests": len(statuses),
        "ok": tally["2xx"],
        "rps": tally["2xx"] / seconds,
        "seconds": seconds,
        "statuses": tally,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
    }


def _process(port: int, work, threads: int, start_at: float, out) -> None:
    """``threads`` clients doing ``work(connection, k, record)`` from ``start_at`` (a shared clock)."""
    records: list[tuple[int, float, float]] = []  # status, sent, answered
    lock = threading.Lock()

    def record(status: int, sent: float, answered: float) -> None:
        with lock:
            records.append((status, sent, answered))

    def run(k: int) -> None:
        connection = _Connection(port)
        delay = start_at - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            work(connection, k, record)
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    # Wall-clock times: comparable across processes.
    offset = time.time() - time.perf_counter()
    out.put([(status, sent + offset, answered + offset) for status, sent, answered in records])


def _spread(clients: int, make_work) -> list[dict]:
    """Run ``clients`` clients over the client processes; every (status, sent, answered) record."""
    processes = min(client_processes(), clients)
    shares = [clients // processes + (1 if p < clients % processes else 0) for p in range(processes)]
    context = mp.get_context("fork")
    out = context.Queue()
    start_at = time.time() + 0.5 + 0.05 * processes  # every process started and waiting
    procs, first = [], 0
    for share in shares:
        procs.append(context.Process(target=_process, args=(make_work.port, make_work(first), share, start_at, out)))
        first += share
    for proc in procs:
        proc.start()
    records = [record for _ in procs for record in out.get(timeout=900)]
    for proc in procs:
        proc.join()
    return records


class _Work:
    """What each client of a load does (picklable through fork: made before the processes start)."""

    def __init__(self, port: int, body):
        self.port = port
        self.body = body

    def __call__(self, first: int):
        body = self.body

        def work(connection, k, record):
            body(connection, first + k, record)

        return work


def run_load(port: int, requests: list[Request], *, clients: int, seconds: float, seed: int = 0) -> dict:
    """Closed loop: each client sends a request drawn at random, waits for the answer, sends the next."""

    def body(connection, k, record):
        rng = random.Random(seed * 1000 + k)
        deadline = time.perf_counter() + seconds
        while (sent := time.perf_counter()) < deadline:
            status = connection.send(rng.choice(requests))
            record(status, sent, time.perf_counter())

    records = _spread(clients, _Work(port, body))
    return _summary(
        [r[0] for r in records], [r[2] - r[1] for r in records], min(r[1] for r in records), max(r[2] for r in records)
    )


def run_sequences(port: int, sequences: list[list[Request]], *, seconds: float | None = None) -> dict:
    """Client k sends ``sequences[k]`` in order (until done, or until ``seconds`` have passed)."""

    def body(connection, k, record):
        deadline = time.perf_counter() + seconds if seconds else float("inf")
        for request in sequences[k]:
            if (sent := time.perf_counter()) >= deadline:
                break
            status = connection.send(request)
            record(status, sent, time.perf_counter())

    records = _spread(len(sequences), _Work(port, body))
    return _summary(
        [r[0] for r in records], [r[2] - r[1] for r in records], min(r[1] for r in records), max(r[2] for r in records)
    )


def run_paced(
    port: int, requests: list[Request], *, rate: float, seconds: float, clients: int = 16, seed: int = 0
) -> dict:
    """Open loop at ``rate`` requests/s offered; latency counted from when each request was due, so a
    backlog counts against the server (no coordinated omission)."""
    interval = clients / max(rate, 1e-9)

    def body(connection, k, record):
        rng = random.Random(seed * 1000 + k)
        start = time.perf_counter() + interval * k / clients  # clients staggered over one interval
        n = 0
        while (due := start + n * interval) < start + seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = connection.send(rng.choice(requests))
            record(status, due, time.perf_counter())
            n += 1

    records = _spread(clients, _Work(port, body))
    figure = _summary(
        [r[0] for r in records], [r[2] - r[1] for r in records], min(r[1] for r in records), max(r[2] for r in records)
    )
    figure["offered_rps"] = rate
    return figure


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's master and workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        stack.extend(children.get(current, []))
    return tree
