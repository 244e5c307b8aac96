"""Child processes of the benchmark scripts, each in its own process group.

Every child runs in its own session (``start_new_session``), so Ctrl+C in the terminal reaches
only the script, and ``stop`` ends the whole group (gunicorn master and workers, a flask CLI
command and whatever it started) without touching anything else. ``stop_all`` runs at exit.
"""
from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (the socket is closed again at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def spawn(self, cmd: list[str], *, name: str = "", **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        with self.lock:
            self.procs.append((name or os.path.basename(cmd[0]), proc))
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL after *timeout*; a group whose leader is already gone
        gets SIGKILL so that no child of it survives."""
        if proc.poll() is None:
            _killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        else:
            _killpg(proc.pid, signal.SIGKILL)
        with self.lock:
            self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def stop_all(self) -> None:
        with self.lock:
            procs = list(reversed(self.procs))
        for name, proc in procs:
            try:
                self.stop(proc)
            except Exception as exc:  # noqa: BLE001 - cleanup goes on with the others
                print(f"  ! could not stop {name} (pid {proc.pid}): {exc}", file=sys.stderr)


PROCS = Processes()
atexit.register(PROCS.stop_all)
