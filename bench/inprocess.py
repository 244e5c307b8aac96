"""In-process measurements for bench/catalog_bench.py (run as a subprocess, one mode per run).

The instance is taken from the environment (PORTAL_INSTANCE_PATH, PORTAL_SECRET_KEY), exactly as
for the served app. Each mode prints one JSON document on stdout.

    search  --mode client|service|index --queries FILE
        Latency of the catalog search without HTTP: `client` goes through the Flask test client
        (`GET /api/v1/services?q=…`: routing, parameter parsing, search, JSON), `service` calls
        `services.catalog.directory.search_services` in an app context (search + join to the
        database), `index` calls `CatalogIndex.search` alone (the search engine). FILE holds
        {"warmup": [params, …], "measure": [params, …]} where params is {"q": …} plus optional
        "category"/"bureau" filters.

    pages   --url URL … [--bare] [--iterations N] [--profile]
        Where a page's time goes: ms per request through the test client, split into
        `services.catalog.directory` calls (database reads + search), `CatalogIndex.search`, template
        rendering and the rest (Flask, Werkzeug, Babel, …); SQL statements per request; with
        --profile, the top functions of a cProfile run over the same requests.

    profile-search --queries FILE
        cProfile of `CatalogIndex.search` over the measured queries, plus the slowest queries.
"""
from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))


def api_path(params: dict) -> str:
    """`GET /api/v1/services` with these parameters (q, category, bureau)."""
    return "/api/v1/services?" + urlencode(params)


# --------------------------------------------------------------------------- timers
class Timers:
    """Accumulates seconds per label; wrappers nest-safely count only the outermost call."""

    def __init__(self) -> None:
        self.t: dict[str, float] = {}
        self.n: dict[str, int] = {}
        self._depth: dict[str, int] = {}

    def reset(self) -> None:
        self.t.clear()
        self.n.clear()

    def add(self, label: str, seconds: float, count: int = 1) -> None:
        self.t[label] = self.t.get(label, 0.0) + seconds
        self.n[label] = self.n.get(label, 0) + count

    def wrap(self, label: str, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            depth = self._depth.get(label, 0)
            self._depth[label] = depth + 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth[label] = depth
                if depth == 0:
                    self.add(label, time.perf_counter() - t0)
        return wrapper


def instrument(app, timers: Timers) -> None:
    """Time services.catalog.directory calls, CatalogIndex.search, template rendering and SQL."""
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    from portal.extensions import db
    from services.catalog import directory

    for name in ("overview", "get_category", "services_in_category", "categories_with_counts", "get_service",
                 "related_services", "bureaus_with_counts", "get_bureau", "services_of_bureau", "lookup_names",
                 "search_services"):
        setattr(directory, name, timers.wrap("directory", getattr(directory, name)))
    index = app.extensions["portal.search"]
    index.search = timers.wrap("index.search", index.search)

    with app.app_context():
        engine = db.engine
    starts: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_a, **_k):
        starts.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(*_a, **_k):
        timers.add("sql", time.perf_counter() - starts.pop())

    render_starts: list[float] = []

    def _before_render(sender, **extra):
        render_starts.append(time.perf_counter())

    def _rendered(sender, **extra):
        if render_starts:
            timers.add("render", time.perf_counter() - render_starts.pop())

    before_render_template.connect(_before_render, app, weak=False)
    template_rendered.connect(_rendered, app, weak=False)


def instrument_bare(app, timers: Timers) -> None:
    from flask import before_render_template, template_rendered

    render_starts: list[float] = []
    before_render_template.connect(lambda s, **e: render_starts.append(time.perf_counter()), app, weak=False)
    template_rendered.connect(
        lambda s, **e: timers.add("render", time.perf_counter() - render_starts.pop()) if render_starts else None,
        app, weak=False)


# --------------------------------------------------------------------------- modes
def mode_search(args) -> dict:
    queries = json.loads(Path(args.queries).read_text("utf-8"))
    from portal import create_app

    app = create_app()
    if args.mode == "client":
        client = app.test_client()

        def call(params: dict) -> None:
            r = client.get(api_path(params))
            if r.status_code != 200:
                raise SystemExit(f"{r.status_code} for {params!r}")
            r.get_data()
    elif args.mode == "service":
        from portal.extensions import db, search
        from services.catalog import directory

        def call(params: dict) -> None:
            p = dict(params)
            with app.app_context():  # one app context per call, like a request
                directory.search_services(db.session, search.index, p.pop("q", ""), per_page=20, **p)
    else:
        index = app.extensions["portal.search"]

        def call(params: dict) -> None:
            p = dict(params)
            index.search(p.pop("q", ""), per_page=20, **p)

    t_start = time.perf_counter()
    for params in queries["warmup"]:
        call(params)
    warm = time.perf_counter() - t_start
    lat = []
    cpu = []
    for params in queries["measure"]:
        c0 = time.process_time()
        t0 = time.perf_counter()
        call(params)
        lat.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"mode": args.mode, "warmup_seconds": round(warm, 2), "latencies_ms": lat, "cpu_ms": cpu}


def _profile_text(profiler: cProfile.Profile, sort: str, limit: int, n_requests: int) -> list[dict]:
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{_short(filename)}:{line}({func})", "calls_per_request": round(nc / n_requests, 1),
                     "tottime_ms": round(tt * 1000 / n_requests, 3), "cumtime_ms": round(ct * 1000 / n_requests, 3)})
    key = "tottime_ms" if sort == "tottime" else "cumtime_ms"
    rows.sort(key=lambda r: -r[key])
    return rows[:limit]


def _package(filename: str, func: str) -> str:
    """Which package a profiled function belongs to (for the own-time split)."""
    if filename == "~":
        return "sqlite3 (C)" if "sqlite3" in func else "builtins (C)"
    i = filename.find("site-packages" + os.sep)
    if i >= 0:
        name = filename[i + len("site-packages") + 1:].split(os.sep, 1)[0]
        return name[:-3] if name.endswith(".py") else name
    root = str(REPO_ROOT) + os.sep
    if filename.startswith(root):
        top = filename[len(root):].split(os.sep, 1)[0]
        return "templates (compiled Jinja)" if top == "templates" else top
    if filename.startswith("<template>"):
        return "templates (compiled Jinja)"
    return "stdlib"


def own_time_by_package(profiler: cProfile.Profile, n_requests: int) -> dict[str, float]:
    stats = pstats.Stats(profiler)
    out: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        pkg = _package(filename, func)
        out[pkg] = out.get(pkg, 0.0) + tt * 1000 / n_requests
    return {k: round(v, 3) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def repo_cumtime(profiler: cProfile.Profile, n_requests: int, limit: int = 15) -> list[dict]:
    """Cumulative time of the project's own functions (portal/, services/, search_index/)."""
    stats = pstats.Stats(profiler)
    root = str(REPO_ROOT) + os.sep
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not filename.startswith(root) or ".venv" in filename:
            continue
        if filename[len(root):].split(os.sep, 1)[0] not in ("portal", "services", "search_index"):
            continue
        rows.append({"function": f"{_short(filename)}:{line}({func})", "calls_per_request": round(nc / n_requests, 2),
                     "tottime_ms": round(tt * 1000 / n_requests, 3), "cumtime_ms": round(ct * 1000 / n_requests, 3)})
    rows.sort(key=lambda r: -r["cumtime_ms"])
    return rows[:limit]


def _short(filename: str) -> str:
    for prefix in (str(REPO_ROOT) + os.sep, "site-packages" + os.sep):
        i = filename.find(prefix)
        if i >= 0:
            return filename[i + len(prefix):]
    return filename


def mode_pages(args) -> dict:
    timers = Timers()
    if args.bare:
        sys.path.insert(0, str(BENCH_DIR))
        from bare_app import create_app as create_bare

        app = create_bare()
        instrument_bare(app, timers)
    else:
        from portal import create_app

        app = create_app()
        instrument(app, timers)
    client = app.test_client()
    out = {}
    for url in args.url:
        for _ in range(max(3, args.iterations // 5)):  # warm-up (jieba, index snapshot, template cache)
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
        timers.reset()
        c0 = time.process_time()
        t0 = time.perf_counter()
        per = []
        for _ in range(args.iterations):
            t1 = time.perf_counter()
            client.get(url).get_data()
            per.append((time.perf_counter() - t1) * 1000)
        total = (time.perf_counter() - t0) * 1000 / args.iterations
        cpu_total = (time.process_time() - c0) * 1000 / args.iterations
        n = args.iterations
        ms = {k: v * 1000 / n for k, v in timers.t.items()}
        entry = {
            "ms_per_request": round(total, 3),
            "cpu_ms_per_request": round(cpu_total, 3),
            "median_ms": round(statistics.median(per), 3),
            "directory_ms": round(ms.get("directory", 0.0), 3),
            "index_search_ms": round(ms.get("index.search", 0.0), 3),
            "render_ms": round(ms.get("render", 0.0), 3),
            "sql_execute_ms": round(ms.get("sql", 0.0), 3),
            "sql_statements": round(timers.n.get("sql", 0) / n, 2),
        }
        # Rendering and directory calls do not overlap in these views (the view calls the
        # services first, then renders), except lazy loads during rendering (counted in SQL).
        entry["other_ms"] = round(total - entry["directory_ms"] - entry["render_ms"], 3)
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.iterations):
                client.get(url).get_data()
            prof.disable()
            entry["profile_tottime"] = _profile_text(prof, "tottime", args.top, args.iterations)
            entry["profile_cumtime"] = _profile_text(prof, "cumtime", args.top * 2, args.iterations)
            entry["profile_repo_cumtime"] = repo_cumtime(prof, args.iterations)
            entry["own_time_by_package_ms"] = own_time_by_package(prof, args.iterations)
            entry["profiled_ms_per_request"] = round(sum(entry["own_time_by_package_ms"].values()), 3)
        out[url] = entry
    return {"pages": out}


def mode_profile_search(args) -> dict:
    queries = json.loads(Path(args.queries).read_text("utf-8"))
    from portal import create_app

    app = create_app()
    index = app.extensions["portal.search"]
    def call(params: dict) -> None:
        p = dict(params)
        index.search(p.pop("q", ""), per_page=20, **p)

    for params in queries["warmup"]:
        call(params)
    # The slowest time of each distinct query (its first run has cold per-term caches).
    seen: dict[str, float] = {}
    prof = cProfile.Profile()
    measure = queries["measure"]
    for params in measure:
        key = json.dumps(params, ensure_ascii=False)
        t0 = time.perf_counter()
        prof.enable()
        call(params)
        prof.disable()
        dt = (time.perf_counter() - t0) * 1000
        seen[key] = max(seen.get(key, 0.0), dt)
    slowest = sorted(seen.items(), key=lambda kv: -kv[1])[:10]
    return {"slowest": [{"query": k, "ms": round(ms, 2)} for k, ms in slowest],
            "profile_tottime": _profile_text(prof, "tottime", args.top, len(measure)),
            "profile_cumtime": _profile_text(prof, "cumtime", args.top * 2, len(measure)),
            "profile_repo_cumtime": repo_cumtime(prof, len(measure)),
            "own_time_by_package_ms": own_time_by_package(prof, len(measure))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="in-process measurements (see module docstring)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("search")
    p.add_argument("--mode", choices=("client", "service", "index"), required=True)
    p.add_argument("--queries", required=True)
    p = sub.add_parser("pages")
    p.add_argument("--url", action="append", required=True)
    p.add_argument("--bare", action="store_true")
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--top", type=int, default=12)
    p = sub.add_parser("profile-search")
    p.add_argument("--queries", required=True)
    p.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    # Keep stdout for the JSON document: anything the app prints goes to stderr.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        if args.cmd == "search":
            doc = mode_search(args)
        elif args.cmd == "pages":
            doc = mode_pages(args)
        else:
            doc = mode_profile_search(args)
    finally:
        sys.stdout = real_stdout
    json.dump(doc, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
