"""The tables of a statistics report, in page order: the page, the CSV and the XLSX exports
(``services.stats.export``) show the same cells. No Flask imports."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.stats.metrics import Metrics
from services.stats.reports import Report


@dataclass(frozen=True)
class Table:
    """One table as shown on the page and written to the CSV and XLSX exports: the same cells."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


METRIC_COLUMNS = ("办件量", "已办结", "在办", "超期未办结", "按时办结率（%）", "平均办理用时（工作日）",
                  "平均签收用时（工作日）", "满意度（分）", "差评率（%）", "评价数")


def _metric_cells(m: Metrics) -> tuple:
    return (m.received, m.completed, m.open, m.overdue, m.on_time_rate, m.avg_handling_days,
            m.avg_acceptance_days, m.satisfaction, m.bad_rate, m.rated)


def headline(m: Metrics) -> list[tuple[str, Any, str]]:
    """(label, value, unit) of the headline figures."""
    return [
        ("办件总量", m.received, "件"),
        ("已办结", m.completed, "件"),
        ("不予受理", m.rejected, "件"),
        ("企业撤回", m.withdrawn, "件"),
        ("在办（积压）", m.open, "件"),
        ("超期未办结", m.overdue, "件"),
        ("按时办结率", m.on_time_rate, "%"),
        ("平均办理用时", m.avg_handling_days, "工作日"),
        ("平均签收用时", m.avg_acceptance_days, "工作日"),
        ("满意度", m.satisfaction, "分（满分 5 分）"),
        ("差评率", m.bad_rate, "%"),
        ("评价数", m.rated, "件"),
    ]


def report_tables(rep: Report) -> list[Table]:
    """The figures of a report as tables, in page order. The page, the CSV and the XLSX all use these."""
    shown = len(rep.overdue)
    overdue_note = (f"共 {rep.overdue_total} 件，列出超期最久的 {shown} 件" if rep.overdue_total > shown
                    else f"共 {rep.overdue_total} 件")
    return [
        Table("summary", "总体指标", ("指标", "数值", "单位"), tuple(headline(rep.totals))),
        Table("bureau", "按单位统计", ("单位",) + METRIC_COLUMNS,
              tuple((r.name,) + _metric_cells(r.metrics) for r in rep.by_bureau)),
        Table("month", "按月统计（按提交月份）", ("月份", "办件量", "已办结"),
              tuple((r.key, r.received, r.completed) for r in rep.by_month)),
        Table("category", "按服务类别统计", ("服务类别", "办件量"),
              tuple((r.label, r.received) for r in rep.by_category),
              "一个办件涉及多个类别时，每个类别各计一次；“我有需求”类办件不计入。"),
        Table("service", "按服务事项统计", ("服务编码", "服务事项", "责任单位") + METRIC_COLUMNS,
              tuple((r.code, r.name, r.bureau) + _metric_cells(r.metrics) for r in rep.by_service),
              "一个办件含多项服务时，每项服务各计一次；“我有需求”类办件不计入。"),
        Table("overdue", "超期未办结办件", ("办件编号", "承办单位", "申请企业", "服务事项", "状态", "期限类型",
                                       "期限", "超期（工作日）", "已督办"),
              tuple((o.number, o.bureau, o.enterprise, o.services, o.status_label, o.deadline_kind,
                     o.due.isoformat(), o.workdays_late, "是" if o.supervised else "否") for o in rep.overdue),
              overdue_note),
    ]

