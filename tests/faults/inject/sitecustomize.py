"""Fault injection for tests/faults (never imported by the portal itself).

A process started with this folder on PYTHONPATH imports this module at start-up (Python's
`site` does). With PORTAL_FAULT_POINT="module:name" it wraps that function so that, once the
test has armed it, the process stops dead at that point -- a deterministic place for the test
to SIGKILL it, instead of sleeping and hoping:

* PORTAL_FAULT_DIR: a folder shared with the test. The test arms the fault by creating the
  file `armed` there; the first call (in any process) that finds it renames it to
  `paused-<pid>` (an atomic claim, so exactly one process pauses) and blocks for good.
* PORTAL_FAULT_AFTER: calls to let through in this process first (default 0).
* PORTAL_FAULT_WHEN: "before" (default) or "after" the original function runs.

Forked children (gunicorn workers) inherit the wrapper.
"""
from __future__ import annotations

import functools
import importlib
import os
import threading


def _install(spec: str, folder: str, after: int, when: str) -> None:
    module_name, _, attr_path = spec.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = attr_path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = {"n": 0}
    lock = threading.Lock()

    def pause_if_armed() -> None:
        with lock:
            calls["n"] += 1
            if calls["n"] <= after:
                return
        try:
            os.rename(os.path.join(folder, "armed"), os.path.join(folder, f"paused-{os.getpid()}"))
        except OSError:
            return  # not armed, or another process claimed it
        threading.Event().wait()  # until the test kills this process

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if when == "before":
            pause_if_armed()
        result = original(*args, **kwargs)
        if when == "after":
            pause_if_armed()
        return result

    setattr(owner, name, wrapper)


_spec = os.environ.get("PORTAL_FAULT_POINT")
if _spec:
    _install(_spec, os.environ["PORTAL_FAULT_DIR"], int(os.environ.get("PORTAL_FAULT_AFTER", "0")),
             os.environ.get("PORTAL_FAULT_WHEN", "before"))
