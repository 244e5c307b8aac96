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
from services.core import cleantext
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Service, ServiceField

MAX_DESCRIPTION = 5000
MAX_STRING = 200

REQUIRED = N_("此项为必填项")
NOT_A_NUMBER = N_("应为数字")
CHOOSE_FROM_LIST = N_("请从列表中选择")
_PROBLEM = N_("%(label)s：%(message)s")  # a request field's problem, named by its label


# --------------------------------------------------------------------------- request fields
def _clean_value(f: ServiceField, raw: Any) -> tuple[Any, str | None]:
    """(value, problem) for one field; value None means 'not given'."""
    if raw is None or raw == "" or raw == []:
        return None, (_msg(REQUIRED) if f.required else None)
    keys = {v["key"] for v in f.values or []}
    if f.datatype in ("string", "text"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            return None, _msg(N_("应为文字"))
        if cleantext.has_nul(raw):
            return None, _msg(cleantext.NUL_REFUSED)
        text = cleantext.name(raw) if f.datatype == "string" else cleantext.text(raw)
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
            problems[f"{prefix}{f.code}"] = _msg(_PROBLEM, label=f.label, message=problem)
        elif value is not None:
            values[f.code] = value
    return values, problems


def display_value(f: ServiceField, value: Any) -> str:
    names: dict[str, str] = {v["key"]: v["name"] for v in f.values or []}
    if isinstance(value, list):
        return "、".join(names[v] if v in names else v for v in value)
    return names.get(value, str(value)) if value is not None else ""


# Labels the catalog words differently for the same question (after _label_key's clean-up).
SAME_MEANING: dict[str, str] = {
    "申报产品名称": "产品名称",
    "拟申报产品名称": "产品名称",
    "申请产品名称": "产品名称",
}
# Datatypes that take the same answer: a short text fits a long one.
_FAMILY = {"string": "text", "text": "text"}


def _label_key(label: str) -> str:
    key = re.sub(r"[\s:：]", "", label or "")
    return SAME_MEANING.get(key, key)


@dataclass
class FieldGroup:
    """A request field as the form shows it: once, even when several services of a bundle ask
    it (a shared field). `members` pairs each service with its own field (whose code may
    differ), so the one answer goes into every service's attributes under that service's code."""

    name: str
    field: ServiceField  # the first service's: values and description
    members: list[tuple[Service, ServiceField]]
    label: str = ""
    datatype: str = ""
    required: bool = False

    @property
    def services(self) -> list[Service]:
        return [s for s, _ in self.members]

    @property
    def shared(self) -> bool:
        return len(self.members) > 1


def _share_key(f: ServiceField) -> tuple:
    """Fields with the same key ask the same question: the same label (or one SAME_MEANING maps
    to it), a datatype taking the same answers and the same list of choices."""
    return (_label_key(f.label), _FAMILY.get(f.datatype, f.datatype), tuple(v["key"] for v in f.values or []))


def field_groups(services: list[Service]) -> list[FieldGroup]:
    groups: OrderedDict[tuple, FieldGroup] = OrderedDict()
    for s in services:
        taken: set[tuple] = set()  # one service's two fields never merge with each other
        for f in s.fields:
            key = _share_key(f)
            if key in taken:
                key = (*key, s.code, f.code)
            taken.add(key)
            if key in groups:
                g = groups[key]
                g.members.append((s, f))
                g.required = g.required or bool(f.required)
                if f.datatype == "text":
                    g.datatype = "text"  # room for the longest answer
            else:
                groups[key] = FieldGroup("", f, [(s, f)], f.label, f.datatype, bool(f.required))
    used: set[str] = set()
    for g in groups.values():
        if g.shared and _label_key(g.label) != g.label:
            g.label = _label_key(g.label)  # the plain wording (产品名称, not 申报产品名称)
        name = f"f_{g.field.code}"
        if name in used:  # same code, different meaning in another service: keep them apart
            name = f"f_{g.services[0].code}_{g.field.code}"
        used.add(name)
        g.name = name
    return list(groups.values())


def sections(groups: list[FieldGroup], services: list[Service]) -> tuple[list[FieldGroup],
                                                                            list[tuple[Service, list[FieldGroup]]]]:
    """(shared fields, [(service, its own fields)]) in the services' order, for the form's headings."""
    shared = [g for g in groups if g.shared]
    own = [(s, [g for g in groups if not g.shared and g.services[0].code == s.code]) for s in services]
    return shared, [(s, gs) for s, gs in own if gs]


def attributes(groups: list[FieldGroup], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Answers by form field name -> attributes by service code and that service's field code;
    a shared field's answer goes to every service that asks it."""
    out: dict[str, dict[str, Any]] = {}
    for g in groups:
        for s, f in g.members:
            out.setdefault(s.code, {})[f.code] = answers.get(g.name)
    return out


def group_problems(groups: list[FieldGroup], problems: dict[str, str]) -> dict[str, str]:
    """Problems keyed attributes.CODE.field (as prepare reports them) -> keyed by form field name,
    worded with the field's label on the form; one message per field (a shared field's services
    mostly say the same)."""
    names = {f"attributes.{s.code}.{f.code}": g for g in groups for s, f in g.members}
    out: dict[str, str] = {}
    for key, message in problems.items():
        g = names.get(key)
        if g is None:
            out.setdefault(key, message)
            continue
        inner = message.params.get("message") if isinstance(message, _msg) and message.msgid == _PROBLEM else None
        out.setdefault(g.name, _msg(_PROBLEM, label=g.label, message=inner) if inner is not None else message)
    return out
