"""Request fields: checking an enterprise's answers to a service's request fields (the form's,
the API's and Open311's), showing a stored value, and grouping a bundle's fields so that a
field several services ask is asked once.
"""
from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.catalog.problems import TOO_LONG
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Service, ServiceField

MAX_DESCRIPTION = 5000
MAX_STRING = 200

REQUIRED = N_("此项为必填项")
NOT_A_NUMBER = N_("应为数字")
CHOOSE_FROM_LIST = N_("请从列表中选择")


# --------------------------------------------------------------------------- request fields
def _clean_value(f: ServiceField, raw: Any) -> tuple[Any, str | None]:
    """(value, problem) for one field; value None means 'not given'."""
    if raw is None or raw == "" or raw == []:
        return None, (_msg(REQUIRED) if f.required else None)
    keys = {v["key"] for v in f.values or []}
    if f.datatype in ("string", "text"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            return None, _msg(N_("应为文字"))
        text = str(raw).strip()
        limit = MAX_STRING if f.datatype == "string" else MAX_DESCRIPTION
        if len(text) > limit:
            return None, _msg(TOO_LONG, max=limit)
        return (text or None), (_msg(REQUIRED) if f.required and not text else None)
    if f.datatype == "number":
        try:
            number = float(str(raw).strip().replace(",", "")) if not isinstance(raw, bool) else math.nan
        except ValueError:
            return None, _msg(NOT_A_NUMBER)
        if not math.isfinite(number) or abs(number) > 1e12:
            return None, _msg(NOT_A_NUMBER)
        return (int(number) if number.is_integer() else number), None
    if f.datatype == "datetime":
        text = str(raw).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text).isoformat(), None
            return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="minutes"), None
        except ValueError:
            return None, _msg(N_("应为日期，如 2026-12-01"))
    if f.datatype == "singlevaluelist":
        if not isinstance(raw, str) or raw not in keys:
            return None, _msg(CHOOSE_FROM_LIST)
        return raw, None
    if f.datatype == "multivaluelist":
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list) or not all(isinstance(v, str) and v in keys for v in values):
            return None, _msg(CHOOSE_FROM_LIST)
        return list(OrderedDict.fromkeys(values)), None
    return None, _msg(N_("未知的字段类型"))


def validate_attributes(service: Service, raw: dict[str, Any] | None, prefix: str = "") -> tuple[dict, dict]:
    """Clean values for a service's request fields and the problems keyed by field code."""
    raw = raw or {}
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if not isinstance(raw, dict):
        return {}, {prefix.rstrip("."): _msg(N_("应为对象"))}
    known = {f.code for f in service.fields}
    for key in raw:
        if key not in known:
            problems[f"{prefix}{key}"] = _msg(N_("该服务没有这个字段"))
    for f in service.fields:
        value, problem = _clean_value(f, raw.get(f.code))
        if problem:
            problems[f"{prefix}{f.code}"] = _msg(N_("%(label)s：%(message)s"), label=f.label, message=problem)
        elif value is not None:
            values[f.code] = value
    return values, problems


def display_value(f: ServiceField, value: Any) -> str:
    names: dict[str, str] = {v["key"]: v["name"] for v in f.values or []}
    if isinstance(value, list):
        return "、".join(names[v] if v in names else v for v in value)
    return names.get(value, str(value)) if value is not None else ""


@dataclass
class FieldGroup:
    """A request field as the form shows it: once, even when several services of a bundle ask it."""

    name: str
    field: ServiceField
    services: list[Service]


def field_groups(services: list[Service]) -> list[FieldGroup]:
    groups: OrderedDict[tuple, FieldGroup] = OrderedDict()
    for s in services:
        for f in s.fields:
            key = (f.code, f.datatype, f.label, tuple(v["key"] for v in f.values or []))
            if key in groups:
                groups[key].services.append(s)
            else:
                groups[key] = FieldGroup("", f, [s])
    used: set[str] = set()
    for g in groups.values():
        name = f"f_{g.field.code}"
        if name in used:  # same code, different meaning in another service: keep them apart
            name = f"f_{g.services[0].code}_{g.field.code}"
        used.add(name)
        g.name = name
    return list(groups.values())

