"""A small, bounded HTTP/1.1 load generator over keep-alive connections (loopback only).

Pure standard library: raw sockets and a minimal response parser (Content-Length or chunked
bodies), so that the client costs as little CPU as possible next to the server on a 2-core
machine. Every run is bounded by a request count *and* a wall-clock deadline.
"""
from __future__ import annotations

import itertools
import os
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

HOST = "127.0.0.1"
#: Seconds a single request may take before the client gives up on it.
REQUEST_TIMEOUT = 30.0


def encode_path(path: str) -> str:
    """Percent-encode a path with query (UTF-8) the way a browser would."""
    parts = urlsplit(path)
    out = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        out += "?" + quote(parts.query, safe="=&%+-._~:/,")
    return out


def build_request(path: str, port: int) -> bytes:
    return (f"GET {encode_path(path)} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "User-Agent: portal-bench\r\nAccept: */*\r\nAccept-Encoding: identity\r\n\r\n").encode("ascii")


class HTTPConnection:
    """One keep-alive connection; `request` sends prepared bytes and reads one response."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self) -> None:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; return (status, body). Marks the connection closed if the
        server said `Connection: close`."""
        self.sock.sendall(raw)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line():  # trailers
                        pass
                    break
                parts.append(self._read_exact(size))
                self._read_exact(2)
            body = b"".join(parts)
        else:  # body until close
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body, self.buf = self.buf, b""
            self.closed = True
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


# --------------------------------------------------------------------------- CPU accounting
def _clk() -> int:
    return os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _clk()
    except (OSError, IndexError, ValueError):
        return 0.0


def system_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / _clk()


def tasks_cpu_ns(pids: list[int]) -> int:
    """Nanoseconds on CPU of every thread of these processes (/proc/<pid>/task/*/schedstat):
    a per-request server CPU time that does not count time spent waiting for a core."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class CpuSample:
    wall: float
    system: float
    client: float
    server: float

    @classmethod
    def take(cls, server_pids: list[int]) -> "CpuSample":
        return cls(time.perf_counter(), system_busy_seconds(), self_cpu_seconds(),
                   sum(proc_cpu_seconds(p) for p in server_pids))


def cpu_share(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Cores used during the interval by the server, the client (this process) and everything
    else on the machine (other people's work: noise)."""
    wall = max(after.wall - before.wall, 1e-9)
    server = (after.server - before.server) / wall
    client = (after.client - before.client) / wall
    total = (after.system - before.system) / wall
    return {"server_cores": round(server, 2), "client_cores": round(client, 2),
            "other_cores": round(max(0.0, total - server - client), 2)}


# --------------------------------------------------------------------------- runs
@dataclass
class RunResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    bytes: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 3),
                "rps": round(self.rps, 1), "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
                "p99_ms": round(percentile(lat, 99), 2) if lat else None,
                "bytes_per_response": (self.bytes // self.requests) if self.requests else 0,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}, **self.cpu}


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(pct / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def throughput(port: int, path: str, *, requests: int, seconds: float, connections: int,
               reconnect_every: int = 100, server_pids: list[int] | None = None) -> RunResult:
    """Drive `path` with `connections` client threads until `requests` responses have been
    read or `seconds` have passed, whichever comes first.

    Connections are kept alive and reopened every `reconnect_every` requests, so that the
    server's workers share the connections evenly over the run (a keep-alive connection sticks
    to the worker that accepted it)."""
    raw = build_request(path, port)
    counter = itertools.count()
    lock = threading.Lock()
    result = RunResult()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        conn: HTTPConnection | None = None
        lat: list[float] = []
        statuses: dict[int, int] = {}
        nbytes = errors = done_here = 0
        try:
            while next(counter) < requests and time.perf_counter() < stop_at:
                try:
                    if conn is None or conn.closed or (done_here and done_here % reconnect_every == 0):
                        if conn is not None:
                            conn.close()
                        conn = HTTPConnection(port)
                    t0 = time.perf_counter()
                    status, body = conn.request(raw)
                    lat.append((time.perf_counter() - t0) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1
                    nbytes += len(body)
                    done_here += 1
                    if status != 200:
                        errors += 1
                except (OSError, ConnectionError, ValueError, IndexError):
                    errors += 1
                    if conn is not None:
                        conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()
            with lock:
                result.latencies_ms.extend(lat)
                result.requests += sum(statuses.values())
                result.errors += errors
                result.bytes += nbytes
                for k, v in statuses.items():
                    result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    before = CpuSample.take(server_pids or [])
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + REQUEST_TIMEOUT + 5)
    result.seconds = time.perf_counter() - t0
    result.cpu = cpu_share(before, CpuSample.take(server_pids or []))
    return result


def sequential_latencies(port: int, paths: list[str], deadline: float,
                         cpu_pids: list[int] | None = None) -> tuple[list[float], list[int], list[float]]:
    """GET each path in order over one keep-alive connection; returns (ms per request, status
    per request, server CPU ms per request — empty without `cpu_pids`). Stops early at
    `deadline` (a perf_counter value)."""
    conn = HTTPConnection(port)
    out: list[float] = []
    statuses: list[int] = []
    cpu: list[float] = []
    try:
        for path in paths:
            if time.perf_counter() > deadline:
                break
            raw = build_request(path, port)
            if conn.closed:
                conn = HTTPConnection(port)
            c0 = tasks_cpu_ns(cpu_pids) if cpu_pids else 0
            t0 = time.perf_counter()
            status, _body = conn.request(raw)
            out.append((time.perf_counter() - t0) * 1000)
            if cpu_pids:
                cpu.append((tasks_cpu_ns(cpu_pids) - c0) / 1e6)
            statuses.append(status)
    finally:
        conn.close()
    return out, statuses, cpu
