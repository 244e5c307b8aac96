"""CSV and XLSX exports: the same tables and numbers as the page (parsed, not grepped)."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.dashboard.conftest import RANGE
from tests.helpers import login, soup

pytestmark = pytest.mark.usefixtures("frozen_today")

KEYS = ["summary", "bureau", "month", "category", "service", "overdue"]


def page_tables(client, url: str, args: dict) -> dict[str, tuple[str, list[str], list[list[str]]]]:
    """key → (caption title, header, rows) of every statistics table on the page."""
    page = soup(client.get(url, query_string=args))
    out = {}
    for t in page.select("table[data-table]"):
        caption = t.caption.find(string=True, recursive=False).strip()
        header = [th.get_text(strip=True) for th in t.thead.find_all("th")]
        rows = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in t.tbody.find_all("tr")
                if not tr.select(".empty")]
        out[t["data-table"]] = (caption, header, rows)
    # the summary is shown as figures, not as a table: rebuild it from the page
    figures = []
    for div in page.select("#kpis .kpi"):
        unit = div.select_one(".kpi-unit")
        figures.append([div.dt.get_text(strip=True), div.select_one(".kpi-value").get_text(strip=True),
                        unit.get_text(strip=True) if unit else ""])
    out["summary"] = ("总体指标", ["指标", "数值", "单位"], figures)
    return out


def norm(value):
    """A page cell shows “—” where the files have an empty cell; numbers compare as numbers
    (a spreadsheet gives 8.0 back as 8)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if value.strip() not in ("nan", "inf", "-inf") else value
    except ValueError:
        return str(value)


def csv_tables(body: bytes, titles: dict[str, str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV needs a UTF-8 byte-order mark for Excel"
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    out = {}
    by_title = {v: k for k, v in titles.items()}
    i = 0
    while i < len(lines):
        row = lines[i]
        if len(row) == 1 and row[0] in by_title:
            header, rows = lines[i + 1], []
            i += 2
            while i < len(lines) and lines[i] and not lines[i][0].startswith("说明："):
                rows.append(lines[i])
                i += 1
            out[by_title[row[0]]] = (header, rows)
        i += 1
    return out


@pytest.mark.parametrize("who,args", [("sup", RANGE), ("sup", {**RANGE, "bureau": "amr"}), ("amr_lead", RANGE)])
def test_csv_and_xlsx_carry_the_numbers_of_the_page(client, world, who, args):
    login(client, world.people[who])
    url = "/dashboard/bureau" if who == "amr_lead" else "/dashboard"
    shown = page_tables(client, url, args)
    assert set(shown) == set(KEYS)
    export_links = [a["href"] for a in soup(client.get(url, query_string=args)).select(".export-links a")]
    assert len(export_links) == 2

    response = client.get(export_links[0])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    in_csv = csv_tables(response.data, {k: v[0] for k, v in shown.items()})

    response = client.get(export_links[1])
    assert response.status_code == 200 and response.data[:2] == b"PK"
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "说明"

    for key, (title, header, rows) in shown.items():
        csv_header, csv_rows = in_csv[key]
        assert csv_header == header, key
        assert [[norm(c) for c in r] for r in csv_rows] == [[norm(c) for c in r] for r in rows], key
        sheet = book[title[:31]]
        values = list(sheet.iter_rows(values_only=True))
        assert [str(c) for c in values[0]] == header, key
        xlsx_rows = [r for r in values[1:] if any(c is not None for c in r) and not str(r[0]).startswith("说明：")]
        assert [[norm(c) for c in r] for r in xlsx_rows] == [[norm(c) for c in r] for r in rows], key


def test_export_figures_are_numbers_in_the_spreadsheet(client, world):
    login(client, world.people["sup"])
    book = load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx", query_string=RANGE).data))
    summary = {row[0]: row[1] for row in book["总体指标"].iter_rows(min_row=2, values_only=True)}
    assert summary["办件总量"] == 7 and summary["按时办结率"] == 75.0 and summary["平均办理用时"] == 8.3
    assert summary["满意度"] == 3.5 and summary["差评率"] == 25.0
    info = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert info["统计区间（提交日期）"] == "2026-09-01 至 2026-10-31" and info["单位"] == "全部单位"


def test_lead_export_ignores_another_bureau(client, world):
    login(client, world.people["amr_lead"])
    body = client.get("/dashboard/export.csv", query_string={**RANGE, "bureau": "agri"}).data.decode("utf-8-sig")
    assert "县市场监管局" in body and "县农业农村局" not in body and world.t["t5"] not in body
