"""The tokens and index postings of both indexes' text fields for a fixed list of texts.

``tokens_golden.json`` holds digests of what this module computed before the two
tokenizers of ``search_index.analysis`` became one (one digest per text, catalog document
and ticket); ``test_analysis.py`` computes them again
in a fresh process (jieba without the user words other tests teach it) and compares.
Regenerate only for an intended analysis change (with a ``SCHEMA_VERSION`` bump)::

    .venv/bin/python -m tests.search.tokens_golden > tests/search/tokens_golden.json

``--full`` prints the tokens themselves, to see what changed.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from typing import Any

from search_index import schema as catalog_schema
from search_index import tickets as ticket_schema
from search_index.analysis import ChineseTokenizer, WeightedChineseTokenizer, weighted_value

from ..search_tickets.fixtures import tickets
from .fixtures import SERVICES

EDGE_TEXTS = [
    "",
    " ",
    "秤",
    "汽车衡检定",
    "对汽车衡（地磅）检定",
    "ＩＳＯ９００１ CMA 认证",
    "iso9001质量管理体系认证 GB/T 19001-2016",
    "㎏ ㎡ ① Ⅻ ﬁ",
    "LX20261129000001-1 91430723MA4L0LJ12X",
    "我们厂的地磅需要年检",
    "绿色食品、有机农产品和农产品地理标志",
    "控制\x00字符\u200b零宽\ufeff",
    "第7类 100吨 4.5% 3项",
    "e-mail: test_user@example.com",
    "混合Latin和中文mixed123abc",
    "\u3400\u4dbf\uf900\U00020000\U0002a6d6",
    "带\x1e分节\x1f符号",
    "línea ñandú Größe",
]

_ALPHABET = (
    "计量检定汽车衡地磅年检绿色食品认证商标注册专利高新技术企业申报标准化质量检验检测报告"
    "澧县兰江城头山茶业合作社鑫达机械制造有限责任公司的了是在和与及或"
    "abcxyzISO9001GBT0123456789ＡＢＣ１２３"
    " ，。、；：（）“”《》-_/.%\n\t\x1e\x1f"
)


def _random_texts(n: int = 60, seed: int = 20261129) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 60))) for _ in range(n)]


def _texts() -> list[str]:
    out = list(EDGE_TEXTS)
    for svc in SERVICES:
        for key in ("name", "summary", "conditions", "legal_basis", "bureau_name", "category_name"):
            if svc.get(key):
                out.append(str(svc[key]))
        out.extend(str(v) for v in svc.get("keywords") or ())
        out.extend(str(v) for v in (svc.get("materials") or ()) + (svc.get("process") or ()))
    for t in tickets():
        out.extend([t["enterprise"], "\n".join(t["services"]), t["text"]])
    out.extend(_random_texts())
    return list(dict.fromkeys(out))


_OPTIONS: list[dict[str, Any]] = [
    {},
    {"positions": True, "chars": True},
    {"positions": True, "chars": True, "keeporiginal": True, "start_pos": 3, "start_char": 5},
    {"tokenize": False, "positions": True, "chars": True, "start_pos": 2, "start_char": 7},
    {"mode": "query", "removestops": False},
]


def _tokens(tokenizer: Any, value: str, options: dict[str, Any]) -> list[list[Any]]:
    out = []
    for t in tokenizer(value, **options):
        out.append([
            t.text,
            t.boost,
            getattr(t, "pos", None),
            getattr(t, "startchar", None),
            getattr(t, "endchar", None),
            getattr(t, "original", None),
            t.stopped,
        ])
    return out


def _postings(field: Any, value: str) -> list[list[Any]]:
    return [
        [btext.decode("utf-8") if isinstance(btext, bytes) else btext, freq, weight, valuestring.hex()]
        for btext, freq, weight, valuestring in sorted(field.index(value))
    ]


def dump() -> dict[str, Any]:
    texts = _texts()
    plain, weighted = ChineseTokenizer(), WeightedChineseTokenizer()
    sections = [
        weighted_value([(6.0, a), (2.0, b), (1.0, c)])
        for a, b, c in zip(texts, texts[1:] + texts[:1], texts[2:] + texts[:2])
    ]
    out: dict[str, Any] = {"tokenizer": [], "weighted": [], "catalog": [], "tickets": []}
    for text in texts:
        out["tokenizer"].append([_tokens(plain, text, o) for o in _OPTIONS])
    for value in texts + sections + ["x\x1f" + texts[5], "2.5\x1f" + texts[4] + "\x1e\x1f" + texts[6]]:
        out["weighted"].append([_tokens(weighted, value, o) for o in _OPTIONS])
    cschema = catalog_schema.build_schema()
    for svc in SERVICES:
        fields = catalog_schema.doc_to_fields(svc)
        out["catalog"].append({name: _postings(cschema[name], fields[name]) for name in ("name", "text")
                               if name in fields})
    tschema = ticket_schema.build_schema()
    for t in tickets():
        fields = ticket_schema.doc_to_fields(t)
        out["tickets"].append({name: _postings(tschema[name], fields[name]) for name in ("head", "text")
                               if name in fields})
    for text in texts:
        out["tickets"].append({"text": _postings(tschema["text"], text)})
    return out


def _digest(value: Any) -> str:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def digests() -> dict[str, list[str]]:
    """Per section of :func:`dump`, one digest per item."""
    return {section: [_digest(item) for item in items] for section, items in dump().items()}


if __name__ == "__main__":
    result = dump() if "--full" in sys.argv[1:] else digests()
    json.dump(result, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
