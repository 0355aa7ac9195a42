"""A small closed-loop HTTP load generator (processes with one connection each), and RSS readings."""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import time
from pathlib import Path


def _client(port: int, path: str, headers: dict, seconds: float, out, latencies: bool) -> None:
    done, errors, samples = 0, 0, []
    deadline = time.perf_counter() + seconds
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while (start := time.perf_counter()) < deadline:
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                done += 1
            else:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
        if latencies:
            samples.append(time.perf_counter() - start)
    out.put((done, errors, samples))


def run_load(port: int, path: str, headers: dict, *, clients: int = 4, seconds: float = 5.0,
             latencies: bool = False) -> dict:
    """Requests per second over ``seconds`` with ``clients`` concurrent connections."""
    queue = mp.Queue()
    procs = [mp.Process(target=_client, args=(port, path, headers, seconds, queue, latencies))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    samples = sorted(s for r in results for s in r[2])
    figure = {"rps": done / seconds, "errors": errors}
    if samples:
        figure["p50_ms"] = samples[len(samples) // 2] * 1000
        figure["p99_ms"] = samples[int(len(samples) * 0.99) - 1] * 1000
    return figure


def measure_interleaved(plans: dict, *, clients: int, seconds: float, rounds: int) -> dict:
    """Closed-loop throughput of each plan ``{name: (port, path, headers)}``, in interleaved rounds.

    A burst of other load on the machine then moves every plan alike instead of skewing one;
    each figure is the median round.
    """
    for port, path, headers in plans.values():
        run_load(port, path, headers, clients=clients, seconds=1)  # warm up
    measured = {name: [] for name in plans}
    for _ in range(rounds):
        for name, (port, path, headers) in plans.items():
            measured[name].append(run_load(port, path, headers, clients=clients, seconds=seconds / rounds))
    results = {}
    for name, figures in measured.items():
        results[name] = sorted(figures, key=lambda f: f["rps"])[len(figures) // 2]
        results[name]["rounds_rps"] = [round(f["rps"]) for f in figures]
    return results


def _paced_client(port: int, path: str, headers: dict, interval: float, seconds: float, out) -> None:
    samples, errors = [], 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.perf_counter()
    n = 0
    while (due := start + n * interval) < start + seconds:
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            errors += response.status != 200
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
        # Latency from when the request was due, so a backlog counts against the server (no coordinated omission).
        samples.append(time.perf_counter() - min(due, sent))
        n += 1
    out.put((samples, errors))


def run_paced(port: int, path: str, headers: dict, *, rate: float, seconds: float = 5.0, clients: int = 8) -> dict:
    """Latency percentiles at a fixed offered load of ``rate`` requests per second (open loop)."""
    queue = mp.Queue()
    interval = clients / rate
    procs = [mp.Process(target=_paced_client, args=(port, path, headers, interval, seconds, queue))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    samples = sorted(s for r in results for s in r[0])
    return {"offered_rps": rate, "p50_ms": samples[len(samples) // 2] * 1000,
            "p99_ms": samples[max(0, int(len(samples) * 0.99) - 1)] * 1000,
            "errors": sum(r[1] for r in results), "requests": len(samples)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
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
