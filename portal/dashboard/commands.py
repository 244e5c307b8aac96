"""`flask --app portal stats …`: statistics from the command line (cron)."""
from __future__ import annotations

import click
from flask import current_app

from portal.dashboard import bp
from portal.dashboard.cache import dashboard_cache_seconds, min_compute_seconds, performance_cache
from portal.extensions import db
from services.stats.reports import refresh_defaults


@bp.cli.command("refresh")
@click.option("--bureaus", is_flag=True, help="同时计算各单位负责人看到的本单位统计。")
def refresh_command(bureaus: bool) -> None:
    """重新计算统计页面默认显示的数据（全县最近 12 个月、政务公开本年度），供各进程共用。

    适合放进 cron，间隔略短于页面保留数据的时间（DASHBOARD_CACHE_SECONDS，默认 5 分钟），
    例如每 4 分钟一次：打开统计页面的人就不必等待计算。"""
    app = current_app  # performance_cache() keeps its cache on the app object itself
    done = refresh_defaults(
        db.session, bureaus=bureaus, dashboard_seconds=dashboard_cache_seconds(app),
        performance_seconds=performance_cache(app).ttl, min_compute=min_compute_seconds(app))
    for what, seconds in done:
        click.echo(f"{what}：{seconds:.1f} 秒")
