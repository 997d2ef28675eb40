"""`tenken purge`: delete what closed rounds no longer need, or show it (``--dry-run``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from assets.ops.retention import purge_plan
from pipelines import clock
from pipelines.home import HomeLayout
from pipelines.ops import retention
from pipelines.ops.retention import RoundPlan
from tenken.cli import HomeOption, resolve_home


def _show(plans: list[RoundPlan], layout: HomeLayout, *, dry_run: bool) -> None:
    if not plans:
        typer.echo("点検回がありません。")
        return
    typer.echo(f"{'団体':<8}{'事務':<26}{'点検回':<10}{'終了日':<12}判定")
    for p in plans:
        key, closed = p.status.key, p.closed_at
        typer.echo(
            f"{key.agency:<8}{key.jimu:<26}{key.round_id:<10}"
            f"{closed.date().isoformat() if closed else '-':<12}{p.verdict}"
        )
    doubtful = [(p, f) for p in plans for f in p.files if "削除しない" in f.kind]
    if doubtful:
        typer.echo("")
        typer.echo("削除しないファイル（内容を確認してください）:")
        for p, f in doubtful:
            typer.echo(f"  {p.status.key}  {f.kind}: {retention.shown(f.path, layout)}")
    doomed = [(p, f) for p in plans for f in p.to_delete]
    typer.echo("")
    if not doomed:
        typer.echo("削除するファイルはありません。")
        return
    typer.echo("削除する予定のファイル:" if dry_run else "削除するファイル:")
    for p, f in doomed:
        rows = f"（{f.rows:,} 行）" if f.rows is not None else ""
        typer.echo(f"  {p.status.key}  {f.kind}: {retention.shown(f.path, layout)}{rows}")


def purge(
    home: HomeOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="削除せず、削除するものを表示する")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="この日（YYYY-MM-DD）に削除されるものを表示する（--dry-run と併用）"),
    ] = None,
) -> None:
    """保存期間の終わった点検回の、個人番号を含むファイルを削除し、削除記録を残す。"""
    if as_of and not dry_run:
        typer.echo("--as-of は --dry-run と一緒に使ってください（先の日付で削除はしません）", err=True)
        raise typer.Exit(2)
    h = resolve_home(home)
    settings = h.settings()
    layout = HomeLayout.of(h.path)
    now = clock.now()
    try:
        when = datetime.combine(date.fromisoformat(as_of), now.timetz()) if as_of else now
    except ValueError:
        typer.echo(f"--as-of は YYYY-MM-DD で指定してください: {as_of}", err=True)
        raise typer.Exit(2) from None
    instance = h.instance()
    try:
        plans = purge_plan(instance, layout, settings, when)
    finally:
        instance.dispose()
    typer.echo(f"tenken home: {h.path}（保存期間: 終了から {settings.retention.days_after_close} 日）")
    _show(plans, layout, dry_run=dry_run)
    if dry_run:
        return
    outcome = retention.purge(layout, plans, settings.retention, now=now, method="tenken purge")
    if outcome.files:
        typer.echo(
            f"{len(outcome.rounds)} 点検回・{outcome.files} ファイル（{outcome.rows:,} 行）を削除しました。"
            f"削除記録: {outcome.record}"
        )
