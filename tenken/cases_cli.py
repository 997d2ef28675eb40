"""`tenken cases …`: the case store of 不一致確認 from the command line.

``import`` runs through Dagster like every stage (the import is recorded in the instance the
UI shows); ``export``, ``status``, ``list``, ``audit`` and ``verify`` only read the store.
Exit status as elsewhere: 0 success, 2 bad input (a refused workbook, with every problem and
an import report next to the file), 1 anything else — and 1 when ``verify`` finds the audit
trail broken.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, NoReturn

import dagster as dg
import polars as pl
import sqlalchemy as sa
import typer

from assets.metadata import Key
from pipelines import agencies
from pipelines.cases.audit import EVENT_HEADERS, cases_as_of, check_anchors, events_frame
from pipelines.cases.importer import report_path, write_report
from pipelines.cases.store import CaseStore, describe, store_url
from pipelines.cases.workbook_reader import read_meta
from pipelines.clock import JST, now
from pipelines.errors import TenkenInputError
from pipelines.files.csv_writer import write_csv_cp932
from pipelines.stages.mismatch_review import F5_FILE, export_workbook
from schemas.cases import CaseState
from tenken import preflight, runner, terminal
from tenken.cli import AgencyOption, Command, HomeOption, JimuOption, resolve_home
from tenken.runner import Home, RunFailed

app: typer.Typer = typer.Typer(
    name="cases",
    help="不一致確認の案件（案件ストア）: 確認作業リストの取り込み・書き出し、状態の集計、監査ログ",
    no_args_is_help=True,
    rich_markup_mode=None,
)

AsOfOption = Annotated[
    str, typer.Option("--as-of", help="この日の終わり（日本時間）時点の状態で数える（YYYY-MM-DD）")
]
OptionalAgency = Annotated[str, typer.Option("--agency", help="地方公共団体コード（省略時はすべて）")]
OptionalJimu = Annotated[str, typer.Option("--jimu", help="事務のスラッグ（省略時はすべて）")]


def _exit(message: str, code: int) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def _store(home: Home) -> Iterator[CaseStore]:
    settings = home.settings()
    url = store_url(settings.cases, home.path)
    try:
        store = CaseStore.open(url, pg_schema=settings.cases.pg_schema)
    except sa.exc.OperationalError as e:
        _exit(f"案件ストア {describe(url)} に接続できません: {e.orig}", 1)
    with store:
        yield store


def _end_of_day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        _exit(f"--as-of は YYYY-MM-DD で指定してください: {text}", 2)
    return datetime.combine(day, time.max, tzinfo=JST)


@app.command("import", cls=Command)
def import_(
    workbook: Annotated[
        Path, typer.Argument(metavar="確認作業リスト.xlsx", help="担当者が記入した確認作業リスト（.xlsx）")
    ],
    home: HomeOption = None,
) -> None:
    """記入済みの確認作業リストを検証し、誤りがなければ全行を案件ストアに取り込む。"""
    h = resolve_home(home)
    try:
        preflight.input_file(workbook)  # a mistyped path leaves no import report behind
    except TenkenInputError as e:
        _exit(str(e), 2)
    try:
        meta = read_meta(workbook)
    except TenkenInputError as e:
        report = write_report(report_path(workbook), None, e.problems) if workbook.parent.is_dir() else None
        _exit(str(e.with_report(str(report)) if report else e), 2)
    try:
        with terminal.listening(terminal.progress_for()):
            outcome = runner.import_cases(h, agency=meta["agency"], jimu=meta["jimu"], workbook=workbook)
    except RunFailed as e:
        _exit(str(e) + (f"\n（実行ID {e.run_id}）" if e.run_id else ""), 2 if e.input_error else 1)
    m = outcome.metadata.get("mismatch_review", {})
    typer.echo(
        f"取り込みました（{meta['agency']} {meta['jimu']}）: 適用 {m.get(Key.IMPORT_APPLIED)} 件"
        f"（状態の変更 {m.get(Key.IMPORT_STATE_CHANGES)} 件）、変更なし {m.get(Key.IMPORT_UNCHANGED)} 件"
    )
    typer.echo(f"  取込結果: {m.get(Key.IMPORT_REPORT)}")
    typer.echo(f"  確認作業リスト（最新）: {m.get(Key.F5_FILE)}")


@app.command()
def export(
    agency: AgencyOption,
    jimu: JimuOption,
    out: Annotated[Path, typer.Option("--out", help="確認作業リスト.xlsx の出力先フォルダ")],
    round_id: Annotated[str, typer.Option("--round", help="点検回（既定: 最新の点検回）")] = "",
    home: HomeOption = None,
) -> None:
    """案件ストアから確認作業リスト.xlsx（F5）を書き出す（記入済みの内容は入ったまま）。"""
    h = resolve_home(home)
    settings = h.settings()
    try:
        body = agencies.agency(agency, settings)
        spec = agencies.jimu(jimu, settings)
    except TenkenInputError as e:
        _exit(str(e), 2)
    with _store(h) as store:
        with store.reading() as conn:
            rounds = store.counts(conn, agency, jimu)["round_id"].unique().sort().to_list()
        if not rounds:
            _exit(f"{agency} {jimu} の案件はまだありません（tenken match を先に実行してください）", 2)
        chosen = round_id or rounds[-1]
        if chosen not in rounds:
            _exit(f"点検回 {chosen} の案件はありません（ある点検回: {'、'.join(rounds)}）", 2)
        info = {"団体": f"{body.code} {body.name}", "事務": f"{jimu} {spec.name}", "点検回": chosen}
        rows = export_workbook(store, agency, jimu, chosen, out / F5_FILE, info=info)
    typer.echo(f"確認作業リスト {rows} 件（点検回 {chosen}）: {out / F5_FILE}")


@app.command()
def status(
    agency: OptionalAgency = "",
    jimu: OptionalJimu = "",
    as_of: AsOfOption = "",
    home: HomeOption = None,
) -> None:
    """団体・事務・点検回ごとに、状態別の案件数を表示する。"""
    h = resolve_home(home)
    with _store(h) as store, store.reading() as conn:
        if as_of:
            cases = cases_as_of(conn, _end_of_day(as_of), agency=agency or None, jimu=jimu or None)
            counts = cases.group_by("agency", "jimu", "round_id", "state").len("count")
        else:
            counts = store.counts(conn, agency or None, jimu or None)
    if counts.height == 0:
        typer.echo("案件はありません")
        return
    states = [s.value for s in CaseState]
    table = (
        counts.pivot("state", index=["agency", "jimu", "round_id"], values="count")
        .fill_null(0)
        .sort("agency", "jimu", "round_id")
    )
    for s in states:
        if s not in table.columns:
            table = table.with_columns(pl.lit(0).alias(s))
    table = table.with_columns(pl.sum_horizontal(states).alias("合計"))
    header = ["団体", "事務", "点検回", *states, "合計"]
    if as_of:
        typer.echo(f"時点 {as_of}")
    rows = list(table.select("agency", "jimu", "round_id", *states, "合計").iter_rows())
    for line in terminal.table(header, rows, numeric=range(3, len(header))):
        typer.echo(line)


@app.command("list")
def list_(
    agency: AgencyOption,
    jimu: JimuOption,
    state: Annotated[str, typer.Option("--state", help="この状態の案件だけ（例 紐付け誤り）")] = "",
    as_of: AsOfOption = "",
    home: HomeOption = None,
) -> None:
    """案件番号と状態を一覧する（報告の件数を案件までたどるため）。"""
    h = resolve_home(home)
    moment = _end_of_day(as_of) if as_of else now()
    with _store(h) as store, store.reading() as conn:
        cases = cases_as_of(conn, moment, agency=agency, jimu=jimu)
    if state:
        cases = cases.filter(pl.col("state") == state)
    rows = list(cases.select("case_id", "round_id", "grade", "state", "outcome").iter_rows())
    for line in terminal.table(["案件番号", "点検回", "判定", "状態", "確認結果"], rows):
        typer.echo(line)
    typer.echo(f"{cases.height} 件", err=True)


@app.command()
def audit(
    out: Annotated[Path, typer.Option("--out", help="監査ログの出力先（CSV, cp932）")],
    agency: OptionalAgency = "",
    jimu: OptionalJimu = "",
    home: HomeOption = None,
) -> None:
    """監査ログ（すべての変更の記録: 誰が・いつ・何を・どのファイルから）を CSV に書き出す。"""
    h = resolve_home(home)
    with _store(h) as store, store.reading() as conn:
        events = events_frame(conn, agency=agency or None, jimu=jimu or None)
    write_csv_cp932(events.rename(EVENT_HEADERS), out)
    typer.echo(f"監査ログ {events.height} 件: {out}")


def _dagster_anchors(home: Home) -> list[tuple[int, str, str]]:
    """The chain heads every materialization of 不一致確認 recorded in the instance."""
    instance = home.instance()
    anchors, cursor = [], None
    while True:
        page = instance.fetch_materializations(dg.AssetKey("mismatch_review"), limit=1000, cursor=cursor)
        for record in page.records:
            materialization = record.asset_materialization
            meta = materialization.metadata if materialization else {}
            if Key.AUDIT_EVENTS in meta and Key.AUDIT_HEAD in meta:
                seq, head = meta[Key.AUDIT_EVENTS].value, meta[Key.AUDIT_HEAD].value
                anchors.append((int(str(seq)), str(head), f"Dagster の実行 {record.run_id[:8]}"))
        if not page.has_more:
            return anchors
        cursor = page.cursor


@app.command()
def verify(home: HomeOption = None) -> None:
    """監査ログのハッシュ連鎖、案件表が記録どおりであること、Dagster に残る末尾ハッシュとの一致を検証する。"""
    h = resolve_home(home)
    anchors = _dagster_anchors(h)
    with _store(h) as store:
        found = store.verify()
        with store.reading() as conn:
            found.problems += check_anchors(conn, anchors)
    if found.ok:
        typer.echo(
            f"監査ログは改ざんされていません: {found.events} 件、末尾ハッシュ {found.head_hash}"
            f"（Dagster の記録 {len(anchors)} 件と照合）"
        )
        return
    for problem in found.problems[:50]:
        typer.echo(problem, err=True)
    if len(found.problems) > 50:
        typer.echo(f"…ほか {len(found.problems) - 50} 件", err=True)
    _exit(f"監査ログの検証に失敗しました（{len(found.problems)} 件）", 1)
