#!/usr/bin/env python
"""Generate a production-sized ticket history into a PostgreSQL database with the portal schema.

    .venv/bin/python bench/tickets_gen.py                  # 1,000,000 tickets into portal_bench
    .venv/bin/python bench/tickets_gen.py --n 50000        # smaller
    .venv/bin/python bench/tickets_gen.py --n 1000000 --index-limit 200000

Steps (each timed, summary printed and written to <instance>/bench-tickets.json):

1. (Re)create the database (only names starting with ``portal_bench`` unless --force) and run
   ``flask --app portal init`` with PORTAL_INSTANCE_PATH / PORTAL_SQLALCHEMY_DATABASE_URI pointing at
   it: Alembic schema, bundled bureaus and catalog, bundles, routing rules.
2. Enterprises (~20,000, valid 统一社会信用代码: services.accounts.uscc.check_character), their accounts, bureau
   staff (handlers, leads, joint-office supervisors), then requests (1-3 services, bundles, 我有需求),
   tickets (one per responsible bureau), request items with request-field values, timelines, 好差评
   ratings and 协办 rows, streamed with PostgreSQL COPY (psycopg ``cursor.copy``) over one connection
   per table (FK triggers off for those sessions: ids are assigned here, in dependency order).
   Timelines follow the state machine and the official working-day calendar (accept_due = 2 working
   days, due_date = acceptance + promised working days + 补正 pause, closed_at ...), evaluated at
   *now*: old tickets are mostly closed, recent ones open, a few stuck ones overdue (some 督办).
3. VACUUM ANALYZE (what autovacuum would have done on a live database).
4. The ticket index from the database: services.outbox.iter_ticket_docs -> TicketIndex.rebuild
   with progress, timed (doc loading vs. Whoosh); the rate over the first 50,000 documents is
   extrapolated to the full count. --index-limit K indexes only the first K tickets (by id).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_DB = "portal_bench"
DEFAULT_INSTANCE = Path("/tmp/portal-bench-tickets/instance")
BENCH_PASSWORD = "Bench-2026-portal"  # every generated account (staff and enterprises)
SUMMARY_FILE = "bench-tickets.json"
EXTRAPOLATE_AT = 50_000
UTC = timezone.utc
BJ = 8 * 3600  # Beijing offset, seconds
DAY = 86400

# --------------------------------------------------------------------------- output


def log(msg: str = "") -> None:
    print(msg, flush=True)


class Progress:
    """A progress bar on stderr (a line every ~5 % when stderr is not a terminal)."""

    def __init__(self, total: int, label: str, unit: str = "rows") -> None:
        self.total, self.label, self.unit = max(int(total), 1), label, unit
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last_draw = 0.0
        self.last_pct = -1
        self.n = 0

    def update(self, n: int, extra: str = "") -> None:
        self.n = n
        now = time.perf_counter()
        pct = int(100 * n / self.total)
        if self.tty:
            if now - self.last_draw < 0.2 and n < self.total:
                return
        elif pct // 5 == self.last_pct // 5 and now - self.last_draw < 30 and n < self.total:
            return
        self.last_draw, self.last_pct = now, pct
        el = now - self.start
        rate = n / el if el > 0 else 0.0
        eta = (self.total - n) / rate if rate > 0 else 0.0
        width = 30
        fill = int(width * min(n, self.total) / self.total)
        line = (
            f"{self.label} [{'#' * fill}{'.' * (width - fill)}] {pct:3d}% {n:,}/{self.total:,} "
            f"{rate:,.0f} {self.unit}/s  {el:5.0f}s  ETA {eta:4.0f}s {extra}"
        )
        if self.tty:
            sys.stderr.write("\r" + line[:160].ljust(160))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> float:
        self.update(self.n if self.n else self.total)
        if self.tty:
            sys.stderr.write("\n")
        return time.perf_counter() - self.start


# --------------------------------------------------------------------------- database helpers


def conninfo(dbname: str, server: str = PG_SERVER) -> str:
    return f"{server}/{dbname}"


def sqlalchemy_url(dbname: str, server: str = PG_SERVER) -> str:
    return conninfo(dbname, server).replace("postgresql://", "postgresql+psycopg://", 1)


def recreate_database(dbname: str, server: str = PG_SERVER, force: bool = False) -> None:
    import psycopg

    if not dbname.startswith("portal_bench") and not force:
        raise SystemExit(f"refusing to drop/create {dbname!r}: bench databases start with portal_bench (or --force)")
    with psycopg.connect(conninfo("postgres", server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def drop_database(dbname: str, server: str = PG_SERVER) -> None:
    import psycopg

    if not dbname.startswith("portal_bench"):
        return
    with psycopg.connect(conninfo("postgres", server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def portal_env(instance: Path, dbname: str, server: str = PG_SERVER, **extra: str) -> dict[str, str]:
    """The environment of a portal process on the bench database (inherited PORTAL_* dropped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_INSTANCE_PATH": str(instance),
            "PORTAL_SQLALCHEMY_DATABASE_URI": sqlalchemy_url(dbname, server),
            "PORTAL_SECRET_KEY": "bench-" + "x" * 40,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def flask_init(instance: Path, dbname: str, server: str) -> float:
    instance.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    cmd = [str(REPO / ".venv" / "bin" / "flask"), "--app", "portal", "init"]
    proc = subprocess.run(
        cmd, cwd=REPO, env=portal_env(instance, dbname, server), capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise SystemExit(f"flask init failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    for line in proc.stdout.strip().splitlines():
        log("  init: " + line)
    return time.perf_counter() - t


# --------------------------------------------------------------------------- calendar


class FastCalendar:
    """services.tickets.workdays.Calendar precomputed over a range of Beijing days (offsets from `first`):
    the same answers (checked on samples), in O(1)."""

    def __init__(self, first: date, last: date) -> None:
        from services.tickets.workdays import Calendar

        self.cal = Calendar()
        self.first = first
        self.base_epoch_day = (first - date(1970, 1, 1)).days
        n = (last - first).days + 1
        self.flags = [1 if self.cal.is_workday(first + timedelta(days=i)) else 0 for i in range(n)]
        self.W: list[int] = []
        c = 0
        for f in self.flags:
            c += f
            self.W.append(c)
        self.wdays = [i for i, f in enumerate(self.flags) if f]

    def day(self, off: int) -> date:
        return self.first + timedelta(days=off)

    def off_of(self, d: date) -> int:
        return (d - self.first).days

    def add(self, off: int, n: int) -> int:
        """Offset of add_workdays(day(off), n) for n >= 0."""
        if n == 0:
            return self.wdays[self.W[off] - self.flags[off]]
        return self.wdays[self.W[off] + n - 1]

    def between(self, a: int, b: int) -> int:
        return max(0, self.W[b] - self.W[a]) if b > a else 0

    def bday(self, ts: float) -> int:
        """Beijing day offset of a UTC epoch time."""
        return int((ts + BJ) // DAY) - self.base_epoch_day

    def at(self, off: int, hour: float) -> float:
        """UTC epoch seconds of `hour` (Beijing) on day offset `off`."""
        return (self.base_epoch_day + off) * DAY - BJ + hour * 3600

    def self_check(self, rng: random.Random, samples: int = 400) -> None:
        from services.tickets import workdays

        top = len(self.flags) - 80
        for _ in range(samples):
            off = rng.randrange(0, top)
            n = rng.randrange(0, 30)
            assert self.day(self.add(off, n)) == self.cal.add_workdays(self.day(off), n), (off, n)
            b = off + rng.randrange(0, 40)
            assert self.between(off, b) == self.cal.workdays_between(self.day(off), self.day(b))
            assert self.day(self.add(off, n)) == workdays.due_date(self.cal, self.day(off), n)


# --------------------------------------------------------------------------- vocabulary
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞波斌宇浩凯亮琴燕婷雪梅"
NAME_CHARS = (
    "兰江 澧阳 澧水 城头 梦溪 彭山 金罗 湘北 洞庭 鑫源 恒丰 华润 盛达 宏图 瑞丰 天成 永兴 佳禾 绿源 "
    "惠民 新康 福源 嘉和 金桥 兴旺 楚南 九澧 道河 涔水 车溪 复兴 大堰 如东 官垸 盐井 码头 甘溪 火连 "
    "禾润 稻香 橘颂 荷香 顺安 长丰 益民 广源 聚贤 和泰 安澜 丰泽 百川 银杏 青松 众诚 汇通 德润 "
    "昌盛 锦程 春晖 美澧 澧兰 古城 星辉 新源 博雅 同心 富民 中湘 湘澧 荣华 志成 创新 宏远"
).split()
TRADES = [
    ("食品", "food"),
    ("粮油", "food"),
    ("米业", "food"),
    ("农业科技", "A"),
    ("生态农业", "A"),
    ("养殖", "A"),
    ("茶业", "A"),
    ("中药材", "herbs"),
    ("生物科技", "biomedicine"),
    ("医药", "biomedicine"),
    ("化妆品", "cosmetics"),
    ("日化", "cosmetics"),
    ("纺织", "textile"),
    ("服饰", "textile"),
    ("机械制造", "C"),
    ("电子", "C"),
    ("建材", "C"),
    ("新型建材", "C"),
    ("钢结构", "E"),
    ("建筑工程", "E"),
    ("环保科技", "green"),
    ("新能源", "green"),
    ("物流", "logistics"),
    ("电子商务", "logistics"),
    ("商贸", "F"),
    ("超市", "F"),
    ("酒店管理", "H"),
    ("餐饮", "H"),
    ("信息技术", "I"),
    ("检测技术", "M"),
    ("水务", "D"),
    ("运输", "G"),
    ("文化传媒", "R"),
    ("家政服务", "O"),
    ("包装", "C"),
    ("塑料制品", "C"),
]
SUFFIXES = ["有限公司"] * 6 + ["有限责任公司"] * 2 + ["股份有限公司", "专业合作社", "厂", "商行"]
SIZE_WEIGHTS = [("micro", 45), ("small", 30), ("medium", 10), ("large", 2), ("individual", 13)]
ROADS = ["澧阳路", "澧州路", "翊武路", "荆河路", "解放路", "古城路", "梦溪大道", "城头山大道", "澧浦路", "工业园大道"]
PRODUCTS = [
    "菜籽油",
    "大米",
    "米粉",
    "腊肉",
    "柑橘",
    "葡萄",
    "茶叶",
    "中药饮片",
    "杜仲",
    "黄精",
    "面膜",
    "洗发水",
    "护肤霜",
    "纯棉面料",
    "羽绒服",
    "预制构件",
    "钢结构件",
    "混凝土",
    "有机肥",
    "饲料",
    "鲜鱼",
    "皮蛋",
    "辣椒酱",
    "豆腐乳",
    "纸箱",
    "塑料薄膜",
    "电线电缆",
    "LED灯具",
    "农用机械",
    "水泵",
]
INSTRUMENTS = [
    "电子台秤",
    "电子汽车衡",
    "加油机",
    "血压计",
    "压力表",
    "出租车计价器",
    "燃气表",
    "电能表",
    "水表",
    "砝码",
    "玻璃液体温度计",
    "心电图机",
    "酒精检测仪",
    "噪声计",
    "天平",
]
EXTRA = [
    "产品即将上市，时间较紧，请尽快安排。",
    "相关材料已按办事指南准备齐全。",
    "联系人工作日均可接听电话。",
    "原证书即将到期，需要续期。",
    "新建生产线投产前需要完成。",
    "客户要求提供相关证明。",
    "第一次办理，流程不太熟悉，请多指导。",
    "希望能上门服务。",
    "去年办理过一次，今年继续申请。",
    "可以配合现场核查。",
]
NEEDS = [
    "我们厂的地磅需要年检，不知道应该找哪个部门办理。",
    "想给自家的大米申请绿色食品认证，需要准备哪些材料？",
    "企业准备申报高新技术企业，希望有人上门辅导一下。",
    "我们做的腊肉想注册一个商标，还想申请地理标志，怎么办？",
    "新开了一家食品小作坊，想了解需要办哪些证。",
    "产品出口需要检测报告，县里能不能做？",
    "厂里的压力表、电子秤很多，想一次性全部检定。",
    "想了解质量奖补资金怎么申请，有哪些条件。",
    "企业标准不会写，希望得到标准化方面的指导。",
    "合作社的柑橘想做品牌，希望得到政策支持。",
    "我们的化妆品想做功效检验，哪里可以检测？",
    "专利被别人侵权了，想咨询怎么维权。",
    "厂房改造想申请技术改造项目补助。",
    "想参加质量管理体系认证，需要多长时间？",
]
RESULTS = {
    "metrology": [
        "检定合格，证书已出具，请到窗口领取或选择邮寄。",
        "已完成现场检定，全部器具合格并加贴合格标志。",
        "部分器具检定不合格，已出具检定结果通知书，请维修后复检。",
    ],
    "standardization": [
        "企业标准已自我声明公开，请在企业标准信息公共服务平台查看。",
        "已完成标准化指导，意见已反馈企业。",
    ],
    "testing": [
        "已出具检验报告，结论为合格。",
        "检验完成，报告已上传，请登录查看。",
        "样品已检测完毕，报告可到窗口领取。",
    ],
    "certification": [
        "已完成认证咨询，企业已提交认证申请。",
        "许可审查通过，证书已发放。",
        "已现场辅导，整改意见已告知企业。",
    ],
    "quality": ["已完成辅导并反馈评估意见。", "项目已通过审核，列入年度计划。", "奖补资金已按程序兑付。"],
    "brand": ["品牌培育指导已完成。", "已推荐申报，等待上级评审。", "商标品牌指导站已提供服务。"],
    "ip": ["专利申请已受理，请留意后续通知。", "已完成知识产权咨询服务。", "质押登记已办结，融资对接成功。"],
    None: ["已答复企业，并转相关单位跟进。", "已联系企业说明办理渠道。"],
}
REJECT_REASONS = ["申请材料不齐全且逾期未补正", "不属于本单位职责范围", "企业不符合受理条件", "重复申请"]
INFO_ASKS = [
    "请补充营业执照副本复印件。",
    "请补充产品检验报告。",
    "请补充器具清单及出厂编号。",
    "请补充法定代表人授权书。",
    "申请表信息不完整，请补充联系人及电话。",
]
REPLIES = [
    "已安排专人对接，近期将上门服务。",
    "材料已收到，正在审核。",
    "请按约定时间携带原件到窗口核验。",
    "检定人员将于下周上门，请提前做好准备。",
]
COMMENTS_GOOD = ["办事效率高", "服务态度好", "材料要求讲得很清楚", "上门服务很方便", "一次就办好了", "", "", ""]
COMMENTS_BAD = ["等待时间有点长", "流程还需优化", "多次补材料，比较麻烦", "电话不好打通"]

# ticket statuses (services.tickets.workflow)
SUBMITTED, ACCEPTED, IN_PROGRESS, NEED_INFO = "submitted", "accepted", "in_progress", "need_info"
COMPLETED, REJECTED, RETURNED, WITHDRAWN = "completed", "rejected", "returned", "withdrawn"


def make_uscc(rng: random.Random, used: set[str], coop: bool = False) -> str:
    from services.accounts.uscc import CHARSET, check_character

    while True:
        body = ("93" if coop else "91") + "430723" + "".join(rng.choice(CHARSET) for _ in range(9))
        code = body + check_character(body)
        if code not in used:
            used.add(code)
            return code


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "137", "135", "158", "187", "199", "152")) + f"{rng.randrange(10**8):08d}"


# --------------------------------------------------------------------------- catalog from the database


def load_catalog(conn) -> dict[str, Any]:
    """Bureaus, services with their request fields, bundles and routing rules (as `init` loaded them)."""
    cur = conn.cursor()
    bureaus = {
        code: {"id": i, "code": code, "short": short, "joint": joint}
        for i, code, short, joint in cur.execute(
            "SELECT id, code, short_name, joint_office FROM bureau ORDER BY position, code"
        )
    }
    fields: dict[int, list[dict]] = {}
    for sid, code, label, datatype, required, values in cur.execute(
        'SELECT service_id, code, label, datatype, required, "values" FROM service_field ORDER BY service_id, position'
    ):
        fields.setdefault(sid, []).append(
            {"code": code, "label": label, "datatype": datatype, "required": required, "values": values or []}
        )
    services = []
    for sid, code, name, bureau_id, cat, days, online, popular in cur.execute(
        "SELECT s.id, s.code, s.name, s.bureau_id, c.code, s.time_limit_days, s.online, s.popular "
        "FROM service s JOIN category c ON c.id = s.category_id "
        "WHERE s.published AND s.removed_at IS NULL ORDER BY s.code"
    ):
        services.append(
            {
                "id": sid,
                "code": code,
                "name": name,
                "bureau_id": bureau_id,
                "category": cat,
                "days": days,
                "online": online,
                "popular": popular,
                "fields": fields.get(sid, []),
            }
        )
    bundles = []
    for bid, bcode in cur.execute("SELECT id, code FROM bundle WHERE published ORDER BY position, code").fetchall():
        sids = [
            r[0]
            for r in cur.execute("SELECT service_id FROM bundle_service WHERE bundle_id = %s ORDER BY position", (bid,))
        ]
        bundles.append({"id": bid, "code": bcode, "service_ids": sids})
    rules = [
        {"id": i, "name": n, "priority": p, "bureau_id": b, "conditions": c}
        for i, n, p, b, c in cur.execute(
            "SELECT id, name, priority, bureau_id, conditions FROM routing_rule WHERE active ORDER BY priority, id"
        )
    ]
    return {"bureaus": bureaus, "services": services, "bundles": bundles, "rules": rules}


def attributes_for(
    service: dict, rng: random.Random, township: str, created: date, optional_share: float = 0.4
) -> dict[str, Any]:
    """Valid values for a service's request fields (what the apply form would submit)."""
    out: dict[str, Any] = {}
    for f in service["fields"]:
        if not f["required"] and rng.random() > optional_share:
            continue
        dt, label, code = f["datatype"], f["label"], f["code"]
        keys = [v["key"] for v in f["values"]]
        if dt == "string":
            if "地址" in label or "address" in code:
                value = f"{township}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"
            elif "器具" in label or "instrument" in code:
                value = f"{rng.choice(INSTRUMENTS)} {rng.choice('ABCDEFGHJK')}{rng.randrange(100, 999)}型"
            elif "编号" in label or "文号" in label or code.endswith("_no"):
                value = f"{rng.choice(('澧质检', '湘', 'JC', 'BG'))}{created.year}-{rng.randrange(1, 9999):04d}"
            else:
                value = rng.choice(PRODUCTS) + rng.choice(("", "系列", "项目", "（新品）", "生产线"))
        elif dt == "text":
            value = f"{rng.choice(PRODUCTS)}相关，{rng.choice(EXTRA)}"
        elif dt == "number":
            value = rng.choice((1, 2, 3, 5, 8, 10, 12, 20, 30, 50, 60, 80, 100, 120, 200))
        elif dt == "datetime":
            value = (created + timedelta(days=rng.randrange(3, 30))).isoformat()
        elif dt == "singlevaluelist":
            value = rng.choice(keys) if keys else None
        elif dt == "multivaluelist":
            value = rng.sample(keys, min(len(keys), rng.choice((1, 1, 2)))) if keys else None
        else:
            value = None
        if value is not None:
            out[code] = value
    return out


def describe(service: dict, rng: random.Random) -> str:
    lead = rng.choice(("申请办理", "我单位申请", "现申请", "请求办理", "拟申请"))
    return f"{lead}{service['name']}。{rng.choice(PRODUCTS)}相关，{rng.choice(EXTRA)}"


# --------------------------------------------------------------------------- COPY


def esc(s: str) -> str:
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


_DAY_TEXT: dict[int, str] = {}


def ts_text(ts: float | None) -> str:
    """A UTC epoch time as COPY text ('2026-11-29 05:01:02+00'), the date part cached per day."""
    if ts is None:
        return "\\N"
    sec = int(ts)
    day, rest = divmod(sec, DAY)
    d = _DAY_TEXT.get(day)
    if d is None:
        d = _DAY_TEXT[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{d} {h:02d}:{m:02d}:{s:02d}+00"


def opt(v: Any) -> str:
    return "\\N" if v is None else str(v)


TABLES = {
    "enterprise": [
        "id",
        "uscc",
        "name",
        "contact_name",
        "mobile",
        "email",
        "township",
        "industry",
        "size",
        "created_at",
    ],
    "user": [
        "id",
        "username",
        "password_hash",
        "role",
        "display_name",
        "email",
        "enterprise_id",
        "bureau_id",
        "active",
        "failed_logins",
        "locked_until",
        "created_at",
        "last_login_at",
    ],
    "request": [
        "id",
        "number",
        "kind",
        "enterprise_id",
        "user_id",
        "bundle_id",
        "description",
        "contact_name",
        "contact_mobile",
        "contact_email",
        "status",
        "query_code",
        "idempotency_key",
        "created_at",
        "updated_at",
    ],
    "ticket": [
        "id",
        "number",
        "request_id",
        "bureau_id",
        "status",
        "routing_rule_id",
        "routing_reason",
        "assignee_id",
        "created_at",
        "accepted_at",
        "due_date",
        "closed_at",
        "accept_due",
        "paused_at",
        "paused_days",
        "supervised_at",
        "version",
    ],
    "request_item": ["id", "request_id", "service_id", "ticket_id", "attributes"],
    "ticket_event": [
        "id",
        "request_id",
        "ticket_id",
        "actor_id",
        "kind",
        "from_status",
        "to_status",
        "message",
        "public",
        "created_at",
    ],
    "rating": [
        "id",
        "ticket_id",
        "user_id",
        "round",
        "score",
        "comment",
        "created_at",
        "follow_up_due",
        "follow_up_note",
        "follow_up_at",
        "follow_up_by",
    ],
    "co_handler": ["id", "ticket_id", "bureau_id", "note", "created_at", "done_at"],
}


def check_columns(conn) -> None:
    """Fail clearly if the schema no longer has the columns this generator writes."""
    for table, cols in TABLES.items():
        have = {
            r[0]
            for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
        }
        missing = [c for c in cols if c not in have]
        if missing:
            raise SystemExit(f"schema changed: table {table} lacks {missing}")
        extra_required = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
                "AND column_default IS NULL",
                (table,),
            )
            if r[0] not in cols
        ]
        if extra_required:
            raise SystemExit(f"schema changed: table {table} has new NOT NULL columns {extra_required}")


class CopyStreams:
    """One connection per table, each inside COPY ... FROM STDIN; rows are buffered and streamed
    so that PostgreSQL ingests while Python generates. FK triggers are off for these sessions
    (session_replication_role = replica): ids are consistent by construction."""

    FLUSH = 4000

    def __init__(self, dbname: str, server: str, tables: list[str]) -> None:
        import psycopg

        self.stack = contextlib.ExitStack()
        self.conns: dict[str, Any] = {}
        self.copies: dict[str, Any] = {}
        self.buf: dict[str, list[str]] = {t: [] for t in tables}
        self.rows: dict[str, int] = {t: 0 for t in tables}
        for t in tables:
            conn = psycopg.connect(conninfo(dbname, server))
            self.conns[t] = conn
            conn.execute("SET session_replication_role = replica")
            cols = ", ".join(f'"{c}"' for c in TABLES[t])
            cur = conn.cursor()
            self.copies[t] = self.stack.enter_context(cur.copy(f'COPY "{t}" ({cols}) FROM STDIN'))

    def add(self, table: str, fields: Iterable[str]) -> None:
        b = self.buf[table]
        b.append("\t".join(fields) + "\n")
        if len(b) >= self.FLUSH:
            self.copies[table].write("".join(b))
            self.rows[table] += len(b)
            b.clear()

    def finish(self) -> None:
        for t, b in self.buf.items():
            if b:
                self.copies[t].write("".join(b))
                self.rows[t] += len(b)
                b.clear()
        self.stack.close()  # ends every COPY
        for conn in self.conns.values():
            conn.commit()
            conn.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.stack.close()
        for conn in self.conns.values():
            with contextlib.suppress(Exception):
                conn.rollback()
                conn.close()

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + sum(len(b) for b in self.buf.values())


# --------------------------------------------------------------------------- the generator


class Generator:
    def __init__(self, conn, n_tickets: int, n_enterprises: int, seed: int, now: float) -> None:
        from services.accounts import users as accounts
        from services.accounts.reference import TOWNSHIPS

        self.rng = random.Random(seed)
        self.n = n_tickets
        self.n_ent = n_enterprises
        self.now = now
        self.cat = load_catalog(conn)
        self.townships = list(TOWNSHIPS)
        self.password_hash = accounts.hash_password(BENCH_PASSWORD)
        today = datetime.fromtimestamp(now + BJ, UTC).date()
        self.today = today
        self.start_day = today - timedelta(days=730)
        self.cal = FastCalendar(self.start_day - timedelta(days=10), today + timedelta(days=500))
        self.cal.self_check(random.Random(seed + 1))
        self.today_off = self.cal.off_of(today)
        b = self.cat["bureaus"]
        self.bureau_by_id = {v["id"]: v for v in b.values()}
        self.joint = next(v for v in b.values() if v["joint"])
        self.services = [s for s in self.cat["services"] if s["online"]]
        self.svc_by_id = {s["id"]: s for s in self.cat["services"]}
        # popularity: the catalog's popular services and a skewed tail
        w = []
        for s in self.services:
            base = min(3.0, self.rng.lognormvariate(0, 0.5))
            w.append(base * (3.0 if s["popular"] else 1.0))
        self.svc_cum = list(accumulate(w))
        self.by_category: dict[str, list[dict]] = {}
        for s in self.services:
            self.by_category.setdefault(s["category"], []).append(s)
        # transfer targets: every bureau (the service-less ones included) but the joint office
        self.transfer_targets = [v for v in b.values() if not v["joint"]]
        self.counts: dict[str, int] = {}

    # -- accounts -----------------------------------------------------------
    def accounts(self, cs_ent: CopyStreams) -> None:
        rng = self.rng
        used: set[str] = set()
        names: set[str] = set()
        self.enterprises = []
        base_ts = self.cal.at(0, 0) - 400 * DAY
        for i in range(1, self.n_ent + 1):
            trade, industry = rng.choice(TRADES)
            suffix = rng.choice(SUFFIXES)
            coop = suffix == "专业合作社"
            while True:
                prefix = rng.choice(("澧县", "澧县", "湖南", "常德", "")) if not coop else "澧县"
                name = f"{prefix}{rng.choice(NAME_CHARS)}{trade}{suffix}"
                if name in names:
                    name = f"{prefix}{rng.choice(NAME_CHARS)}{rng.choice(NAME_CHARS)}{trade}{suffix}"
                if name not in names:
                    names.add(name)
                    break
            code = make_uscc(rng, used, coop)
            size = rng.choices([s for s, _ in SIZE_WEIGHTS], [w for _, w in SIZE_WEIGHTS])[0]
            township = rng.choice(self.townships)
            contact = person(rng)
            created = base_ts + rng.random() * 380 * DAY
            e = {
                "id": i,
                "uscc": code,
                "name": name,
                "contact": contact,
                "mobile": mobile(rng),
                "email": f"qy{i:05d}@example.com",
                "township": township,
                "industry": industry,
                "user_id": i,
            }
            self.enterprises.append(e)
            cs_ent.add(
                "enterprise",
                [str(i), code, name, contact, e["mobile"], e["email"], township, industry, size, ts_text(created)],
            )
            cs_ent.add(
                "user",
                [
                    str(i),
                    code,
                    self.password_hash,
                    "enterprise",
                    contact,
                    e["email"],
                    str(i),
                    "\\N",
                    "t",
                    "0",
                    "\\N",
                    ts_text(created),
                    "\\N",
                ],
            )
        # activity is skewed: a few enterprises ask for a lot
        order = list(range(self.n_ent))
        rng.shuffle(order)
        weights = [0.0] * self.n_ent
        for rank, idx in enumerate(order):
            weights[idx] = 1.0 / (rank + 20) ** 0.85
        self.ent_cum = list(accumulate(weights))
        # staff
        uid = self.n_ent
        self.handlers: dict[int, list[int]] = {}
        self.leads: dict[int, int] = {}
        self.supervisors: list[int] = []
        self.staff: list[tuple[str, str, int | None]] = []
        counts = {"amr": 12, "agri": 4, "miit": 3, "sti": 2, "commerce": 2, "joint-office": 3}
        created = ts_text(base_ts)

        def add_staff(uid: int, uname: str, role: str, display: str, bureau_id: int | None) -> None:
            self.staff.append((uname, role, bureau_id))
            email = f"{uname}@example.gov.cn"
            bureau = "\\N" if bureau_id is None else str(bureau_id)
            cs_ent.add("user", [str(uid), uname, self.password_hash, role, display, email, "\\N", bureau,
                                "t", "0", "\\N", created, "\\N"])

        for code, bureau in self.cat["bureaus"].items():
            for k in range(1, counts.get(code, 1) + 1):
                uid += 1
                self.handlers.setdefault(bureau["id"], []).append(uid)
                add_staff(uid, f"{code}-handler-{k:02d}", "handler", f"{bureau['short']}{person(rng)}", bureau["id"])
            uid += 1
            self.leads[bureau["id"]] = uid
            add_staff(uid, f"{code}-lead", "lead", f"{bureau['short']}负责人", bureau["id"])
        for k in range(1, 4):
            uid += 1
            self.supervisors.append(uid)
            add_staff(uid, f"joint-office-supervisor-{k}", "supervisor", f"联席办督查{person(rng)}", self.joint["id"])
        uid += 1
        add_staff(uid, "bench-admin", "admin", "系统管理员", None)
        self.max_user_id = uid

    # -- planning -----------------------------------------------------------
    def _pick_service(self) -> dict:
        x = self.rng.random() * self.svc_cum[-1]
        return self.services[bisect.bisect_right(self.svc_cum, x)]

    def _route(self, ent: dict, s: dict) -> tuple[int, int | None, str]:
        for rule in self.cat["rules"]:
            c = rule["conditions"]
            if "keywords" in c:  # keyword rules look at the description: not generated here
                continue
            if c.get("categories") and s["category"] not in c["categories"]:
                continue
            if c.get("industries") and ent["industry"] not in c["industries"]:
                continue
            if c.get("services") and s["code"] not in c["services"]:
                continue
            b = self.bureau_by_id[rule["bureau_id"]]
            return b["id"], rule["id"], f"按分办规则“{rule['name']}”（优先级 {rule['priority']}）转至{b['short']}"
        b = self.bureau_by_id[s["bureau_id"]]
        return b["id"], None, f"服务“{s['name']}”的责任单位为{b['short']}（默认）"

    def plan(self) -> list[tuple]:
        """(enterprise index, kind, bundle id, [(bureau id, rule id, reason, [service ids])]) per request,
        until exactly n tickets."""
        rng = self.rng
        plans: list[tuple] = []
        total = 0
        bundles = self.cat["bundles"]
        while total < self.n:
            ent_idx = bisect.bisect_right(self.ent_cum, rng.random() * self.ent_cum[-1])
            ent = self.enterprises[ent_idx]
            r = rng.random()
            bundle_id = None
            if r < 0.03:
                plans.append(
                    (ent_idx, "need", None, [(self.joint["id"], None, "未指定具体服务，由联席会议办公室统筹分办", [])])
                )
                total += 1
                continue
            if r < 0.065 and bundles:
                b = rng.choice(bundles)
                bundle_id = b["id"]
                svcs = [
                    self.svc_by_id[i] for i in b["service_ids"] if i in self.svc_by_id and self.svc_by_id[i]["online"]
                ]
            else:
                k = 1 if r < 0.78 else (2 if r < 0.94 else 3)
                svcs = [self._pick_service()]
                while len(svcs) < k:
                    s = (
                        rng.choice(self.by_category[svcs[0]["category"]])
                        if rng.random() < 0.6
                        else self._pick_service()
                    )
                    if s not in svcs:
                        svcs.append(s)
            groups: dict[int, list] = {}
            for s in svcs:
                bid, rule_id, reason = self._route(ent, s)
                g = groups.setdefault(bid, [bid, rule_id, [], []])
                g[2].append(reason)
                g[3].append(s["id"])
            kind = "bundle" if bundle_id or len(svcs) > 1 else "service"
            tickets = [(g[0], g[1], "；".join(dict.fromkeys(g[2])), g[3]) for g in groups.values()]
            if total + len(tickets) > self.n:
                tickets = tickets[: self.n - total]
            plans.append((ent_idx, kind, bundle_id, tickets))
            total += len(tickets)
        return plans

    def request_times(self, count: int) -> list[float]:
        """Sorted submission times over two years: growing volume, working days, office hours."""
        rng, cal = self.rng, self.cal
        first = cal.off_of(self.start_day)
        days = list(range(first, self.today_off + 1))
        weights = []
        for i, d in enumerate(days):
            growth = 0.7 + 0.6 * i / len(days)
            weights.append(growth * (1.0 if cal.flags[d] else 0.07))
        cum = list(accumulate(weights))
        out = []
        limit = self.now - 120
        while len(out) < count:
            d = days[bisect.bisect_right(cum, rng.random() * cum[-1])]
            h = rng.uniform(8.3, 17.8) if rng.random() < 0.88 else rng.uniform(6.5, 23.5)
            t = cal.at(d, h) + rng.random()
            if t < limit:
                out.append(t)
        out.sort()
        return out

    # -- one ticket's life --------------------------------------------------
    def staff_time(self, day: int, after: float) -> float:
        t = self.cal.at(day, self.rng.uniform(8.5, 17.5))
        if t <= after:
            t = after + self.rng.uniform(300, 5400)
        return t

    def life(
        self,
        t0: float,
        bureau_id: int,
        promised: int,
        kind_need: bool,
        ent_user: int,
        category: str | None,
        reason: str,
        rule_id: int | None,
        service_names: list[str],
    ) -> dict:
        """The ticket's timeline up to now: fields and events [(ts, actor, kind, from, to, msg, public)]."""
        rng, cal, now = self.rng, self.cal, self.now
        ev: list[tuple] = []
        st = {
            "status": SUBMITTED,
            "bureau": bureau_id,
            "accepted_at": None,
            "due": None,
            "closed_at": None,
            "paused_at": None,
            "paused_days": 0,
            "supervised_at": None,
            "assignee": None,
            "reason": reason,
            "rule": rule_id,
            "co": None,
        }
        cday = cal.bday(t0)
        st["accept_due"] = cal.add(cday, 2)
        short = self.bureau_by_id[bureau_id]["short"]
        ev.append((t0, ent_user, "submitted", None, SUBMITTED, f"提交至{short}", True))
        ev.append((t0, None, "routed", None, None, reason, False))

        def step(ts: float, actor, kind, to, msg, public=True) -> bool:
            if ts > now:
                return False
            ev.append((ts, actor, kind, st["status"], to if to != st["status"] else None, msg, public))
            if to is not None:
                st["status"] = to
            return True

        u = rng.random()
        t = t0
        # transfers: the joint office triages most 我有需求; ~1.2 % of service tickets are transferred
        transfer = (kind_need and rng.random() < 0.7) or (not kind_need and rng.random() < 0.012)
        if transfer:
            target = rng.choice([b for b in self.transfer_targets if b["id"] != st["bureau"]])
            tt = self.staff_time(cal.add(cday, rng.choice((0, 1, 1, 2))), t)
            actor = self.leads.get(st["bureau"])
            note = "按职责分工转办" if kind_need else "不属于本单位职责范围"
            msg = f"由{self.bureau_by_id[st['bureau']]['short']}转办至{target['short']}：{note}"
            if not step(tt, actor, "transfer", SUBMITTED, msg):
                return self._finish(st, ev)
            st["bureau"] = target["id"]
            st["accept_due"] = cal.add(cal.bday(tt), 2)
            st["reason"] = f"{st['reason']}；转办：{note}"
            t = tt
            cday = cal.bday(tt)
        bid = st["bureau"]
        handlers = self.handlers.get(bid) or [self.leads[bid]]
        handler = rng.choice(handlers)
        if u < 0.02:  # withdrawn before acceptance
            tw = t + rng.uniform(1800, 2 * DAY)
            if step(
                tw,
                ent_user,
                "withdrawn",
                WITHDRAWN,
                "企业撤回申请：" + rng.choice(("已自行解决", "信息填写有误，重新申请", "暂不需要")),
            ):
                st["closed_at"] = tw
            return self._finish(st, ev)
        d_acc = rng.choices((0, 1, 2, 3, 4, 5), (35, 35, 18, 6, 4, 2))[0]
        ta = self.staff_time(cal.add(cday, d_acc), t)
        if u < 0.06:  # 不予受理
            if step(ta, handler, "reject", REJECTED, "不予受理：" + rng.choice(REJECT_REASONS)):
                st["closed_at"] = ta
            return self._finish(st, ev)
        stuck = None
        if u < 0.068:
            stuck = rng.choices((SUBMITTED, RETURNED, ACCEPTED, IN_PROGRESS, NEED_INFO), (20, 6, 20, 44, 10))[0]
        if stuck == SUBMITTED:
            return self._finish(st, ev, stuck=True)
        if stuck == RETURNED:
            if step(ta, handler, "return", RETURNED, f"退回{self.joint['short']}：不属于本单位职责范围，请重新分办"):
                st["bureau"] = self.joint["id"]
            return self._finish(st, ev, stuck=True)
        a_day = cal.bday(ta)
        due0 = cal.add(a_day, promised)
        if not step(ta, handler, "accept", ACCEPTED, f"已签收受理，办理期限 {cal.day(due0).isoformat()}"):
            return self._finish(st, ev)
        st["accepted_at"], st["assignee"], st["due"] = ta, handler, due0
        if stuck == ACCEPTED:
            return self._finish(st, ev, stuck=True)
        late = rng.random() < 0.1
        h = (promised + rng.randint(1, 6)) if late else rng.randint(max(1, int(promised * 0.2)), max(1, promised))
        t = ta
        if rng.random() < 0.8:
            ts = self.staff_time(cal.add(a_day, rng.choice((0, 0, 1))), t)
            if not step(ts, handler, "start", IN_PROGRESS, "开始办理"):
                return self._finish(st, ev)
            t = ts
        else:
            ts = self.staff_time(cal.add(a_day, rng.choice((0, 1))), t)
            if not step(ts, handler, "reply", IN_PROGRESS, rng.choice(REPLIES)):
                return self._finish(st, ev)
            t = ts
        if st["co"] is None and not kind_need and rng.random() < 0.006:
            other = rng.choice([b for b in self.transfer_targets if b["id"] != bid])
            tc = self.staff_time(cal.add(cal.bday(t), 1), t)
            if step(tc, self.leads.get(bid), "co_handle", None, f"请{other['short']}协办：请协助现场核查", False):
                st["co"] = [other["id"], tc, None]
                td = self.staff_time(cal.add(cal.bday(tc), rng.randint(1, 3)), tc)
                if step(
                    td,
                    rng.choice(self.handlers.get(other["id"]) or [self.leads[other["id"]]]),
                    "co_reply",
                    None,
                    f"{other['short']}协办意见：已配合核查，情况属实",
                    False,
                ):
                    st["co"][2] = td
                t = ev[-1][0]
        paused = 0
        if stuck == NEED_INFO or rng.random() < 0.12:
            tr = self.staff_time(cal.add(a_day, rng.randint(1, max(1, h // 2))), t)
            if not step(tr, handler, "request_info", NEED_INFO, rng.choice(INFO_ASKS)):
                return self._finish(st, ev)
            st["paused_at"] = tr
            if stuck == NEED_INFO:
                return self._finish(st, ev, stuck=True)
            p = rng.randint(1, 6)
            tp = self.cal.at(cal.add(cal.bday(tr), p), rng.uniform(8, 20))
            if tp <= tr:
                tp = tr + 3600
            if not step(tp, ent_user, "info_provided", IN_PROGRESS, "已补充相关材料，请审核。"):
                return self._finish(st, ev)
            paused = cal.between(cal.bday(tr), cal.bday(tp))
            st["paused_at"], st["paused_days"] = None, paused
            st["due"] = cal.add(a_day, promised + paused)
            t = tp
        if rng.random() < 0.25:
            tr = self.staff_time(cal.add(cal.bday(t), rng.randint(0, 2)), t)
            if not step(tr, handler, "reply", None, rng.choice(REPLIES)):
                return self._finish(st, ev)
            t = tr
        if stuck == IN_PROGRESS:
            return self._finish(st, ev, stuck=True)
        close_day = max(cal.add(a_day, h + paused), cal.bday(t))
        tc = self.staff_time(close_day, t)
        result = rng.choice(RESULTS.get(category, RESULTS[None]))
        if step(tc, handler, "complete", COMPLETED, f"办结：{'、'.join(service_names) or '已答复'}。{result}"):
            st["closed_at"] = tc
        return self._finish(st, ev)

    def _finish(self, st: dict, ev: list, stuck: bool = False) -> dict:
        """督办 for open tickets well past their deadline (as `sla check` and the joint office do)."""
        s = st["status"]
        if s in (SUBMITTED, RETURNED, ACCEPTED, IN_PROGRESS):
            deadline = st["accept_due"] if s in (SUBMITTED, RETURNED) else st["due"]
            if deadline is not None and self.rng.random() < 0.7:
                day = self.cal.add(deadline, 3)
                if day < self.today_off:
                    ts = self.staff_time(day, ev[-1][0])
                    if ts <= self.now:
                        ev.append(
                            (
                                ts,
                                self.rng.choice(self.supervisors),
                                "supervise",
                                s,
                                None,
                                "督办：请抓紧办理，按期办结并反馈",
                                False,
                            )
                        )
                        st["supervised_at"] = ts
        st["events"] = ev
        return st

    # -- writing ------------------------------------------------------------
    def run(self, cs: CopyStreams, progress: Progress) -> dict[str, int]:
        rng, cal = self.rng, self.cal
        log(f"  planning {self.n:,} tickets …")
        plans = self.plan()
        times = self.request_times(len(plans))
        log(f"  {len(plans):,} requests, {self.n:,} tickets; writing …")
        tid = iid = eid = cid = 0
        self.rating_id = 0
        status_count: dict[str, int] = {}
        bureau_count: dict[int, int] = {}
        for rid, (plan, t0) in enumerate(zip(plans, times), 1):
            ent_idx, kind, bundle_id, groups = plan
            ent = self.enterprises[ent_idx]
            user = ent["user_id"]
            created_date = datetime.fromtimestamp(t0, UTC)
            number = f"LX{created_date:%Y%m%d}{rid:06d}"
            if kind == "need":
                description = rng.choice(NEEDS)
            else:
                first = self.svc_by_id[groups[0][3][0]]
                description = describe(first, rng) if rng.random() < 0.85 else ""
            statuses = []
            last_ts = t0
            for n_t, (bureau_id, rule_id, reason, sids) in enumerate(groups, 1):
                tid += 1
                svcs = [self.svc_by_id[s] for s in sids]
                promised = max((s["days"] for s in svcs), default=5)
                category = svcs[0]["category"] if svcs else None
                st = self.life(
                    t0, bureau_id, promised, kind == "need", user, category, reason, rule_id, [s["name"] for s in svcs]
                )
                tnum = f"{number}-{n_t}"
                evs = st["events"]
                status = st["status"]
                statuses.append(status)
                status_count[status] = status_count.get(status, 0) + 1
                bureau_count[st["bureau"]] = bureau_count.get(st["bureau"], 0) + 1
                version = 1 + sum(1 for e in evs if e[2] not in ("submitted", "routed", "co_reply"))
                cs.add(
                    "ticket",
                    [
                        str(tid),
                        tnum,
                        str(rid),
                        str(st["bureau"]),
                        status,
                        opt(st["rule"]),
                        esc(st["reason"]),
                        opt(st["assignee"]),
                        ts_text(t0),
                        ts_text(st["accepted_at"]),
                        cal.day(st["due"]).isoformat() if st["due"] is not None else "\\N",
                        ts_text(st["closed_at"]),
                        cal.day(st["accept_due"]).isoformat(),
                        ts_text(st["paused_at"]),
                        str(st["paused_days"]),
                        ts_text(st["supervised_at"]),
                        str(version),
                    ],
                )
                for s in svcs:
                    iid += 1
                    attrs = attributes_for(s, rng, ent["township"], created_date.date())
                    cs.add(
                        "request_item",
                        [str(iid), str(rid), str(s["id"]), str(tid), esc(json.dumps(attrs, ensure_ascii=False))],
                    )
                for ts, actor, ekind, frm, to, msg, public in evs:
                    eid += 1
                    cs.add(
                        "ticket_event",
                        [
                            str(eid),
                            str(rid),
                            str(tid),
                            opt(actor),
                            ekind,
                            opt(frm),
                            opt(to),
                            esc(msg),
                            "t" if public else "f",
                            ts_text(ts),
                        ],
                    )
                    last_ts = max(last_ts, ts)
                if st["co"] is not None:
                    cid += 1
                    b, tc, td = st["co"]
                    cs.add("co_handler", [str(cid), str(tid), str(b), "请协助现场核查", ts_text(tc), ts_text(td)])
                if status == COMPLETED and rng.random() < 0.45:
                    last_ts = max(last_ts, self._rate(cs, tid, user, st))
                progress_n = tid
            req_status = request_status(statuses)
            cs.add(
                "request",
                [
                    str(rid),
                    number,
                    kind,
                    str(ent["id"]),
                    str(user),
                    opt(bundle_id),
                    esc(description),
                    ent["contact"],
                    ent["mobile"],
                    ent["email"],
                    req_status,
                    "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
                    f"{rng.getrandbits(128):032x}",
                    ts_text(t0),
                    ts_text(last_ts),
                ],
            )
            if rid % 500 == 0:
                progress.update(progress_n, f"{cs.total:,} rows")
        progress.update(tid, f"{cs.total:,} rows")
        self.counts = {
            "requests": len(plans),
            "tickets": tid,
            "request_items": iid,
            "events": eid,
            "ratings": self.rating_id,
            "co_handlers": cid,
        }
        self.status_count = status_count
        self.bureau_count = {
            self.bureau_by_id[b]["code"]: n for b, n in sorted(bureau_count.items(), key=lambda kv: -kv[1])
        }
        return self.counts

    def _rate(self, cs: CopyStreams, tid: int, user: int, st: dict) -> float:
        rng, cal = self.rng, self.cal
        tr = st["closed_at"] + rng.uniform(3600, 5 * DAY)
        if tr > self.now:
            return st["closed_at"]
        score = rng.choices((5, 4, 3, 2, 1), (70, 19, 6, 3, 2))[0]
        last = tr
        fu_due = fu_at = fu_by = None
        fu_note = ""
        if score <= 2:
            fu_due = cal.add(cal.bday(tr), 5)
            if cal.add(cal.bday(tr), 2) < self.today_off and rng.random() < 0.85:
                fu_at = self.staff_time(cal.add(cal.bday(tr), rng.randint(1, 5)), tr)
                if fu_at <= self.now:
                    fu_by = self.leads.get(st["bureau"])
                    fu_note = "已电话回访企业，说明情况并改进服务流程。"
                else:
                    fu_at = None
        self.rating_id += 1
        comment = rng.choice(COMMENTS_BAD if score <= 3 else COMMENTS_GOOD)
        cs.add(
            "rating",
            [
                str(self.rating_id),
                str(tid),
                str(user),
                "1",
                str(score),
                comment,
                ts_text(tr),
                cal.day(fu_due).isoformat() if fu_due is not None else "\\N",
                fu_note,
                ts_text(fu_at),
                opt(fu_by),
            ],
        )
        if fu_at is not None and rng.random() < 0.4:
            t2 = fu_at + rng.uniform(3600, 3 * DAY)
            if t2 <= self.now:
                self.rating_id += 1
                cs.add(
                    "rating",
                    [
                        str(self.rating_id),
                        str(tid),
                        str(user),
                        "2",
                        str(rng.choice((3, 4, 4, 5))),
                        "回访后问题已解决",
                        ts_text(t2),
                        "\\N",
                        "",
                        "\\N",
                        "\\N",
                    ],
                )
                last = t2
        return last


def accumulate(values: Iterable[float]) -> list[float]:
    out, s = [], 0.0
    for v in values:
        s += v
        out.append(s)
    return out


def request_status(statuses: list[str]) -> str:
    from services.tickets import workflow

    return workflow.request_status(statuses)


# --------------------------------------------------------------------------- index build


def timed_rebuild(index: Any, session: Any, n: int, label: str) -> dict[str, Any]:
    """index.rebuild(iter_ticket_docs(session) limited to n) with a progress bar and a time split:
    database + ORM + ticket_doc (time spent inside iter_ticket_docs), the index's own work (the
    rest), and how long the rebuild ran after its input was exhausted (final commit, install)."""
    from services import outbox as search_sync

    bar = Progress(n, label, "docs")
    doc_time = 0.0
    read_end: list[float] = []
    start = time.perf_counter()

    def docs() -> Iterator[dict]:
        nonlocal doc_time
        it = search_sync.iter_ticket_docs(session)
        k = 0
        while k < n:
            t = time.perf_counter()
            try:
                d = next(it)
            except StopIteration:
                break
            doc_time += time.perf_counter() - t
            k += 1
            yield d
        read_end.append(time.perf_counter())

    def progress(k: int) -> None:
        bar.update(k)

    count = index.rebuild(docs(), total=n, progress=progress)
    end = time.perf_counter()
    bar.update(count)
    bar.close()
    r_end = read_end[0] if read_end else end
    return {
        "docs": count,
        "seconds": round(end - start, 1),
        "doc_loading_s": round(doc_time, 1),
        "index_s": round(end - start - doc_time, 1),
        "after_input_s": round(end - r_end, 1),
        "docs_per_s": round(count / (end - start), 1) if end > start else None,
    }


def build_index(
    instance: Path, dbname: str, server: str, limit: int | None, budget_min: float | None = None
) -> dict[str, Any]:
    """search_sync.iter_ticket_docs -> TicketIndex.rebuild into the portal's ticket index.

    With more than 50,000 tickets a pilot rebuild of the first 50,000 into a scratch directory
    is timed first and extrapolated to all tickets (a linear lower bound: Whoosh's final merge
    grows faster than linearly). Without --index-limit, when that estimate exceeds budget_min
    minutes, the index is limited to what fits the budget; the result says so."""
    os.environ.update({k: v for k, v in portal_env(instance, dbname, server).items() if k.startswith("PORTAL_")})
    from portal import create_app
    from search_index.tickets import TicketIndex

    app = create_app()
    out: dict[str, Any] = {}
    with app.app_context():
        from portal.extensions import db, search
        from services import outbox as search_sync

        session = db.new_session()
        total = search_sync.count_tickets(session)
        position = search_sync.current_max_id(session)
        out["total_tickets"] = total
        if total > 2 * EXTRAPOLATE_AT and limit != EXTRAPOLATE_AT:
            scratch = instance / "ticket-index-pilot"
            shutil.rmtree(scratch, ignore_errors=True)
            pilot_ix = TicketIndex(scratch)
            try:
                pilot = timed_rebuild(pilot_ix, session, EXTRAPOLATE_AT, "pilot 50k  ")
            finally:
                pilot_ix.close()
                shutil.rmtree(scratch, ignore_errors=True)
            session.expunge_all()
            f = total / EXTRAPOLATE_AT
            est = {k: round(pilot[k] * f) for k in ("doc_loading_s", "index_s")}
            est["total_s"] = est["doc_loading_s"] + est["index_s"]
            out["pilot_50k"] = pilot
            out["extrapolated_full"] = est
            log(
                f"  pilot: first {EXTRAPOLATE_AT:,} docs in {pilot['seconds']:.0f}s (database/ORM "
                f"{pilot['doc_loading_s']:.0f}s, index {pilot['index_s']:.0f}s of which {pilot['after_input_s']:.0f}s "
                f"after the last document)"
            )
            log(
                f"  extrapolated to all {total:,} tickets: ~{est['total_s'] / 60:.0f} min (database/ORM "
                f"{est['doc_loading_s'] / 60:.0f} min, index {est['index_s'] / 60:.0f} min; linear)"
            )
            if limit is None and budget_min and est["total_s"] > budget_min * 60:
                limit = max(EXTRAPOLATE_AT, int(total * budget_min * 60 / est["total_s"]) // 10_000 * 10_000)
                log(
                    f"  that exceeds the budget of {budget_min:.0f} min: indexing only the first {limit:,} tickets "
                    f"(--index-limit {limit}); set --index-budget 0 to index everything"
                )
                out["limited_by_budget"] = True
        n = min(total, limit) if limit else total
        info = timed_rebuild(search.tickets, session, n, "ticket index")
        search.position.write(position)
        session.close()
        ix_dir = Path(app.config["TICKET_INDEX_DIR"])
        size = sum(p.stat().st_size for p in ix_dir.glob("*") if p.is_file())
    out.update(info)
    out.update({"indexed": info["docs"], "index_mb": round(size / 2**20, 1), "partial": info["docs"] < total})
    return out


# --------------------------------------------------------------------------- main


def generate(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    summary: dict[str, Any] = {
        "db": args.db,
        "instance": str(args.instance),
        "n": args.n,
        "seed": args.seed,
        "enterprises": args.enterprises,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    log(f"database {args.db}: recreate and `flask --app portal init` (instance {args.instance})")
    if args.instance.exists():
        shutil.rmtree(args.instance)
    recreate_database(args.db, args.server, args.force)
    summary["init_s"] = round(flask_init(args.instance, args.db, args.server), 1)
    now = time.time()
    with psycopg.connect(conninfo(args.db, args.server)) as conn:
        check_columns(conn)
        gen = Generator(conn, args.n, args.enterprises, args.seed, now)
    summary["now"] = datetime.fromtimestamp(now, UTC).isoformat()
    t = time.perf_counter()
    cs_a = CopyStreams(args.db, args.server, ["enterprise", "user"])
    try:
        gen.accounts(cs_a)
        cs_a.finish()
    except BaseException:
        cs_a.abort()
        raise
    log(
        f"  accounts: {args.enterprises:,} enterprises + users, {len(gen.staff)} staff ({time.perf_counter() - t:.1f}s)"
    )
    t = time.perf_counter()
    cs = CopyStreams(
        args.db, args.server, ["request", "ticket", "request_item", "ticket_event", "rating", "co_handler"]
    )
    bar = Progress(args.n, "tickets", "tickets")
    try:
        gen.run(cs, bar)
        cs.finish()
    except BaseException:
        cs.abort()
        raise
    copy_s = time.perf_counter() - t
    bar.close()
    rows = cs.total + 2 * args.enterprises + len(gen.staff)
    log(f"  COPY: {rows:,} rows in {copy_s:.1f}s = {rows / copy_s:,.0f} rows/s ({args.n / copy_s:,.0f} tickets/s)")
    summary.update(
        {
            "copy_s": round(copy_s, 1),
            "rows": rows,
            "rows_per_s": round(rows / copy_s),
            "tickets_per_s": round(args.n / copy_s),
            "counts": gen.counts,
            "status": gen.status_count,
            "bureaus": gen.bureau_count,
            "staff": gen.staff,
            "calendar_warnings": gen.cal.cal.warnings(),
        }
    )
    t = time.perf_counter()
    with psycopg.connect(conninfo(args.db, args.server), autocommit=True) as conn:
        for table in TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
            )
        # FK sanity (the COPY sessions ran without FK triggers)
        orphan = "SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON p.id = c.{col} WHERE p.id IS NULL"
        checks = {
            f"{child}.{col}": orphan.format(child=child, parent=parent, col=col)
            for child, parent, col in (
                ("ticket", "request", "request_id"),
                ("request_item", "ticket", "ticket_id"),
                ("ticket_event", "ticket", "ticket_id"),
                ("rating", "ticket", "ticket_id"),
            )
        }
        bad = {k: conn.execute(q).fetchone()[0] for k, q in checks.items()}
        if any(bad.values()):
            raise SystemExit(f"dangling references after COPY: {bad}")
        log("  VACUUM ANALYZE …")
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    summary["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    summary["db_mb"] = round(size / 2**20)
    log(f"  status: {gen.status_count}")
    log(f"  bureaus: {gen.bureau_count}")
    log(f"  counts: {gen.counts}; database {summary['db_mb']:,} MB")
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    p.add_argument("--enterprises", type=int, default=20_000)
    p.add_argument("--db", default=DEFAULT_DB, help="database name (dropped and recreated)")
    p.add_argument("--server", default=PG_SERVER, help="PostgreSQL server URL without database")
    p.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE, help="instance folder (replaced)")
    p.add_argument("--seed", type=int, default=20261129)
    p.add_argument(
        "--index-limit",
        type=int,
        default=None,
        help="index only the first K tickets (by id); the extrapolation is reported",
    )
    p.add_argument(
        "--index-budget",
        type=float,
        default=40.0,
        help="minutes: without --index-limit, limit the index to what the 50k pilot says fits (0: no limit)",
    )
    p.add_argument("--skip-index", action="store_true", help="do not build the ticket index")
    p.add_argument("--index-only", action="store_true", help="only (re)build the ticket index of an existing run")
    p.add_argument("--force", action="store_true", help="allow a database name not starting with portal_bench")
    args = p.parse_args(argv)
    summary_path = args.instance / SUMMARY_FILE
    if args.index_only:
        summary = json.loads(summary_path.read_text("utf-8"))
    else:
        summary = generate(args)
        summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    if not args.skip_index:
        log("ticket index: search_sync.iter_ticket_docs -> TicketIndex.rebuild")
        info = build_index(args.instance, summary["db"], args.server, args.index_limit, args.index_budget)
        summary["index"] = info
        summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
        log(
            f"  indexed {info['indexed']:,} of {info['total_tickets']:,} tickets in {info['seconds']:.0f}s "
            f"({info['docs_per_s']:,.0f} docs/s; database/ORM {info['doc_loading_s']:.0f}s, index "
            f"{info['index_s']:.0f}s of which {info['after_input_s']:.0f}s after the last document), "
            f"{info['index_mb']:,} MB"
        )
        if info["partial"]:
            log(f"  NOTE: the index holds only the first {info['indexed']:,} of {info['total_tickets']:,} tickets")
    log(f"summary: {summary_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
