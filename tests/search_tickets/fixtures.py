"""Ticket documents shared by the TicketIndex tests (bureau ids: amr=1, agri=6, miit=4, sti=2)."""

from __future__ import annotations

import copy
from typing import Any

AMR, STI, MIIT, AGRI = 1, 2, 4, 6

_TICKETS: list[dict[str, Any]] = [
    {
        "number": "LX20261129000001-1", "request_number": "LX20261129000001", "status": "submitted",
        "bureau_ids": [AMR], "enterprise": "澧县兰江食品有限公司", "uscc": "91430723MA4L0LJ12X",
        "services": ["汽车衡（地磅）检定"],
        "text": "我厂新购一台最大秤量100吨的电子汽车衡，需要办理首次检定。\n现场检定\n最大秤量（吨）：100",
    },
    {
        "number": "LX20261129000001-2", "request_number": "LX20261129000001", "status": "submitted",
        "bureau_ids": [AGRI, MIIT], "enterprise": "澧县兰江食品有限公司", "uscc": "91430723MA4L0LJ12X",
        "services": ["绿色食品认证申报"],
        "text": "我厂生产的菜籽油拟申报绿色食品标志。",
    },
    {
        "number": "LX20261130000002-1", "request_number": "LX20261130000002", "status": "accepted",
        "bureau_ids": [AGRI], "enterprise": "湖南城头山茶业专业合作社", "uscc": "93430723MA4PQR7K5B",
        "services": ["农产品地理标志申报培育与用标指导"],
        "text": "申请使用澧县茶叶地理标志，附茶园基地照片。已补正土壤检测报告。",
    },
    {
        "number": "LX20261201000003-1", "request_number": "LX20261201000003", "status": "need_info",
        "bureau_ids": [STI], "enterprise": "澧县鑫达机械制造有限责任公司", "uscc": "91430723MA4T9XY81C",
        "services": ["高新技术企业认定辅导"],
        "text": "公司拥有发明专利3项，研发费用占比4.5%，请指导高企申报材料。",
    },
    {
        "number": "LX20261202000004-1", "request_number": "LX20261202000004", "status": "completed",
        "bureau_ids": [AMR], "enterprise": "澧县鑫达机械制造有限责任公司", "uscc": "91430723MA4T9XY81C",
        "services": ["商标注册便利化服务"],
        "text": "申请注册“鑫达重工”商标，类别第7类。",
    },
]


def tickets() -> list[dict[str, Any]]:
    """A fresh copy of the fixture tickets (tests may modify it)."""
    return copy.deepcopy(_TICKETS)


def ticket(number: str) -> dict[str, Any]:
    return next(t for t in tickets() if t["number"] == number)
