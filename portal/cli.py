"""Command line: `flask --app portal init|catalog|search …` (contract in shared/DESIGN.md)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db, search
from services import catalog, schema
from services.catalog import CatalogError
from services.catalog_io import read_catalog_file, write_catalog_file


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr that takes absolute positions (n items done)."""
    with click.progressbar(length=max(total, 1), label=label, file=sys.stderr, show_pos=True) as bar:
        done = 0

        def update(n: int) -> None:
            nonlocal done
            if n > done:
                bar.update(n - done)
                done = n

        yield update


def _report_problems(exc: CatalogError) -> None:
    click.secho(f"目录文件有 {len(exc.problems)} 处问题，未写入任何内容：", fg="red", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)


@click.command("init")
@with_appcontext
@click.option("--demo", is_flag=True, help="同时加入本地试用的演示数据。")
def init_command(demo: bool) -> None:
    """升级数据库结构，载入内置的单位与服务目录，并建立搜索索引（可重复执行）。"""
    click.echo("升级数据库结构…")
    schema.upgrade(db.engine)
    session = db.session
    try:
        report = catalog.load_bundled_catalog(session, index=None)
    except CatalogError as exc:
        _report_problems(exc)
        raise SystemExit(1)
    click.echo("内置目录：" + report.summary())
    total = catalog.count_public_services(session)
    with progress_bar(total, "建立搜索索引") as update:
        count = catalog.rebuild_index(session, search.index, progress=update)
    click.echo(f"搜索索引已建立：{count} 项服务。")
    if demo:
        click.echo("演示数据：服务目录已就绪（企业与工作人员演示账号随账号功能一起提供）。")


catalog_cli = AppGroup("catalog", help="导入、导出服务目录。")


@catalog_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="同时下架文件中没有的服务（已有办件保留历史）。")
@click.option("--dry-run", is_flag=True, help="只检查并报告将发生的变化，不写入。")
def import_command(file: Path, replace: bool, dry_run: bool) -> None:
    """从 .json、.csv 或 .xlsx 文件导入服务目录（按服务编码新增或更新）。"""
    session = db.session
    try:
        data, labels = read_catalog_file(file)
        services = data.get("services") if isinstance(data.get("services"), list) else []
        with progress_bar(len(services), "导入服务") as update:
            report = catalog.import_catalog(session, None if dry_run else search.index, data, replace=replace,
                                            dry_run=dry_run, labels=labels, progress=update)
    except CatalogError as exc:
        _report_problems(exc)
        raise SystemExit(1)
    prefix = "（试运行，未写入）" if dry_run else ""
    click.echo(prefix + report.summary())


@catalog_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path) -> None:
    """把服务目录导出为 .json、.csv 或 .xlsx 文件。"""
    document = catalog.export_catalog(db.session)
    try:
        write_catalog_file(document, file)
    except CatalogError as exc:
        _report_problems(exc)
        raise SystemExit(1)
    click.echo(f"已导出 {len(document['services'])} 项服务到 {file}")


search_cli = AppGroup("search", help="搜索索引。")


@search_cli.command("reindex")
def reindex_command() -> None:
    """从数据库重建搜索索引。"""
    session = db.session
    total = catalog.count_public_services(session)
    with progress_bar(total, "重建搜索索引") as update:
        count = catalog.rebuild_index(session, search.index, progress=update)
    click.echo(f"搜索索引已重建：{count} 项服务。")


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(search_cli)
