"""The dashboard says exactly which dates it counts when none are given (and counts those), and
its charts show full names and labels that never overlap."""
from __future__ import annotations

import itertools
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.dashboard import charts
from portal.extensions import db
from services.models import Bureau
from services.stats.filters import default_range
from tests.dashboard.conftest import RANGE, act, bj, d, make_ticket
from tests.helpers import login

pytestmark = pytest.mark.usefixtures("frozen_today")

JOINT_OFFICE = "质量强县工作联席会议办公室"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200
    return BeautifulSoup(response.data, "html.parser")


# --------------------------------------------------------------------------- the default range
def test_default_range_is_this_month_and_the_eleven_before():
    assert default_range(date(2026, 11, 29)) == (date(2025, 12, 1), date(2026, 11, 29))
    assert default_range(date(2026, 12, 3)) == (date(2026, 1, 1), date(2026, 12, 3))
    assert default_range(date(2027, 1, 31)) == (date(2026, 2, 1), date(2027, 1, 31))


def test_hint_names_the_dates_the_page_counts_without_dates(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard"))
    hint = page.select_one("#filter-hint").get_text(" ", strip=True)
    assert "最近 12 个月" not in hint
    assert "本月和之前 11 个整月（共 12 个月），即 2025-12-01 至 2026-11-29（今天）" in hint
    assert "区间最长 5 年" in hint
    # the range used is the one the hint names
    assert (page.select_one("#from")["value"], page.select_one("#to")["value"]) == ("2025-12-01", "2026-11-29")
    assert "统计区间：2025-12-01 至 2026-11-29" in page.select_one("#period").get_text()


def test_hint_keeps_naming_the_default_when_dates_are_chosen(client, world):
    login(client, world.people["amr_lead"])
    page = soup(client.get("/dashboard/bureau", query_string=RANGE))
    assert "统计区间：2026-09-01 至 2026-10-31" in page.select_one("#period").get_text()
    assert "即 2025-12-01 至 2026-11-29（今天）" in page.select_one("#filter-hint").get_text()


# --------------------------------------------------------------------------- charts
def _shown_labels(chart: charts.Chart) -> list[charts.Bar]:
    return [b for b in chart.bars if b.show_label]


def _month_items(first: date, n: int) -> list[tuple[str, str, float]]:
    out = []
    for i in range(n):
        index = first.year * 12 + first.month - 1 + i
        year, month = divmod(index, 12)
        out.append((f"{month + 1}月", f"{year}年" if month == 0 or i == 0 else "", (i * 7) % 11 + 1))
    return out


@pytest.mark.parametrize("first,n", [(date(2026, 1, 1), 12), (date(2025, 12, 1), 12), (date(2025, 1, 1), 24),
                                     (date(2022, 3, 1), 60), (date(2026, 10, 1), 3)])
def test_column_labels_never_overlap(first, n):
    chart = charts.columns(_month_items(first, n))
    shown = _shown_labels(chart)
    assert shown, "some month must be labelled"
    for a, b in itertools.pairwise(shown):
        room = b.label_x - a.label_x
        need = (charts.text_width(a.label) + charts.text_width(b.label)) / 2 + charts.GAP
        assert room >= need, (a.label, b.label, room, need)
    years = [b for b in chart.bars if b.sublabel and b.show_sublabel]
    assert years, "the year is shown"
    for a, b in itertools.pairwise(years):
        assert b.label_x - a.label_x >= charts.text_width(a.sublabel, charts.SUBLABEL_SIZE) + charts.GAP
    assert all(b.show_label for b in years)  # a year sits under a labelled month
    slot = (chart.width - 16) / n
    for b in chart.bars:
        if b.show_value:
            assert charts.text_width(b.shown, charts.VALUE_SIZE) <= slot


def test_twelve_months_no_longer_print_11_and_12_side_by_side():
    chart = charts.columns(_month_items(date(2026, 1, 1), 12))
    shown = [b.label for b in _shown_labels(chart)]
    assert not {"11月", "12月"} <= set(shown)
    assert shown[0] == "1月"
    january = charts.columns(_month_items(date(2025, 12, 1), 12))
    assert "1月" in [b.label for b in _shown_labels(january)]  # a January keeps its label and year


def test_bar_labels_are_full_and_fit_the_chart():
    longest = "澧县质量强县工作联席会议办公室（设在澧县市场监督管理局综合业务大楼三楼）"
    names = ["县市场监管局", JOINT_OFFICE, longest, "县科技局"]
    chart = charts.hbar([(n, 3) for n in names])
    for bar, name in zip(chart.bars, names):
        assert "…" not in bar.label and bar.label == name == "".join(bar.lines)
        assert all(charts.text_width(line) <= chart.width - 2 * bar.label_x for line in bar.lines)
        assert bar.y >= bar.label_y + (len(bar.lines) - 1) * chart.line + 2  # the bar starts below its label
    assert len(chart.bars[2].lines) == 2 and chart.bars[1].lines == (JOINT_OFFICE,)
    for a, b in itertools.pairwise(chart.bars):
        assert b.label_y - charts.LABEL_SIZE >= a.y + a.height  # rows never overlap
    assert chart.height >= chart.bars[-1].y + chart.bars[-1].height


def test_dashboard_draws_full_bureau_names_with_a_tooltip(app, client, world):
    with app.app_context():
        db.session.scalar(select(Bureau).where(Bureau.code == "joint-office")).short_name = JOINT_OFFICE
        db.session.commit()
    number = make_ticket(app, world.people["a"], "JL-002", bj(d(10, 20)))
    act(app, world.people["amr"], number, "return", bj(d(10, 21)), "不属于本单位职责")
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    svg = page.select_one("#table-bureau").find_previous("svg")
    labels = [t.get_text() for t in svg.select("text.chart-label")]
    assert JOINT_OFFICE in labels and not any("…" in label for label in labels)
    tips = [g.title.get_text() for g in svg.select("g.chart-item")]
    assert f"{JOINT_OFFICE} 1" in tips
    performance = soup(client.get("/performance"))
    assert not any("…" in t.get_text() for t in performance.select("svg text.chart-label"))


def test_month_chart_on_the_page_shows_no_neighbouring_labels(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard"))
    svg = page.select_one("#table-month").find_previous("svg")
    xs = [float(t["x"]) for t in svg.select("text.chart-label")]
    labels = [t.get_text() for t in svg.select("text.chart-label")]
    assert labels and len(labels) < 12
    for (xa, la), (xb, lb) in itertools.pairwise(zip(xs, labels)):
        assert xb - xa >= (charts.text_width(la) + charts.text_width(lb)) / 2 + charts.GAP


def test_wide_tables_say_they_scroll(client, world):
    login(client, world.people["sup"])
    page = soup(client.get("/dashboard", query_string=RANGE))
    boxes = page.select(".table-scroll")
    assert boxes and all(box.select_one(".scroll-hint") for box in boxes)
    assert all(box.get("tabindex") == "0" for box in boxes)
