"""Command line: `flask --app portal init|catalog|search …` (contract in shared/DESIGN.md)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.orm import Session

from portal.extensions import db, search
from services import outbox as search_sync
from services import seed
from services.accounts import users as accounts
from services.catalog import records as catalog
from services.catalog.documents import count_public_services
from services.catalog.formats import read_catalog_file, write_catalog_file
from services.catalog.indexing import rebuild_index
from services.catalog.problems import CatalogError
from services.core import schema
from services.core.clock import utcnow
from services.core.errors import ServiceError, ValidationFailed
from services.demo import run as demo_county
from services.models import User
from services.stats import cache as stats_cache
from services.tickets import actions as tickets
from services.tickets import mail


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
@click.option("--demo", is_flag=True, help="同时加入本地试用的演示账号和几个月的演示办件。")
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
    click.echo(f"一件事套餐：{seed.load_bundles(session)} 个；"
               f"新载入分办规则：{seed.load_routing_rules(session)} 条。")
    if demo:
        load_demo(session)
    rebuild_indexes(session)  # after the demo: its tickets are in the ticket index at once


def load_demo(session: Session) -> None:
    """Demo accounts, then the demo county's requests (once), their history's mail in MAIL_FOLDER."""
    created = seed.load_demo_accounts(session)
    click.echo(f"演示账号（密码均为 {seed.DEMO_PASSWORD}）：" + "、".join(u for u, *_ in seed.DEMO_ACCOUNTS)
               + (f"；本次新建 {len(created)} 个" if created else "；均已存在"))
    config = current_app.config
    played = demo_county.play(session, config["UPLOAD_DIR"], config["MAIL_FOLDER"])
    if played.skipped:
        click.echo("演示办件已存在，未重复创建。")
        return
    stats_cache.clear_cache(session)
    click.echo(f"演示办件：{played.requests} 件申请、{played.tickets} 个办件；"
               f"历史邮件 {played.mails} 封已写入本地邮箱 {config['MAIL_FOLDER']}。")
    for problem in played.problems:
        click.secho(f"注意：演示办件未能完整生成：{problem}", fg="yellow", err=True)


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
        services = data.get("services")
        with progress_bar(len(services) if isinstance(services, list) else 0, "导入服务") as update:
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


def rebuild_indexes(session) -> None:
    """Both indexes from the database, with progress bars; the outbox position moves past them."""
    started = utcnow()
    with progress_bar(count_public_services(session), "重建服务目录索引") as update:
        count = rebuild_index(session, search.index, progress=update)
    click.echo(f"服务目录索引已建立：{count} 项服务。")
    with progress_bar(search_sync.count_tickets(session), "重建办件索引") as update:
        tickets_count = search.rebuild_tickets(session, progress=update)
    # Not simply the newest row: one written before the rebuild may commit after it read that part.
    search.position.write(max(search.position.read(), search_sync.position_after_rebuild(session, started)))
    click.echo(f"办件索引已建立：{tickets_count} 件。")


@search_cli.command("reindex")
def reindex_command() -> None:
    """从数据库重建搜索索引（服务目录和办件）。"""
    rebuild_indexes(db.session)


@search_cli.command("sync")
@click.option("--follow", is_flag=True, help="持续运行，随时应用新的变更（每台主机运行一个）。")
@click.option("--interval", default=1.0, show_default=True, help="--follow 时两次检查之间的秒数。")
def sync_command(follow: bool, interval: float) -> None:
    """把数据库中的变更（搜索发件箱）应用到本机的搜索索引。"""
    import signal
    import time

    stop = {"now": False}

    def _stop(*_args):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    last_prune = 0.0
    seen: set[int] = set()
    while not stop["now"]:
        with Session(bind=db.engine) as session:
            report = search_sync.apply_pending(session, search.index, search.tickets, search.position, seen=seen,
                                               rebuild=True)
            if report.services or report.tickets:
                click.echo(f"已同步：服务 {report.services} 项，办件 {report.tickets} 件（位置 {report.position}）")
            more = search_sync.current_max_id(session) > report.position
            if follow and time.monotonic() - last_prune > 3600:
                search_sync.prune(session)
                last_prune = time.monotonic()
        if more:
            continue
        if not follow:
            break
        time.sleep(interval)


user_cli = AppGroup("user", help="账号管理。")


def _report_fields(exc: ValidationFailed) -> None:
    click.secho("未创建账号：", fg="red", err=True)
    for name, message in exc.fields.items():
        click.echo(f"  - {name}：{message}", err=True)


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(User.ROLES), help="角色")
@click.option("--bureau", "bureau", help="所属单位编码（办件人员、部门负责人必填）")
@click.option("--uscc", "uscc_code", help="统一社会信用代码（企业账号）")
@click.option("--company", help="企业名称（企业账号）")
@click.option("--email", help="电子邮箱")
@click.option("--name", "display_name", help="显示名称")
@click.option("--password-stdin", is_flag=True, required=True, help="从标准输入读取密码")
def user_create_command(username, role, bureau, uscc_code, company, email, display_name, password_stdin):
    """创建账号（与页面注册相同的校验）。密码从标准输入读取。"""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(db.session, username, role, password, bureau=bureau, uscc_code=uscc_code,
                                    company=company, email=email, display_name=display_name)
    except ValidationFailed as exc:
        _report_fields(exc)
        raise SystemExit(1)
    where = f"，单位 {user.bureau.code}" if user.bureau else ""
    click.echo(f"已创建账号 {user.username}（{user.role}{where}）")


@user_cli.command("token")
@click.argument("username")
@click.option("--name", default="命令行生成", help="令牌用途说明")
def user_token_command(username, name):
    """为账号生成一个新的 API 令牌并打印出来。"""
    try:
        user = accounts.get_by_username(db.session, username)
    except ServiceError as exc:  # no such account
        click.secho(exc.message, fg="red", err=True)
        raise SystemExit(1)
    click.echo(accounts.issue_token(db.session, user, name))


notify_cli = AppGroup("notify", help="通知。")


@notify_cli.command("send")
def notify_send_command():
    """发送待发邮件；失败的留在发件箱中，下次重试（适合放进 cron）。"""
    report = mail.send_pending(db.session, mail.settings_from(current_app.config))
    click.echo(f"已发送 {report.sent} 封，失败 {report.failed} 封。")
    if report.failed:
        click.secho(f"最后一个错误：{report.error}", fg="yellow", err=True)
        raise SystemExit(2)


sla_cli = AppGroup("sla", help="办理时限。")


@sla_cli.command("check")
def sla_check_command():
    """督办超期办件、标记超过签收期限的办件并通知（可重复执行，适合放进 cron）。"""
    report = tickets.sla_check(db.session)
    click.echo(f"督办超期办件 {len(report.supervised)} 件，超过签收期限 {len(report.late_acceptance)} 件。")
    for number in report.supervised:
        click.echo(f"  督办：{number}")
    for number in report.late_acceptance:
        click.echo(f"  未按期签收：{number}")
    for warning in report.warnings:
        click.secho(f"注意：{warning}", fg="yellow", err=True)


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(catalog_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(sla_cli)
