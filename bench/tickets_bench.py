#!/usr/bin/env python
"""Production-scale benchmark of the ticket side of the portal (see bench/README-tickets.md).

    .venv/bin/python bench/tickets_bench.py --quick        # 50,000 tickets
    .venv/bin/python bench/tickets_bench.py                # 1,000,000 tickets
    .venv/bin/python bench/tickets_bench.py --reuse --keep # on the database of an earlier run

1. staff queue (services.tickets.queue.queue in-process, GET /api/v1/tickets over HTTP): first and deep page
   (page 200 by the keyset cursor) for an amr handler, a small bureau's handler and a supervisor,
   plus EXPLAIN ANALYZE of the deep-page SQL;
2. ticket search (TicketIndex.search) with and without a bureau filter;
3. the supervisor dashboard (/dashboard and services.stats.reports) over one year;
4. 200 concurrent submitters (POST /api/v1/requests, some keys sent twice) against gunicorn -w 4 with
   SEARCH_SYNC=indexer and `flask --app portal search sync --follow`: lost / duplicated / 5xx and the
   index catch-up time.
Every figure sits next to a baseline measured in the same run (SELECT 1, a bare Flask app on the same
gunicorn settings, a bare Whoosh term lookup). JSON in bench/results/tickets-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import statistics as pystats
import subprocess
import sys
import threading
import time
import traceback
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = REPO / ".venv" / "bin"

TARGET_MS = 50.0  # queue pages and ticket search p95 at 1,000,000 tickets
CATCH_UP_S = 5.0  # every new ticket searchable within 5 s of the last submission
SMALL_BUREAU = "water"
PAGE = 50  # the queue's page size (services.tickets.queue default, API default)
DEEP_PAGE = 200


# =========================================================================== the bare baseline app
def bare_app():
    """gunicorn 'tickets_bench:bare_app()': Flask with a trivial JSON GET and an echoing POST."""
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.get("/ping")
    def ping():
        return jsonify({"ok": True, "items": []})

    @app.post("/echo")
    def echo():
        body = request.get_json(silent=True) or {}
        return jsonify({"number": "LX0", "key": body.get("idempotency_key")}), 201

    return app


# =========================================================================== output helpers
def log(msg: str = "") -> None:
    print(msg, flush=True)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def lat(values_ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(values_ms),
        "p50": _r(pct(values_ms, 50)),
        "p95": _r(pct(values_ms, 95)),
        "max": _r(max(values_ms) if values_ms else None),
        "mean": _r(pystats.fmean(values_ms) if values_ms else None),
    }


def _r(v: float | None, d: int = 2) -> float | None:
    return None if v is None else round(v, d)


def fmt(v: Any, d: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{d}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _w(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[fmt(c) if not isinstance(c, str) else c for c in r] for r in rows]
    widths = [max(_w(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for j, r in enumerate(cells):
        out.append("  ".join(c + " " * (widths[i] - _w(c)) for i, c in enumerate(r)).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("OK" if ok else "MISSED")


class CpuMeter:
    """Busy cores of the whole machine over an interval (/proc/stat): on a shared 2-core host the
    rest of the machine is the noise."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.busy0, self.total0 = self._read()

    @staticmethod
    def _read() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            parts = [int(x) for x in fh.readline().split()[1:]]
        idle = parts[3] + parts[4]
        return sum(parts) - idle, sum(parts)

    def stop(self) -> dict[str, float]:
        busy, total = self._read()
        cores = os.cpu_count() or 1
        frac = (busy - self.busy0) / max(1, total - self.total0)
        return {
            "busy_cores": round(frac * cores, 2),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "seconds": round(time.monotonic() - self.t0, 1),
        }


# =========================================================================== processes
from procs import PROCS, free_port  # noqa: E402  (bench/procs.py)


def _on_signal(signum, _frame):
    raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)


class Gunicorn:
    def __init__(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        logdir: Path,
        workers: int,
        chdir: Path = REPO,
        extra: list[str] | None = None,
    ) -> None:
        self.name, self.port = name, free_port()
        self.log_path = logdir / f"gunicorn-{name}.log"
        self.logfh = open(self.log_path, "wb")
        cmd = [
            str(VENV_BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(chdir),
            *(extra or []),
            app,
        ]
        self.cmd = cmd
        self.proc = PROCS.spawn(cmd, name=name, env=env, stdout=self.logfh, stderr=subprocess.STDOUT, cwd=chdir)

    def wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log_path}")
            try:
                status, _b, _t, _h = http_req(self.port, "GET", path, timeout=5)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout}s")

    def stop(self) -> None:
        PROCS.stop(self.proc)
        self.logfh.close()


def http_req(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> tuple[int, bytes, float, dict[str, str]]:
    """One request on a fresh connection (gunicorn's sync worker closes it anyway):
    (status, body, elapsed ms, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        elapsed = (time.perf_counter() - t) * 1000
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if "set-cookie" in hdrs:
            hdrs["set-cookie"] = "\n".join(v for k, v in resp.getheaders() if k.lower() == "set-cookie")
        return resp.status, data, elapsed, hdrs
    finally:
        conn.close()


# =========================================================================== context
class Ctx:
    """What the parts share: settings, the in-process app, accounts, servers."""

    def __init__(self, args: argparse.Namespace, summary: dict[str, Any], tmp: Path) -> None:
        self.args, self.summary, self.tmp = args, summary, tmp
        self.instance = Path(summary["instance"])
        self.db = summary["db"]
        self.reps = args.reps or (12 if args.quick else 30)
        self.app = None
        self.portal: Gunicorn | None = None
        self.bare: Gunicorn | None = None
        self.indexer: subprocess.Popen | None = None
        self.tokens: dict[str, list[str]] = {}
        self.rot: dict[str, int] = {}

    def token(self, username: str) -> str:
        i = self.rot.get(username, 0)
        self.rot[username] = i + 1
        toks = self.tokens[username]
        return toks[i % len(toks)]


def portal_env(ctx_or_instance, db: str | None = None, **extra: str) -> dict[str, str]:
    from tickets_gen import portal_env as gen_env

    if isinstance(ctx_or_instance, Ctx):
        return gen_env(ctx_or_instance.instance, ctx_or_instance.db, ctx_or_instance.args.server, **extra)
    return gen_env(ctx_or_instance, db, **extra)


def make_app(ctx: Ctx):
    for k, v in portal_env(ctx, PORTAL_SEARCH_SYNC="indexer").items():
        if k.startswith("PORTAL_"):
            os.environ[k] = v
    from portal import create_app

    return create_app()


def preflight_index(ctx: Ctx) -> dict[str, Any]:
    """The ticket index must be readable by the code as it is now (search_index/tickets.py changes
    while people work on it): if not, rebuild it the way tickets_gen.py did (same document limit)."""
    from tickets_gen import timed_rebuild

    from portal.extensions import db, search
    from search_index.tickets import TicketIndexUnavailable
    from services import outbox as search_sync

    try:
        n = search.tickets.doc_count()
        return {"ok": True, "doc_count": n}
    except TicketIndexUnavailable as exc:
        idx = ctx.summary.get("index") or {}
        limit = idx.get("indexed") if idx.get("partial") else None
        log(
            f"ticket index unusable with the current code ({exc}); rebuilding"
            + (f" the first {limit:,} tickets" if limit else "")
            + " …"
        )
        session = db.new_session()
        try:
            position = search_sync.current_max_id(session)
            total = search_sync.count_tickets(session)
            info = timed_rebuild(search.tickets, session, min(total, limit) if limit else total, "ticket index")
            search.position.write(position)
        finally:
            session.close()
        idx.update(info, indexed=info["docs"], total_tickets=total, partial=info["docs"] < total, rebuilt_by_bench=True)
        ctx.summary["index"] = idx
        return {"ok": False, "reason": str(exc), "rebuilt": info}


def prepare_accounts(ctx: Ctx) -> dict[str, Any]:
    """The three staff accounts measured, their API tokens (several each: the API's rate limit is
    300 a minute per token), and the enterprise accounts of the submitters (one token each)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import Bureau, Request, Ticket, User

    s = db.session
    small = ctx.args.small_bureau
    staff = {"amr": "amr-handler-01", "small": f"{small}-handler-01", "supervisor": "joint-office-supervisor-1"}
    info: dict[str, Any] = {"staff": staff}
    for key, uname in staff.items():
        user = s.scalar(select(User).where(User.username == uname))
        if user is None:
            raise RuntimeError(f"account {uname} missing: was the database made by bench/tickets_gen.py?")
        ctx.tokens[uname] = [accounts.issue_token(s, user, "bench") for _ in range(6)]
    ids = dict(s.execute(select(Bureau.code, Bureau.id)).all())
    info["bureau_ids"] = {"amr": ids["amr"], small: ids[small]}
    counts = dict(s.execute(select(Ticket.bureau_id, func.count()).group_by(Ticket.bureau_id)).all())
    info["tickets_of"] = {
        "amr": counts.get(ids["amr"], 0),
        small: counts.get(ids[small], 0),
        "all": sum(counts.values()),
    }
    # submitters: enterprises with at least one earlier request, distinct accounts
    n = ctx.args.submitters
    rows = s.execute(
        select(User.id, User.username)
        .where(User.role == "enterprise")
        .where(User.id.in_(select(Request.user_id).distinct()))
        .order_by(User.id)
    ).all()
    rng = random.Random(ctx.args.seed)
    chosen = rng.sample(rows, min(len(rows), n + 1))
    ctx.submitters = []
    for uid, uname in chosen:
        user = s.get(User, uid)
        ctx.submitters.append((uname, accounts.issue_token(s, user, "bench")))
    s.commit()
    release_session()
    return info


def start_servers(ctx: Ctx) -> dict[str, Any]:
    """The portal as README 'Deployment' runs it (gunicorn -w 4, PRODUCTION, SEARCH_SYNC=indexer,
    rate limits in Redis) and the bare app with the same gunicorn settings; the indexer."""
    a = ctx.args
    workers = a.workers
    extra = ["--worker-class", a.worker_class] + (["--threads", str(a.threads)] if a.worker_class == "gthread" else [])
    env = portal_env(
        ctx,
        PORTAL_PRODUCTION="true",
        PORTAL_SECRET_KEY=secrets.token_hex(32),
        PORTAL_SEARCH_SYNC="indexer",
        PORTAL_RATELIMIT_STORAGE_URI=a.redis,
        PORTAL_RATELIMIT_KEY_PREFIX=f"bench-tickets-{os.getpid()}",
    )
    ctx.portal = Gunicorn("portal", "portal:create_app()", env, ctx.tmp, workers, extra=extra)
    bare_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    ctx.bare = Gunicorn("bare", "tickets_bench:bare_app()", bare_env, ctx.tmp, workers, chdir=BENCH, extra=extra)
    ctx.portal.wait_ready("/api/v1/services?per_page=1")
    ctx.bare.wait_ready("/ping")
    log_path = ctx.tmp / "indexer.log"
    ctx.indexer_log = open(log_path, "wb")
    ctx.indexer = PROCS.spawn(
        [str(VENV_BIN / "flask"), "--app", "portal", "search", "sync", "--follow"],
        name="indexer",
        env=env,
        cwd=REPO,
        stdout=ctx.indexer_log,
        stderr=subprocess.STDOUT,
    )
    return {
        "portal": " ".join(ctx.portal.cmd[1:]),
        "workers": workers,
        "worker_class": a.worker_class,
        "env": "PORTAL_PRODUCTION=true PORTAL_SEARCH_SYNC=indexer PORTAL_RATELIMIT_STORAGE_URI=" + a.redis,
        "indexer": "flask --app portal search sync --follow (interval 1 s)",
    }


# =========================================================================== part 1: the staff queue
def _users(ctx: Ctx):
    from sqlalchemy import select

    from portal.extensions import db
    from services.models import User

    s = db.session
    staff = ctx.info["staff"]
    out = []
    for key in ("amr", "small", "supervisor"):
        out.append((key, staff[key], s.scalar(select(User).where(User.username == staff[key])).id))
    return out


def release_session() -> None:
    """End the request-scoped session (what Flask's teardown does after each request)."""
    from flask import current_app

    current_app.extensions["portal.db"].sessions.remove()


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    v = fn()
    return (time.perf_counter() - t) * 1000, v


def _queue_call(user_id: int, status: str | None, after: str | None):
    """services.tickets.queue.queue as a page request runs it: a fresh session, the user loaded, the call."""
    from portal.extensions import db
    from services.models import User
    from services.tickets import queue as queuesvc

    s = db.session
    try:
        user = s.get(User, user_id)
        return queuesvc.queue(s, user, queuesvc.QueueFilter(status=status), after=after, limit=PAGE)
    finally:
        release_session()


def _deep_cursor_sql(user_id: int, status: str | None, depth_rows: int) -> tuple[str | None, int]:
    """The cursor that opens page DEEP_PAGE (row depth_rows of the queue order), straight from SQL;
    (cursor, rows available)."""
    from sqlalchemy import and_, func, select

    from portal.extensions import db
    from services.models import Ticket, User, ticket_deadline, ticket_is_open
    from services.policy import visible_tickets_clause

    s = db.session
    try:
        user = s.get(User, user_id)
        conds = [visible_tickets_clause(user)]
        if status in (None, "open"):
            conds.append(ticket_is_open())
        dl = ticket_deadline()
        total = s.scalar(select(func.count(Ticket.id)).where(and_(*conds))) or 0
        if total <= PAGE:
            return None, total
        off = min(depth_rows, (total - 1) // PAGE * PAGE) - 1
        row = s.execute(select(dl, Ticket.id).where(and_(*conds)).order_by(dl, Ticket.id).offset(off).limit(1)).first()
        return (f"{row[0].isoformat()}_{row[1]}" if row else None), total
    finally:
        release_session()


def _capture_sql(engine, fn: Callable[[], Any]) -> list[tuple[str, Any, float]]:
    """The statements fn() runs, with their parameters and execution time in ms."""
    from sqlalchemy import event

    seen: list[list] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append([statement, parameters, time.perf_counter()])

    def after(conn, cursor, statement, parameters, context, executemany):
        if seen and seen[-1][0] is statement:
            seen[-1][2] = (time.perf_counter() - seen[-1][2]) * 1000

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return [tuple(x) for x in seen]


def _pkg(filename: str) -> str:
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith(str(REPO)):
        rel = filename[len(str(REPO)) + 1 :]
        return rel.split("/", 1)[0] if "/" in rel else rel
    if filename.startswith("~") or filename.startswith("<"):
        return "C / builtins"
    return "stdlib"


def profile_calls(fn: Callable[[], Any], calls: int, budget_s: float = 30.0) -> dict[str, Any]:
    """cProfile over a few calls: own time per package and the project's functions by cumulative time."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    done = 0
    t0 = time.perf_counter()
    pr.enable()
    try:
        while done < calls and (done == 0 or time.perf_counter() - t0 < budget_s):
            fn()
            done += 1
    finally:
        pr.disable()
    st = pstats.Stats(pr)
    own: dict[str, float] = {}
    proj = []
    total = 0.0
    for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        own[_pkg(file)] = own.get(_pkg(file), 0.0) + tt
        total += tt
        if file.startswith(str(REPO)) and "/.venv/" not in file and "/bench/" not in file:
            proj.append((ct, f"{file[len(str(REPO)) + 1 :]}:{line} {func}", nc))
    proj.sort(reverse=True)
    return {
        "calls": done,
        "ms_per_call": _r(total * 1000 / max(done, 1)),
        "own_ms_per_call_by_package": {
            k: _r(v * 1000 / max(done, 1)) for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:10]
        },
        "project_cumulative_ms_per_call": [(name, _r(ct * 1000 / max(done, 1)), n) for ct, name, n in proj[:14]],
    }


def print_profile(title: str, prof: dict[str, Any]) -> None:
    log(f"  profile {title}: {prof['ms_per_call']} ms/call under cProfile ({prof['calls']} calls)")
    log("    own time by package: " + ", ".join(f"{k} {v}" for k, v in prof["own_ms_per_call_by_package"].items()))
    for name, ms, n in prof["project_cumulative_ms_per_call"][:8]:
        log(f"    {ms:>9} ms cumulative  {name}")


def _plan_nodes(node: dict, depth: int = 0, out: list | None = None) -> list:
    out = [] if out is None else out
    out.append((depth, node))
    for child in node.get("Plans", []) or []:
        _plan_nodes(child, depth + 1, out)
    return out


def explain(engine, statement: str, params: Any) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement: summary facts and the text plan."""
    with engine.connect() as conn:
        js = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params).scalar()
        text = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
        conn.rollback()
    plan = js[0] if isinstance(js, list) else json.loads(js)[0]
    nodes = _plan_nodes(plan["Plan"])
    seq = [
        {
            "relation": n.get("Relation Name"),
            "rows": n.get("Actual Rows"),
            "loops": n.get("Actual Loops"),
            "removed_by_filter": n.get("Rows Removed by Filter"),
        }
        for _d, n in nodes
        if n.get("Node Type") == "Seq Scan"
    ]
    index_nodes = sorted({n.get("Index Name") for _d, n in nodes if n.get("Index Name")})
    sorts = [
        {
            "method": n.get("Sort Method"),
            "rows": n.get("Actual Rows"),
            "key": n.get("Sort Key"),
            "space_kb": n.get("Sort Space Used"),
        }
        for _d, n in nodes
        if n.get("Node Type") in ("Sort", "Incremental Sort")
    ]
    heap = [
        {
            "node": n.get("Node Type"),
            "relation": n.get("Relation Name"),
            "rows": n.get("Actual Rows"),
            "index": n.get("Index Name"),
        }
        for _d, n in nodes
        if n.get("Relation Name") == "ticket"
    ]
    return {
        "execution_ms": round(plan.get("Execution Time", 0.0), 1),
        "planning_ms": round(plan.get("Planning Time", 0.0), 1),
        "seq_scans": seq,
        "indexes": index_nodes,
        "sorts": sorts,
        "ticket_access": heap,
        "text": text[:40],
        "sql": statement[:3000],
    }


def bench_queue(ctx: Ctx) -> dict[str, Any]:
    from sqlalchemy import text as sqltext

    from portal.extensions import db

    res: dict[str, Any] = {"page_size": PAGE, "deep_page": DEEP_PAGE, "cases": [], "plans": {}}
    engine = db.engine
    reps = ctx.reps
    # baselines: SELECT 1 round trips (same engine, same pool) and the bare app over HTTP
    base = []
    for _ in range(reps * 3):
        ms, _v = _timed(lambda: db.session.execute(sqltext("SELECT 1")).scalar())
        base.append(ms)
    release_session()
    res["baseline_select1"] = lat(base)
    bare = [http_req(ctx.bare.port, "GET", "/ping")[2] for _ in range(reps * 2)]
    res["baseline_http_bare"] = lat(bare)
    log(
        f"  baselines: SELECT 1 p50 {res['baseline_select1']['p50']} ms; bare HTTP GET p50 "
        f"{res['baseline_http_bare']['p50']} ms"
    )
    # Warm every gunicorn worker first (its first request opens database connections, loads the
    # translations and the calendar): a deployment's workers are long-running. Reported apart.
    users = list(_users(ctx))
    warm = []
    for _ in range(ctx.args.workers * 4):
        st, _b, ms, _h = http_req(ctx.portal.port, "GET", f"/api/v1/tickets?per_page={PAGE}",
                                  headers={"Authorization": f"Bearer {ctx.token(users[0][1])}"})
        warm.append(ms)
    res["http_warmup_ms"] = [_r(x) for x in warm]
    log(f"  warm-up: {len(warm)} API requests over {ctx.args.workers} workers, slowest {max(warm):.0f} ms")
    for key, uname, uid in users:
        for status in (None, "all"):
            label = f"{key}/{status or 'open'}"
            case: dict[str, Any] = {"user": uname, "who": key, "status": status or "open"}
            # first page in-process
            for _ in range(3):
                _queue_call(uid, status, None)  # warm
            first = []
            for _ in range(reps):
                ms, page = _timed(lambda: _queue_call(uid, status, None))
                first.append(ms)
            case["total"] = page.total
            case["first_inproc"] = lat(first)
            # follow the cursor towards page 200 (bounded by pages and time)
            walk, cursor, pages = [], None, 1
            deadline = time.monotonic() + (ctx.args.walk_seconds or (20 if ctx.args.quick else 45))
            nxt = page.next_cursor
            while nxt and pages < DEEP_PAGE and time.monotonic() < deadline:
                ms, p = _timed(lambda: _queue_call(uid, status, nxt))
                walk.append(ms)
                pages += 1
                cursor, nxt = nxt, p.next_cursor
            case["walk"] = {"pages_reached": pages, **lat(walk)}
            if pages < DEEP_PAGE and nxt:  # out of time: take page 200's cursor from SQL
                cursor, _tot = _deep_cursor_sql(uid, status, (DEEP_PAGE - 1) * PAGE)
                case["deep_cursor_from"] = "sql-offset"
            else:
                case["deep_cursor_from"] = "walk" if cursor else "none (one page only)"
            case["deep_cursor"] = cursor
            case["deep_page_no"] = DEEP_PAGE if case["deep_cursor_from"] == "sql-offset" else pages
            if cursor:
                deep = []
                for _ in range(reps):
                    ms, _p = _timed(lambda: _queue_call(uid, status, cursor))
                    deep.append(ms)
                case["deep_inproc"] = lat(deep)
            # over HTTP: the tickets API with a Bearer token
            for which, after in (("first", None), ("deep", cursor)):
                if which == "deep" and not after:
                    continue
                q = (
                    f"/api/v1/tickets?per_page={PAGE}"
                    + (f"&status={status}" if status else "")
                    + (f"&after={after}" if after else "")
                )
                times, errors = [], 0
                http_req(ctx.portal.port, "GET", q, headers={"Authorization": f"Bearer {ctx.token(uname)}"})
                for _ in range(reps):
                    st, _b, ms, _h = http_req(
                        ctx.portal.port, "GET", q, headers={"Authorization": f"Bearer {ctx.token(uname)}"}
                    )
                    times.append(ms)
                    errors += st != 200
                case[f"{which}_http"] = {**lat(times), "errors": errors}
            # the SQL of the deep page (or the first one when there is no second), EXPLAIN ANALYZE
            sqls = _capture_sql(engine, lambda: _queue_call(uid, status, cursor))
            main = next(
                (st[:2] for st in sqls if "ORDER BY" in st[0] and "LIMIT" in st[0] and "FROM ticket" in st[0]), None
            )
            count = next((st[:2] for st in sqls if "count(" in st[0] and "ticket" in st[0]), None)
            case["sql_statements"] = len(sqls)
            case["sql_ms"] = _r(sum(x[2] for x in sqls if isinstance(x[2], float) and x[2] < 1e6))
            case["sql_each_ms"] = [(x[0][:60].replace("\n", " "), _r(x[2])) for x in sqls]
            plans = {}
            if main:
                plans["page"] = explain(engine, *main)
            if count:
                plans["count"] = explain(engine, *count)
            res["plans"][label] = plans
            res["cases"].append(case)
            log(
                f"  {label:22s} total {case['total']:>9,}  first {case['first_inproc']['p50']:>8} / "
                f"{case['first_inproc']['p95']:>8} ms  deep(p{case['deep_page_no']}) "
                f"{case.get('deep_inproc', {}).get('p50')} / {case.get('deep_inproc', {}).get('p95')} ms  "
                f"http first {case['first_http']['p95']} deep {case.get('deep_http', {}).get('p95')} ms p95; "
                f"SQL {case['sql_ms']} ms in {len(sqls)} statements "
                f"(EXPLAIN: page {plans.get('page', {}).get('execution_ms')}"
                f" ms, count {plans.get('count', {}).get('execution_ms')} ms)"
            )
    # where the time goes: profile the slowest in-process case when it misses the target
    worst = max(
        res["cases"],
        key=lambda c: max((c.get("first_inproc") or {}).get("p95") or 0, (c.get("deep_inproc") or {}).get("p95") or 0),
    )
    w95 = max((worst.get("first_inproc") or {}).get("p95") or 0, (worst.get("deep_inproc") or {}).get("p95") or 0)
    if w95 > TARGET_MS or ctx.args.profile:
        uid = next(u for k, _n, u in _users(ctx) if k == worst["who"])
        status = None if worst["status"] == "open" else worst["status"]
        after = (
            worst.get("deep_cursor")
            if (worst.get("deep_inproc") or {}).get("p95", 0) >= (worst.get("first_inproc") or {}).get("p95", 0)
            else None
        )
        prof = profile_calls(lambda: _queue_call(uid, status, after), 5)
        res["profile"] = {"case": f"{worst['who']}/{worst['status']} {'deep' if after else 'first'}", **prof}
        print_profile(res["profile"]["case"], prof)
    return res


# =========================================================================== what-if: candidate indexes
OPEN_SQL = "('submitted','accepted','in_progress','need_info','returned')"
DEADLINE_SQL = "coalesce(due_date, accept_due, DATE '9999-12-31')"
CANDIDATE_INDEXES = [
    f"CREATE INDEX bench_whatif_queue_bureau ON ticket (bureau_id, ({DEADLINE_SQL}), id)",
    f"CREATE INDEX bench_whatif_queue_all ON ticket (({DEADLINE_SQL}), id)",
    f"CREATE INDEX bench_whatif_queue_bureau_open ON ticket (bureau_id, ({DEADLINE_SQL}), id) "
    f"WHERE status IN {OPEN_SQL}",
    f"CREATE INDEX bench_whatif_queue_open ON ticket (({DEADLINE_SQL}), id) WHERE status IN {OPEN_SQL}",
]


def _whatif_sql(bureau_id: int | None, status: str, cursor: str) -> dict[str, str]:
    """The deep-page query as services/queue.py shapes it today, the same page rewritten (row-comparison
    keyset; own bureau and co-handled tickets as two ordered branches; the far date as a literal),
    and the page's count(*)."""
    d, i = cursor.split("_")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) or not i.isdigit():
        raise ValueError(cursor)
    conds = [f"status IN {OPEN_SQL}"] if status == "open" else []
    vis = (
        "true"
        if bureau_id is None
        else f"(bureau_id = {bureau_id} OR id IN (SELECT ticket_id FROM co_handler WHERE bureau_id = {bureau_id}))"
    )
    where_now = " AND ".join([vis, *conds])
    today_sql = (
        f"SELECT * FROM ticket WHERE {where_now} AND ({DEADLINE_SQL} > DATE '{d}' OR "
        f"{DEADLINE_SQL} = DATE '{d}' AND id > {i}) ORDER BY {DEADLINE_SQL}, id LIMIT 51"
    )
    keyset = f"({DEADLINE_SQL}, id) > (DATE '{d}', {i})"
    c = " AND ".join([*conds, keyset])
    if bureau_id is None:
        new_sql = f"SELECT * FROM ticket WHERE {c} ORDER BY {DEADLINE_SQL}, id LIMIT 51"
    else:
        new_sql = (
            f"SELECT * FROM ((SELECT * FROM ticket WHERE bureau_id = {bureau_id} AND {c} "
            f"ORDER BY {DEADLINE_SQL}, id LIMIT 51) UNION (SELECT * FROM ticket WHERE id IN "
            f"(SELECT ticket_id FROM co_handler WHERE bureau_id = {bureau_id}) AND {c} "
            f"ORDER BY {DEADLINE_SQL}, id LIMIT 51)) t ORDER BY {DEADLINE_SQL}, id LIMIT 51"
        )
    return {"today": today_sql, "rewritten": new_sql, "count": f"SELECT count(*) FROM ticket WHERE {where_now}"}


def what_if_indexes(ctx: Ctx, queue_res: dict[str, Any]) -> dict[str, Any]:
    """--what-if-indexes: EXPLAIN ANALYZE of the deep pages without and with CANDIDATE_INDEXES, created
    inside a transaction that is rolled back — nothing is added to the database."""
    import psycopg
    from tickets_gen import conninfo

    out: dict[str, Any] = {"indexes": CANDIDATE_INDEXES, "cases": {}}
    with psycopg.connect(conninfo(ctx.db, ctx.args.server)) as conn:
        cur = conn.cursor()
        codes = dict(cur.execute("SELECT code, id FROM bureau").fetchall())
        who_bureau = {"amr": codes["amr"], "small": codes[ctx.args.small_bureau], "supervisor": None}

        def ms(sql: str) -> float:
            plan = cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            return round(plan["Execution Time"], 2)

        def run(tag: str) -> None:
            for c in queue_res["cases"]:
                if not c.get("deep_cursor"):
                    continue
                sqls = _whatif_sql(who_bureau[c["who"]], c["status"], c["deep_cursor"])
                row = out["cases"].setdefault(f"{c['who']}/{c['status']}", {})
                for name, sql in sqls.items():
                    row[f"{tag}: {name}"] = ms(sql)

        try:
            run("now")
            t = time.perf_counter()
            for ddl in CANDIDATE_INDEXES:
                cur.execute(ddl)
            cur.execute("ANALYZE ticket")
            out["build_s"] = round(time.perf_counter() - t, 1)
            run("with indexes")
        finally:
            conn.rollback()
    for label, row in out["cases"].items():
        log(
            f"  {label:16s} deep page today {row['now: today']:>8} ms, rewritten {row['now: rewritten']:>8} ms; "
            f"with the indexes: today's query {row['with indexes: today']:>7} ms, rewritten "
            f"{row['with indexes: rewritten']:>6} ms; count(*) {row['now: count']} -> {row['with indexes: count']} ms"
        )
    return out


# =========================================================================== part 2: ticket search
def search_queries(ctx: Ctx) -> list[tuple[str, str]]:
    """(kind, query) from the generated data: names, numbers, USCC, Chinese words."""
    from sqlalchemy import select

    from portal.extensions import db
    from services.models import Enterprise, Request, Ticket

    rng = random.Random(ctx.args.seed + 7)
    s = db.session
    indexed = int(ctx.summary.get("index", {}).get("indexed") or 0)
    max_id = indexed or 10**12
    ids = sorted(rng.sample(range(1, max_id + 1), 12)) if indexed else []
    rows = s.execute(
        select(Ticket.number, Request.number, Enterprise.name, Enterprise.uscc)
        .join(Request, Request.id == Ticket.request_id)
        .join(Enterprise, Enterprise.id == Request.enterprise_id)
        .where(Ticket.id.in_(ids))
    ).all()
    release_session()
    qs: list[tuple[str, str]] = []
    for tnum, rnum, ename, uscc in rows[:12]:
        qs.append(("ticket number", tnum))
    for tnum, rnum, ename, uscc in rows[:4]:
        qs.append(("request number", rnum))
        qs.append(("number prefix", rnum[:12]))
    for tnum, rnum, ename, uscc in rows[:8]:
        qs.append(("enterprise name", ename))
    for tnum, rnum, ename, uscc in rows[:4]:
        qs.append(("uscc", uscc))
        qs.append(("uscc fragment", uscc[6:14]))
    for w in ("兰江", "澧阳", "鑫源", "生物科技"):
        qs.append(("name word", w))
    for w in (
        "地磅",
        "检定",
        "电子台秤",
        "菜籽油",
        "商标注册",
        "绿色食品认证",
        "计量器具",
        "检验报告",
        "高新技术企业",
        "专利",
        "营业执照",
        "质量管理体系认证",
        "加油机 检定",
        "菜籽油 检验",
        "我们厂的地磅需要年检",
    ):
        qs.append(("chinese words", w))
    return qs


def bench_search(ctx: Ctx) -> dict[str, Any]:
    from whoosh import index as windex
    from whoosh import query as wq

    from portal.extensions import search
    from search_index.tickets import INDEXNAME

    ix = search.tickets
    res: dict[str, Any] = {"index": ctx.summary.get("index"), "doc_count": ix.doc_count()}
    bureau_ids = ctx.info["bureau_ids"]
    scopes = [
        ("amr handler {amr}", {bureau_ids["amr"]}),
        (f"{ctx.args.small_bureau} handler", {bureau_ids[ctx.args.small_bureau]}),
        ("no filter (supervisor)", None),
    ]
    queries = search_queries(ctx)
    res["queries"] = queries
    # baseline: one bare Whoosh term lookup (the indexed ticket-number key) on the same index files
    from search_index.tickets import _number_key

    wix = windex.open_dir(str(ix.index_dir), indexname=INDEXNAME)
    some = _number_key(next((q for k, q in queries if k == "ticket number"), "LX0"))
    with wix.searcher() as srch:
        base = []
        for _ in range(ctx.reps * 5):
            ms, _v = _timed(lambda: srch.search(wq.Term("key", some), limit=1))
            base.append(ms)
    res["baseline_whoosh_term"] = lat(base)
    rounds = 3 if ctx.args.quick else 5
    res["scopes"] = {}
    for label, scope in scopes:
        for _k, q in queries:  # warm-up pass (searcher, jieba, caches)
            ix.search(q, bureau_ids=scope)
        times: list[float] = []
        by_kind: dict[str, list[float]] = {}
        hits: dict[str, int] = {}
        rng = random.Random(11)
        for _ in range(rounds):
            order = list(queries)
            rng.shuffle(order)
            for kind, q in order:
                ms, r = _timed(lambda: ix.search(q, bureau_ids=scope))
                times.append(ms)
                by_kind.setdefault(kind, []).append(ms)
                hits[q] = len(r)
        slow = sorted(
            ((pct(t, 50), q) for q, t in _per_query(queries, times, rounds, order_seed=11).items()), reverse=True
        )[:5]
        res["scopes"][label] = {
            "all": lat(times),
            "by_kind": {k: lat(v) for k, v in by_kind.items()},
            "hits": hits,
            "slowest": [(q, _r(ms)) for ms, q in slow],
        }
        a = res["scopes"][label]["all"]
        slowest = ", ".join(q for q, _ in res["scopes"][label]["slowest"][:3])
        log(f"  {label:26s} p50 {a['p50']:>7} ms  p95 {a['p95']:>7} ms  max {a['max']} ms  (slowest: {slowest})")
    worst_label = max(res["scopes"], key=lambda k: res["scopes"][k]["all"]["p95"] or 0)
    if (res["scopes"][worst_label]["all"]["p95"] or 0) > TARGET_MS or ctx.args.profile:
        scope = dict(scopes)[worst_label]
        slow = [q for q, _ms in res["scopes"][worst_label]["slowest"]]

        def run_slow():
            for q in slow:
                ix.search(q, bureau_ids=scope)

        prof = profile_calls(run_slow, 3)
        res["profile"] = {"scope": worst_label, "queries": slow, **prof}
        print_profile(f"search of the 5 slowest queries ({worst_label})", prof)
    return res


def _per_query(queries, times, rounds, order_seed) -> dict[str, list[float]]:
    """Re-associate the shuffled timings with their queries (same shuffles as the measuring loop)."""
    rng = random.Random(order_seed)
    out: dict[str, list[float]] = {}
    i = 0
    for _ in range(rounds):
        order = list(queries)
        rng.shuffle(order)
        for _kind, q in order:
            if i < len(times):
                out.setdefault(q, []).append(times[i])
            i += 1
    return out


# =========================================================================== part 3: the dashboard
def login_cookie(port: int, username: str, password: str) -> str:
    st, body, _ms, h = http_req(port, "GET", "/account/login")
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body
    )
    if st != 200 or not m:
        raise RuntimeError(f"login page: {st}")
    cookie = "; ".join(c.split(";", 1)[0] for c in h.get("set-cookie", "").split("\n") if c)
    from urllib.parse import urlencode

    form = urlencode({"csrf_token": m.group(1).decode(), "login": username, "password": password}).encode()
    st, body, _ms, h = http_req(
        port, "POST", "/account/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    )
    if st not in (302, 303):
        raise RuntimeError(f"login failed: {st} {body[:200]!r}")
    new = "; ".join(c.split(";", 1)[0] for c in h.get("set-cookie", "").split("\n") if c)
    return new or cookie


def bench_dashboard(ctx: Ctx) -> dict[str, Any]:
    from sqlalchemy import func, select
    from tickets_gen import BENCH_PASSWORD

    from portal.extensions import db
    from services.core.clock import local_today
    from services.models import Ticket, User
    from services.stats import reports as stats
    from services.tickets import workdays

    today = local_today()
    dfrom = today - timedelta(days=364)
    res: dict[str, Any] = {"from": dfrom.isoformat(), "to": today.isoformat()}
    reps = 2 if ctx.args.quick else 3
    uname = ctx.info["staff"]["supervisor"]

    def session_user():
        s = db.session
        return s, s.scalar(select(User).where(User.username == uname))

    # baseline: one COUNT(*) of the year's tickets (the smallest query every figure needs)
    flt = stats.parse_filter(db.session, dfrom, today)
    base = []
    for _ in range(reps + 1):
        ms, n = _timed(
            lambda: db.session.scalar(
                select(func.count(Ticket.id)).where(Ticket.created_at >= flt.start, Ticket.created_at < flt.end)
            )
        )
        base.append(ms)
    release_session()
    res["tickets_in_range"] = n
    res["baseline_count_ms"] = lat(base[1:])
    funcs: list[tuple[str, Callable[[], Any]]] = []

    def f_report():
        s, u = session_user()
        return stats.dashboard_report(s, u, dfrom.isoformat(), today.isoformat(), "")

    funcs.append(("dashboard_report (whole page's figures)", f_report))
    if hasattr(stats, "_grouped"):
        funcs.append(
            (
                "_grouped by bureau",
                lambda: stats._grouped(db.session, flt, "bureau", today, workdays.Calendar.from_session(db.session)),
            )
        )
        funcs.append(
            (
                "_grouped by service",
                lambda: stats._grouped(db.session, flt, "service", today, workdays.Calendar.from_session(db.session)),
            )
        )
    if hasattr(stats, "overdue_list"):
        funcs.append(("overdue_list", lambda: stats.overdue_list(db.session, flt, today=today)))
    if hasattr(stats, "public_performance"):
        funcs.append((f"public_performance({today.year})", lambda: stats.public_performance(db.session, today.year)))
    res["functions"] = {}
    for label, fn in funcs:
        times = []
        t_fn = time.monotonic()
        for _ in range(reps):
            try:
                ms, _v = _timed(fn)
            finally:
                release_session()
            times.append(ms)
            if time.monotonic() - t_fn > 60:  # bounded: slow figures are measured fewer times
                break
        res["functions"][label] = lat(times)
        f_ = res["functions"][label]
        log(f"  {label:42s} p50 {f_['p50']:>9,.1f} ms  max {f_['max']:>9,.1f} ms")
    # the page through Flask's test client (no HTTP, no gunicorn): figures + rendering
    uid = session_user()[1].id
    release_session()
    client = ctx.app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(uid)
        sess["_fresh"] = True
    path = f"/dashboard?from={dfrom.isoformat()}&to={today.isoformat()}"
    tc = []
    t_fn = time.monotonic()
    for _ in range(reps):
        ms, resp = _timed(lambda: client.get(path))
        tc.append(ms)
        if time.monotonic() - t_fn > 60:
            break
    res["test_client"] = {**lat(tc), "status": resp.status_code}
    log(
        f"  GET /dashboard via the Flask test client       p50 {res['test_client']['p50']:>9,.1f} ms  "
        f"(status {resp.status_code})"
    )
    prof = profile_calls(f_report, 1, budget_s=60)
    release_session()
    res["profile"] = prof
    print_profile("dashboard_report", prof)
    # over HTTP: a logged-in supervisor
    cookie = login_cookie(ctx.portal.port, uname, BENCH_PASSWORD)
    times, statuses, body = [], [], b""
    t_fn = time.monotonic()
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        try:
            st, body, ms, _h = http_req(ctx.portal.port, "GET", path, headers={"Cookie": cookie}, timeout=300)
        except OSError as exc:  # e.g. gunicorn's worker timeout killed the worker mid-request
            st, ms = f"{type(exc).__name__}", (time.perf_counter() - t0) * 1000
        times.append(ms)
        statuses.append(st)
        if time.monotonic() - t_fn > 90:
            break
    res["http"] = {
        **lat(times[1:] or times),
        "first_ms": _r(times[0]),
        "statuses": statuses,
        "kb": round(len(body) / 1024, 1),
    }
    bare = [http_req(ctx.bare.port, "GET", "/ping")[2] for _ in range(10)]
    res["baseline_http_bare"] = lat(bare)
    log(
        f"  GET /dashboard (one year)                  p50 {res['http']['p50']:>9,.1f} ms  statuses {statuses}; "
        f"COUNT(*) baseline {res['baseline_count_ms']['p50']} ms, bare HTTP {res['baseline_http_bare']['p50']} ms"
    )
    return res


# =========================================================================== part 4: concurrent submissions
def submission_payloads(ctx: Ctx, run_id: str) -> list[dict]:
    from sqlalchemy import select
    from tickets_gen import attributes_for, describe, load_catalog

    from portal.extensions import db
    from services.models import Enterprise, User

    with db.engine.connect() as conn:
        cat = load_catalog(conn.connection.dbapi_connection)
    services = [s for s in cat["services"] if s["online"]]
    rng = random.Random(ctx.args.seed + 99)
    s = db.session
    town = dict(
        s.execute(
            select(User.username, Enterprise.township)
            .join(Enterprise, Enterprise.id == User.enterprise_id)
            .where(User.username.in_([u for u, _t in ctx.submitters]))
        ).all()
    )
    release_session()
    out = []
    for i, (uname, token) in enumerate(ctx.submitters):
        k = rng.choices((1, 2, 3), (75, 18, 7))[0]
        chosen = rng.sample(services, k)
        body = {
            "services": [c["code"] for c in chosen],
            "attributes": {
                c["code"]: attributes_for(c, rng, town.get(uname, "澧阳街道"), date.today(), 0.3) for c in chosen
            },
            "description": describe(chosen[0], rng),
            "idempotency_key": f"bench-{run_id}-{i:04d}",
        }
        out.append({"user": uname, "token": token, "body": body})
    return out


def _post_all(port: int, jobs: list[dict], path: str, timeout: float) -> list[dict]:
    """All jobs at once (one thread each, released together); a job with `again` = "retry" sends its
    body a second time after the first answer, "concurrent" jobs are simply listed twice."""
    barrier = threading.Barrier(len(jobs) + 1)
    results: list[dict] = [None] * len(jobs)  # type: ignore[list-item]

    def send(i: int, job: dict) -> None:
        data = json.dumps(job["body"], ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {job['token']}"}
        answers = []
        try:
            barrier.wait(60)
        except threading.BrokenBarrierError:
            pass
        for _attempt in range(2 if job.get("again") == "retry" else 1):
            t0 = time.time()
            try:
                st, body, ms, _h = http_req(port, "POST", path, data, headers, timeout=timeout)
                try:
                    js = json.loads(body)
                except ValueError:
                    js = {}
                answers.append(
                    {
                        "status": st,
                        "ms": ms,
                        "end": t0 + ms / 1000,
                        "number": js.get("number"),
                        "tickets": [t.get("number") for t in js.get("tickets", [])],
                        "error": js.get("error", {}).get("code") if st >= 400 else None,
                    }
                )
            except OSError as exc:
                answers.append(
                    {
                        "status": 0,
                        "ms": (time.time() - t0) * 1000,
                        "end": time.time(),
                        "number": None,
                        "tickets": [],
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
        results[i] = {"key": job["body"].get("idempotency_key"), "user": job.get("user"), "answers": answers}

    threads = [threading.Thread(target=send, args=(i, j), daemon=True) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    t_start = time.time()
    try:
        barrier.wait(60)
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(timeout + 30)
    for r in results:
        if r is not None:
            r["t_start"] = t_start
    return [r for r in results if r is not None]


def bench_submit(ctx: Ctx) -> dict[str, Any]:
    from sqlalchemy import func, select

    from portal.extensions import db, search
    from services.models import Request, SearchOutbox, Ticket

    a = ctx.args
    run_id = f"{int(time.time())}{os.getpid() % 1000:03d}"
    payloads = submission_payloads(ctx, run_id)
    warm, payloads = payloads[:1], payloads[1 : a.submitters + 1]
    res: dict[str, Any] = {"submitters": len(payloads)}
    # warm-up: a few submissions by one extra enterprise (each worker's first request, the indexer's jieba)
    wjob = warm[0]
    for k in range(8):
        body = dict(wjob["body"], idempotency_key=f"bench-{run_id}-warm-{k}")
        http_req(
            ctx.portal.port,
            "POST",
            "/api/v1/requests",
            json.dumps(body, ensure_ascii=False).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {wjob['token']}"},
        )
    time.sleep(2.5)
    # one submitter alone: the service time without queueing (10 sequential POSTs)
    seq = []
    for k in range(10):
        body = dict(wjob["body"], idempotency_key=f"bench-{run_id}-seq-{k}")
        st, _b, ms, _h = http_req(
            ctx.portal.port,
            "POST",
            "/api/v1/requests",
            json.dumps(body, ensure_ascii=False).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {wjob['token']}"},
        )
        seq.append(ms)
    res["sequential_one_client"] = lat(seq)
    res["indexer_alive_before"] = ctx.indexer.poll() is None
    # duplicates: some submitters send the same key twice (half as a retry, half at the same moment)
    rng = random.Random(a.seed + 5)
    n_dup = max(2, int(len(payloads) * a.dup_share))
    dup_idx = rng.sample(range(len(payloads)), n_dup)
    jobs = []
    for i, p in enumerate(payloads):
        job = dict(p)
        if i in dup_idx[: n_dup // 2]:
            job["again"] = "retry"
        jobs.append(job)
    for i in dup_idx[n_dup // 2 :]:
        jobs.append(dict(payloads[i], again="concurrent"))
    res["requests_sent"] = len(jobs) + n_dup // 2
    res["duplicate_keys"] = {"retry": n_dup // 2, "concurrent": n_dup - n_dup // 2}
    # the bare baseline: the same number of concurrent POSTs to the bare app
    bare = _post_all(ctx.bare.port, [{"body": j["body"], "token": "x", "user": j["user"]} for j in jobs], "/echo", 120)
    bare_ms = [a_["ms"] for r in bare for a_ in r["answers"]]
    res["baseline_bare"] = {
        **lat(bare_ms),
        "wall_s": _r(max(a_["end"] for r in bare for a_ in r["answers"]) - bare[0]["t_start"]),
        "errors": sum(1 for r in bare for a_ in r["answers"] if a_["status"] != 201),
    }
    cpu = CpuMeter()
    out = _post_all(ctx.portal.port, jobs, "/api/v1/requests", 180)
    res["cpu"] = cpu.stop()
    answers = [a_ for r in out for a_ in r["answers"]]
    t_start = out[0]["t_start"]
    t_last = max(a_["end"] for a_ in answers)
    res["wall_s"] = _r(t_last - t_start)
    res["latency"] = lat([a_["ms"] for a_ in answers])
    res["status_counts"] = {}
    for a_ in answers:
        res["status_counts"][str(a_["status"])] = res["status_counts"].get(str(a_["status"]), 0) + 1
    res["server_errors"] = sum(1 for a_ in answers if a_["status"] >= 500 or a_["status"] == 0)
    res["client_errors"] = {}
    for a_ in answers:
        if 400 <= a_["status"] < 500:
            res["client_errors"][a_["error"] or str(a_["status"])] = (
                res["client_errors"].get(a_["error"] or str(a_["status"]), 0) + 1
            )
    # verification in the database: every key exactly once
    keys = [p["body"]["idempotency_key"] for p in payloads]
    s = db.session
    rows = dict(
        s.execute(
            select(Request.idempotency_key, func.count())
            .where(Request.idempotency_key.in_(keys))
            .group_by(Request.idempotency_key)
        ).all()
    )
    numbers_db = dict(
        s.execute(select(Request.idempotency_key, Request.number).where(Request.idempotency_key.in_(keys))).all()
    )
    tickets_db = [
        n
        for (n,) in s.execute(
            select(Ticket.number)
            .join(Request, Request.id == Ticket.request_id)
            .where(Request.idempotency_key.in_(keys))
        )
    ]
    outbox = (
        s.scalar(
            select(func.count(SearchOutbox.id)).where(SearchOutbox.kind == "ticket", SearchOutbox.key.in_(tickets_db))
        )
        or 0
    )
    release_session()
    res["stored_once"] = sum(1 for k in keys if rows.get(k) == 1)
    res["lost"] = sum(1 for k in keys if rows.get(k, 0) == 0)
    res["duplicated_rows"] = sum(rows.get(k, 0) - 1 for k in keys if rows.get(k, 0) > 1)
    # answers of the same key must name the same request
    mismatched = 0
    by_key: dict[str, set] = {}
    for r in out:
        for a_ in r["answers"]:
            if a_["number"]:
                by_key.setdefault(r["key"], set()).add(a_["number"])
    for k, nums in by_key.items():
        if len(nums) > 1 or (numbers_db.get(k) and numbers_db[k] not in nums):
            mismatched += 1
    res["answers_naming_another_request"] = mismatched
    res["second_answers"] = {}
    for r in out:
        if len(r["answers"]) > 1:
            st = str(r["answers"][1]["status"])
            res["second_answers"][st] = res["second_answers"].get(st, 0) + 1
    res["tickets_created"] = len(tickets_db)
    res["outbox_rows_for_them"] = outbox
    # the index catches up: poll TicketIndex.search for every new ticket number
    pending = set(tickets_db)
    seen_at: dict[str, float] = {}
    deadline = time.time() + a.catch_up_wait
    polls = 0
    while pending and time.time() < deadline:
        polls += 1
        for num in list(pending):
            if num in search.tickets.search(num, bureau_ids=None, limit=3):
                seen_at[num] = time.time()
                pending.discard(num)
        if pending:
            time.sleep(0.1)
    res["index_polls"] = polls
    res["not_searchable"] = len(pending)
    lags = [seen_at[n] - t_last for n in seen_at]
    res["catch_up_s"] = _r(max(lags), 2) if lags and not pending else None
    res["catch_up_p50_s"] = _r(pct(lags, 50), 2) if lags else None
    res["indexer_log_tail"] = _tail(ctx.tmp / "indexer.log", 12)
    res["indexer_alive_after"] = ctx.indexer.poll() is None
    res["indexer_exit_code"] = ctx.indexer.poll()
    if not res["indexer_alive_after"]:
        log(f"  THE INDEXER EXITED (code {res['indexer_exit_code']}); last lines of its log:")
        for line in res["indexer_log_tail"][-4:]:
            log("    " + line)
    # where a submission's time goes: the Flask test client, cProfile over 5 submissions
    client = ctx.app.test_client()
    k_ = [0]

    def one_submission():
        k_[0] += 1
        body = dict(wjob["body"], idempotency_key=f"bench-{run_id}-prof-{k_[0]}")
        r = client.post("/api/v1/requests", json=body, headers={"Authorization": f"Bearer {wjob['token']}"})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"test-client submission: {r.status_code} {r.get_data(as_text=True)[:200]}")

    tc = []
    for _ in range(5):
        ms, _v = _timed(one_submission)
        tc.append(ms)
    res["test_client_one"] = lat(tc)
    sqls = _capture_sql(db.engine, one_submission)
    res["statements_per_submission"] = len(sqls)
    res["sql_ms_per_submission"] = _r(sum(x[2] for x in sqls if isinstance(x[2], float) and x[2] < 1e6))
    prof = profile_calls(one_submission, 5)
    res["profile"] = prof
    log(
        f"  one submission alone: HTTP p50 {res['sequential_one_client']['p50']} ms, Flask test client p50 "
        f"{res['test_client_one']['p50']} ms, {len(sqls)} SQL statements taking {res['sql_ms_per_submission']} ms"
    )
    print_profile("one submission (test client)", prof)
    log(
        f"  {len(answers)} answers in {res['wall_s']} s (bare app: {res['baseline_bare']['wall_s']} s); latency p50 "
        f"{res['latency']['p50']} ms p95 {res['latency']['p95']} ms; statuses {res['status_counts']}"
    )
    log(
        f"  stored once {res['stored_once']}/{len(keys)}, lost {res['lost']}, duplicated {res['duplicated_rows']}, "
        f"5xx {res['server_errors']}; {res['tickets_created']} tickets, all searchable after "
        f"{res['catch_up_s']} s (not searchable: {res['not_searchable']})"
    )
    return res


def _tail(path: Path, n: int) -> list[str]:
    try:
        return path.read_text("utf-8", "replace").splitlines()[-n:]
    except OSError:
        return []


# =========================================================================== report
def _scanned(s: dict[str, Any]) -> int:
    """Rows a (parallel) sequential scan read: kept + filtered out, times its loops (workers)."""
    return ((s.get("rows") or 0) + (s.get("removed_by_filter") or 0)) * (s.get("loops") or 1)


def report(results: dict[str, Any]) -> str:
    n = results.get("tickets")
    lines = [f"\n=== Tickets benchmark: {fmt(n)} tickets, {results.get('mode')} — {results.get('started')} ==="]
    g = results.get("generation") or {}
    if g:
        ix = g.get("index") or {}
        lines.append(
            f"data: {fmt(g.get('rows'))} rows by COPY in {fmt(g.get('copy_s'))} s = {fmt(g.get('rows_per_s'))} rows/s; "
            f"database {fmt(g.get('db_mb'))} MB; ticket index {fmt(ix.get('indexed'))} of "
            f"{fmt(ix.get('total_tickets'))} docs in {fmt(ix.get('seconds'))} s ({fmt(ix.get('docs_per_s'))} docs/s)"
        )
        if ix.get("extrapolated_full"):
            e = ix["extrapolated_full"]
            lines.append(
                f"      full index extrapolated from the first 50,000: ~{e['total_s'] / 60:,.0f} min "
                f"(database/ORM {e['doc_loading_s'] / 60:,.0f} + index {e['index_s'] / 60:,.0f} min)"
            )
        if ix.get("seconds"):
            lines.append(
                f"      index build split: database/ORM {fmt(ix.get('doc_loading_s'))} s, index "
                f"{fmt(ix.get('index_s'))} s (of which {fmt(ix.get('after_input_s'))} s after the last document)"
            )
    scale_ok = (n or 0) >= 1_000_000
    rows = []
    q = results.get("queue") or {}
    if q:
        lines.append(
            f"\n1. Staff queue (page of {PAGE}; ms; baseline SELECT 1 p50 {q['baseline_select1']['p50']} / p95 "
            f"{q['baseline_select1']['p95']}, bare HTTP GET p50 {q['baseline_http_bare']['p50']} / p95 "
            f"{q['baseline_http_bare']['p95']})"
        )
        for c in q["cases"]:
            for which in ("first", "deep"):
                ip = c.get(f"{which}_inproc")
                hp = c.get(f"{which}_http")
                if not ip:
                    continue
                worst = max(ip["p95"] or 0, (hp or {}).get("p95") or 0)
                page_no = 1 if which == "first" else c["deep_page_no"]
                rows.append(
                    [
                        f"{c['who']} ({c['user']})",
                        c["status"],
                        fmt(c["total"]),
                        str(page_no),
                        ip["p50"],
                        ip["p95"],
                        (hp or {}).get("p50"),
                        (hp or {}).get("p95"),
                        (hp or {}).get("errors"),
                        verdict(worst <= TARGET_MS) + ("" if scale_ok else " (small N)"),
                    ]
                )
        lines.append(
            table(
                [
                    "user",
                    "status",
                    "tickets",
                    "page",
                    "in-proc p50",
                    "p95",
                    "HTTP p50",
                    "p95",
                    "err",
                    f"target p95≤{TARGET_MS:.0f}",
                ],
                rows,
            )
        )
        lines.append("   deep-page SQL (EXPLAIN ANALYZE):")
        for label, plans in q.get("plans", {}).items():
            p, c = plans.get("page", {}), plans.get("count", {})
            seqs = (
                ", ".join(
                    f"{s['relation']}(read {fmt(_scanned(s))} rows, kept {fmt((s['rows'] or 0) * (s['loops'] or 1))})"
                    for s in p.get("seq_scans", [])
                )
                or "none"
            )
            sorts = ", ".join(f"{s['method']} {fmt(s['rows'])} rows" for s in p.get("sorts", [])) or "none"
            lines.append(
                f"   {label:16s} page {p.get('execution_ms')} ms (indexes {', '.join(p.get('indexes', [])) or '—'};"
                f" seq scans {seqs}; sorts {sorts}); count(*) {c.get('execution_ms')} ms "
                f"(seq scans {', '.join(s['relation'] or '?' for s in c.get('seq_scans', [])) or 'none'})"
            )
    w = results.get("what_if_indexes") or {}
    if w.get("cases"):
        lines.append(
            "   what-if (rolled back): deep page SQL ms — today's query / rewritten, without → with the candidate "
            "indexes; count(*)"
        )
        for label, row in w["cases"].items():
            lines.append(
                f"   {label:16s} {row['now: today']} / {row['now: rewritten']} → {row['with indexes: today']} / "
                f"{row['with indexes: rewritten']}; count {row['now: count']} → {row['with indexes: count']}"
            )
    s = results.get("search") or {}
    if s:
        b = s["baseline_whoosh_term"]
        lines.append(
            f"\n2. Ticket search (TicketIndex.search, {fmt(s.get('doc_count'))} docs in the index; baseline bare "
            f"Whoosh term lookup p50 {b['p50']} / p95 {b['p95']} ms)"
        )
        rows = []
        for label, v in s["scopes"].items():
            rows.append(
                [
                    label,
                    v["all"]["n"],
                    v["all"]["p50"],
                    v["all"]["p95"],
                    v["all"]["max"],
                    ", ".join(f"{q_}" for q_, _ms in v["slowest"][:3]),
                    verdict((v["all"]["p95"] or 0) <= TARGET_MS)
                    + ("" if scale_ok and not (s.get("index") or {}).get("partial") else " (partial/small)"),
                ]
            )
        lines.append(
            table(
                ["bureau filter", "n", "p50 ms", "p95 ms", "max ms", "slowest queries", f"target p95≤{TARGET_MS:.0f}"],
                rows,
            )
        )
        kinds = {}
        for label, v in s["scopes"].items():
            for k, l_ in v["by_kind"].items():
                kinds.setdefault(k, []).append(f"{l_['p95']}")
        lines.append(
            "   p95 by kind ("
            + " / ".join(s["scopes"])
            + "): "
            + "; ".join(f"{k} {'/'.join(v)}" for k, v in kinds.items())
        )
    d = results.get("dashboard") or {}
    if d:
        lines.append(
            f"\n3. Dashboard, one year ({d['from']} – {d['to']}, {fmt(d.get('tickets_in_range'))} tickets; baseline "
            f"COUNT(*) of the year {d['baseline_count_ms']['p50']} ms, bare HTTP {d['baseline_http_bare']['p50']} ms)"
        )
        rows = [[k, v["p50"], v["max"]] for k, v in d["functions"].items()]
        if d.get("test_client"):
            rows.append(
                [
                    "GET /dashboard via Flask test client (figures + render)",
                    d["test_client"]["p50"],
                    d["test_client"]["max"],
                ]
            )
        rows.append(
            [f"GET /dashboard (HTTP, supervisor; statuses {d['http']['statuses']})", d["http"]["p50"], d["http"]["max"]]
        )
        lines.append(table(["what", "p50 ms", "max ms"], rows))
    u = results.get("submit") or {}
    if u:
        ok_store = u["lost"] == 0 and u["duplicated_rows"] == 0 and u["answers_naming_another_request"] == 0
        lines.append(
            f"\n4. {u['submitters']} concurrent submitters ({u['requests_sent']} POSTs incl. "
            f"{sum(u['duplicate_keys'].values())} repeated keys) — bare app: {u['baseline_bare']['wall_s']} s wall, "
            f"p95 {u['baseline_bare']['p95']} ms"
        )
        rows = [
            [
                "wall time / latency p50 / p95",
                f"{u['wall_s']} s / {u['latency']['p50']} ms / {u['latency']['p95']} ms",
                "",
            ],
            [
                "one client alone, sequential (HTTP / test client)",
                f"{(u.get('sequential_one_client') or {}).get('p50')} ms / "
                f"{(u.get('test_client_one') or {}).get('p50')} ms "
                f"({u.get('statements_per_submission')} SQL statements, {u.get('sql_ms_per_submission')} ms)",
                "",
            ],
            ["statuses", json.dumps(u["status_counts"]), ""],
            ["indexer running before / after", f"{u.get('indexer_alive_before')} / {u.get('indexer_alive_after')}", ""],
            [
                "stored exactly once",
                f"{u['stored_once']}/{u['submitters']}",
                verdict(u["stored_once"] == u["submitters"]),
            ],
            [
                "lost / duplicated / wrong answer",
                f"{u['lost']} / {u['duplicated_rows']} / {u['answers_naming_another_request']}",
                verdict(ok_store),
            ],
            ["server errors (5xx, resets)", str(u["server_errors"]), verdict(u["server_errors"] == 0)],
            [
                f"index catch-up after last answer ({u['tickets_created']} tickets)",
                f"{u['catch_up_s']} s (p50 {u['catch_up_p50_s']} s; not found {u['not_searchable']})",
                verdict(u["catch_up_s"] is not None and u["catch_up_s"] <= CATCH_UP_S),
            ],
        ]
        lines.append(table(["check", "value", "target"], rows))
    if results.get("code_changed_during_run"):
        lines.append(
            "\nNOTE: these files changed while the benchmark ran (figures may mix versions): "
            + ", ".join(results["code_changed_during_run"])
        )
    if (results.get("index_preflight") or {}).get("ok") is False:
        lines.append(
            "NOTE: the ticket index was unreadable by the current code and was rebuilt first: "
            + str(results["index_preflight"].get("reason"))
        )
    if results.get("errors"):
        lines.append(
            "\nERRORS: " + "; ".join(f"{k}: {v.splitlines()[-1] if v else v}" for k, v in results["errors"].items())
        )
    if results.get("cpu"):
        lines.append(
            "\nmachine load per part (busy cores of 2 / loadavg): "
            + ", ".join(f"{k} {v['busy_cores']}/{v['loadavg_1m']}" for k, v in results["cpu"].items())
        )
    return "\n".join(lines)


# =========================================================================== main
def code_versions() -> dict[str, str]:
    """sha256 and mtime of the files measured (they change while people work on them)."""
    import hashlib

    out = {}
    for rel in (
        "services/policy.py",
        "services/tickets/queue.py",
        "services/tickets/actions.py",
        "services/stats/reports.py",
        "services/stats/metrics.py",
        "services/outbox.py",
        "services/requests/submission.py",
        "search_index/tickets.py",
        "search_index/ticket_query.py",
        "portal/dashboard/views.py",
        "portal/api/requests.py",
        "portal/api/tickets.py",
    ):
        p = REPO / rel
        try:
            out[rel] = (
                hashlib.sha256(p.read_bytes()).hexdigest()[:12]
                + " "
                + time.strftime("%H:%M:%S", time.localtime(p.stat().st_mtime))
            )
        except OSError:
            out[rel] = "missing"
    return out


def run_gen(args: argparse.Namespace, n: int) -> None:
    cmd = [
        str(VENV_BIN / "python"),
        str(BENCH / "tickets_gen.py"),
        "--n",
        str(n),
        "--db",
        args.db,
        "--instance",
        str(args.instance),
        "--server",
        args.server,
        "--seed",
        str(args.seed),
        "--index-budget",
        str(args.index_budget),
    ]
    if args.enterprises:
        cmd += ["--enterprises", str(args.enterprises)]
    if args.index_limit:
        cmd += ["--index-limit", str(args.index_limit)]
    proc = PROCS.spawn(cmd, name="tickets_gen", cwd=REPO)
    rc = proc.wait()
    if rc != 0:
        raise RuntimeError(f"tickets_gen.py failed ({rc})")


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(BENCH))
    sys.path.insert(0, str(REPO))
    from tickets_gen import DEFAULT_DB, DEFAULT_INSTANCE, PG_SERVER, SUMMARY_FILE, drop_database

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="50,000 tickets, fewer repetitions")
    p.add_argument("--n", type=int, help="tickets to generate (default 1,000,000; --quick 50,000)")
    p.add_argument("--enterprises", type=int, help="enterprises (default 20,000)")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--server", default=PG_SERVER)
    p.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    p.add_argument("--seed", type=int, default=20261129)
    p.add_argument("--reuse", action="store_true", help="use the database and index of an earlier run as they are")
    p.add_argument("--keep", action="store_true", help="keep the database and the instance folder")
    p.add_argument("--index-limit", type=int, help="index only the first K tickets (passed to tickets_gen.py)")
    p.add_argument("--index-budget", type=float, default=40.0, help="minutes (passed to tickets_gen.py)")
    p.add_argument("--parts", default="queue,search,dashboard,submit")
    p.add_argument("--reps", type=int, help="repetitions per measured call (default 30; --quick 12)")
    p.add_argument("--walk-seconds", type=float, help="time budget for following the cursor towards page 200")
    p.add_argument("--small-bureau", default=SMALL_BUREAU)
    p.add_argument(
        "--what-if-indexes",
        action="store_true",
        help="after part 1: EXPLAIN the deep pages with candidate indexes built in a rolled-back transaction",
    )
    p.add_argument("--profile", action="store_true", help="profile queue and search even when they meet the target")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--submitters", type=int, default=200)
    p.add_argument("--dup-share", type=float, default=0.1, help="share of submitters sending their key twice")
    p.add_argument("--catch-up-wait", type=float, default=60.0, help="seconds to wait for the index")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = p.parse_args(argv)
    n = args.n or (50_000 if args.quick else 1_000_000)
    signal.signal(signal.SIGTERM, _on_signal)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tmp = Path(f"/tmp/portal-bench-tickets-run-{stamp}-{os.getpid()}")
    tmp.mkdir(parents=True)
    results: dict[str, Any] = {
        "started": stamp,
        "mode": "quick" if args.quick else "full",
        "args": vars(args) | {"instance": str(args.instance)},
        "errors": {},
        "cpu": {},
    }
    out_path = RESULTS / f"tickets-{stamp}.json"
    results["code"] = code_versions()
    rc = 0
    ctx = None
    try:
        summary_path = args.instance / SUMMARY_FILE
        if args.reuse and summary_path.exists():
            log(f"reusing {args.db} and {args.instance}")
        else:
            log(f"generating {n:,} tickets (bench/tickets_gen.py) …")
            cpu = CpuMeter()
            run_gen(args, n)
            results["cpu"]["generation"] = cpu.stop()
        summary = json.loads(summary_path.read_text("utf-8"))
        results["generation"] = {
            k: summary.get(k)
            for k in (
                "n",
                "rows",
                "copy_s",
                "rows_per_s",
                "tickets_per_s",
                "db_mb",
                "counts",
                "status",
                "bureaus",
                "index",
                "init_s",
                "vacuum_analyze_s",
                "now",
            )
        }
        results["tickets"] = summary["n"]
        ctx = Ctx(args, summary, tmp)
        ctx.app = make_app(ctx)
        with ctx.app.app_context():
            results["index_preflight"] = preflight_index(ctx)
            results["generation"]["index"] = ctx.summary.get("index")
            ctx.info = prepare_accounts(ctx)
            results["accounts"] = ctx.info
            results["servers"] = start_servers(ctx)
            parts = [p_.strip() for p_ in args.parts.split(",") if p_.strip()]
            for name, fn, title in (
                ("queue", bench_queue, "1. staff queue"),
                ("search", bench_search, "2. ticket search"),
                ("dashboard", bench_dashboard, "3. dashboard"),
                ("submit", bench_submit, "4. concurrent submissions"),
            ):
                if name not in parts:
                    continue
                log(f"\n{title} …")
                cpu = CpuMeter()
                try:
                    results[name] = fn(ctx)
                except Exception:  # noqa: BLE001 - the other parts still run
                    results["errors"][name] = traceback.format_exc()
                    log(results["errors"][name])
                results["cpu"][name] = cpu.stop()
                if name == "queue" and args.what_if_indexes and results.get("queue"):
                    log("\nwhat-if: candidate indexes, created in a transaction that is rolled back …")
                    try:
                        results["what_if_indexes"] = what_if_indexes(ctx, results["queue"])
                    except Exception:  # noqa: BLE001
                        results["errors"]["what_if_indexes"] = traceback.format_exc()
                        log(results["errors"]["what_if_indexes"])
                out_path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), "utf-8")
    except KeyboardInterrupt:
        log("interrupted")
        rc = 130
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001
        results["errors"]["run"] = traceback.format_exc()
        log(results["errors"]["run"])
        rc = 1
    finally:
        PROCS.stop_all()
        if ctx is not None:
            with_suppress(lambda: ctx.indexer_log.close())
        results["finished"] = time.strftime("%Y%m%d-%H%M%S")
        changed = [k for k, v in code_versions().items() if results.get("code", {}).get(k) != v]
        if changed:
            results["code_changed_during_run"] = changed
        out_path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), "utf-8")
        try:
            log(report(results))
        except Exception:  # noqa: BLE001
            log(traceback.format_exc())
        log(f"\nresults: {out_path}  (server logs: {tmp})")
        if not args.keep:
            with_suppress(lambda: _dispose_app(ctx))
            with_suppress(lambda: drop_database(args.db, args.server))
            import shutil

            shutil.rmtree(args.instance, ignore_errors=True)
            with_suppress(lambda: args.instance.parent.rmdir())  # the parent too, when it is empty
            log(f"dropped {args.db} and removed {args.instance} (use --keep to keep them)")
    return rc


def _dispose_app(ctx: Ctx | None) -> None:
    if ctx is not None and ctx.app is not None:
        with ctx.app.app_context():
            from portal.extensions import db, search

            with_suppress(lambda: search.tickets.close())
            db.engine.dispose()


def with_suppress(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


if __name__ == "__main__":
    sys.exit(main())
