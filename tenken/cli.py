"""`tenken`: the command line for people and for scripts.

Every command runs the same assets in the same Dagster instance (the tenken home) as the
UI. Exit status: 0 success, 2 bad input (the message names file, row, column and what was
expected), 1 anything else.

The tenken home is ``--home``, else ``TENKEN_HOME``, else ``~/.tenken``.

On the terminal a failure shows tenken's Japanese message, its code and where the details
are (the error report, the home's log file ``logs/tenken.log``, masked): never Dagster's log
lines nor a Python traceback. Arguments are checked before a run starts (``tenken.preflight``).
Module-level imports stay light (``tenken --help`` must not load Dagster): heavy modules are
imported inside the commands.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand

from assets.metadata import Key
from pipelines import clock
from pipelines.errors import Problem, TenkenInputError
from tenken import preflight, runner, terminal
from tenken.runner import Home, RunFailed, RunOutcome


class Command(TyperCommand):
    """Help without typer's artefacts: a required argument reads ``確認作業リスト.xlsx``, not
    ``{workbook}`` (flags lose ``<bool>`` through the plain help of ``rich_markup_mode=None``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


app = typer.Typer(
    name="tenken",
    help="マイナンバー紐付けの定期点検（抽出 → 住基照会要求 → 照会結果 → 照合 → 不一致確認 → 定期報告）",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tenken {version('tenken')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="版を表示して終わる")
    ] = False,
) -> None:
    """マイナンバー紐付けの定期点検（抽出 → 住基照会要求 → 照会結果 → 照合 → 不一致確認 → 定期報告）"""


HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="tenken home（既定: 環境変数 TENKEN_HOME、なければ ~/.tenken）"),
]
AgencyOption = Annotated[str, typer.Option("--agency", help="地方公共団体コード（6桁、検査数字つき）")]
JimuOption = Annotated[str, typer.Option("--jimu", help="事務のスラッグ（例 kaigo_hoken）")]
RoundOption = Annotated[str, typer.Option("--round", help="点検回（既定: 年度）")]


#: the home of the command being run, for the log file of an unexpected error
_current_home: Path | None = None


def resolve_home(home: Path | None, *, must_exist: bool = True) -> Home:
    """The tenken home, checked: a folder (never a file), without links leading outside it, and —
    unless the command makes it (``must_exist=False``: request, match, demo) — already there."""
    global _current_home
    if home is None:
        env = os.environ.get("TENKEN_HOME")
        home = Path(env) if env else Path.home() / ".tenken"
    path = home.expanduser().resolve()
    try:
        preflight.home_folder(path, must_exist=must_exist)
    except TenkenInputError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    _current_home = path
    return Home(path)


def _fail(error: RunFailed) -> NoReturn:
    typer.echo(str(error), err=True)
    if error.log:
        typer.echo(f"詳細の記録（個人番号は伏せてあります）: {error.log}", err=True)
    if error.run_id:
        typer.echo(f"（実行ID {error.run_id}。tenken ui で記録を確認できます）", err=True)
    raise typer.Exit(3 if error.busy else 2 if error.input_error else 1)


def _notes(outcome: RunOutcome, asset: str) -> None:
    """What the reader noticed and decided (encoding detected, blank trailing columns ignored)."""
    notes = str(outcome.metadata.get(asset, {}).get(Key.READ_NOTES, ""))
    for note in notes.splitlines():
        if note and note != "(なし)":
            typer.echo(f"注意: {note}")


def _files(outcome: RunOutcome, asset: str, *keys: str) -> list[str]:
    meta = outcome.metadata.get(asset, {})
    return [f"  {k}: {meta[k]}" for k in keys if k in meta]


@app.command()
def request(
    agency: AgencyOption,
    jimu: JimuOption,
    extract: Annotated[Path, typer.Option("--extract", help="F1 点検用元ファイル（CSV）")],
    out: Annotated[Path, typer.Option("--out", help="F2 とマニフェストの出力先フォルダ")],
    atena: Annotated[Path | None, typer.Option("--atena", help="F1b 統合宛名ファイル（任意）")] = None,
    round_id: RoundOption = "",
    home: HomeOption = None,
) -> None:
    """第1段階: 抽出 → 住基照会要求（F2 個人番号検索要求CSV とマニフェストを書く）。"""
    h = resolve_home(home, must_exist=False)
    try:
        with terminal.listening(terminal.progress_for()):
            outcome = runner.request(
                h,
                agency=agency,
                jimu=jimu,
                extract_file=extract,
                atena_file=atena,
                round_id=round_id,
                out_dir=out,
            )
    except RunFailed as e:
        _fail(e)
    _notes(outcome, "extract")
    meta = outcome.metadata.get("extract", {})
    req = outcome.metadata.get("inquiry_request", {})
    typer.echo(
        f"抽出 {meta.get(Key.ROWS_READ)} 件（点検対象 {meta.get(Key.IN_SCOPE)}"
        f"・対象外 {meta.get(Key.OUT_OF_SCOPE)}"
        f"・要修正 {meta.get(Key.NEEDS_FIX)}）"
    )
    typer.echo(
        f"照会要求 {req.get(Key.REQUESTS)} 件を {req.get(Key.REQUEST_FILES)} ファイルに書きました: {out}"
    )
    typer.echo("  manifest.json と SHA256SUMS で件数とハッシュを確認して統合端末へ持ち込んでください。")


@app.command()
def match(
    agency: AgencyOption,
    jimu: JimuOption,
    result: Annotated[Path, typer.Option("--result", help="F3 結果CSV、または F3 が入ったフォルダ")],
    out: Annotated[Path, typer.Option("--out", help="照合結果.csv（F4）と確認作業リスト.xlsx（F5）の出力先")],
    round_id: RoundOption = "",
    home: HomeOption = None,
) -> None:
    """第2段階: 照会結果 → 照合 → 不一致確認 → 定期報告（F4 と F5 を書く）。"""
    h = resolve_home(home, must_exist=False)
    try:
        with terminal.listening(terminal.progress_for()):
            outcome = runner.match(
                h, agency=agency, jimu=jimu, result_path=result, round_id=round_id, out_dir=out
            )
    except RunFailed as e:
        _fail(e)
    _notes(outcome, "inquiry_result")
    m = outcome.metadata.get("match_result", {})
    grades = " / ".join(f"{g} {m.get(Key.grade_count(g))}" for g in "ABC")
    typer.echo(f"照合 {grades}")
    for line in _files(outcome, "match_result", Key.F4_FILE) + _files(
        outcome, "mismatch_review", Key.F5_FILE
    ):
        typer.echo(line)
    f5 = outcome.metadata.get("mismatch_review", {}).get(Key.F5_FILE)
    if f5:
        _next_steps([Path(str(f5))], agency, jimu, home)


def _next_steps(workbooks: list[Path], agency: str, jimu: str, home: Path | None) -> None:
    """Name the workbook staff fill in next, and the `tenken cases` commands around it."""
    home_arg = f" --home {home}" if home else ""
    typer.echo("")
    typer.echo("次の作業: 担当者が確認作業リスト.xlsx（判定 B・C の案件）に確認結果を記入し、取り込みます。")
    for workbook in workbooks:
        typer.echo(f"  {workbook}")
    typer.echo(f"  tenken cases import <記入済みの確認作業リスト.xlsx>{home_arg}   … 取り込み")
    typer.echo(f"  tenken cases status{home_arg}   … 状態別の件数")
    typer.echo(f"  tenken cases list --agency {agency} --jimu {jimu}{home_arg}   … 案件の一覧")


@app.command()
def demo(
    home: HomeOption = None,
    scale: Annotated[float, typer.Option("--scale", help="件数の倍率（1.0 で合計約1万件）")] = 1.0,
) -> None:
    """合成データと住基ネット模擬応答（シミュレータ）で両段階を実行し、見る場所を表示する。"""
    from pipelines.stages.mismatch_review import F5_FILE
    from tenken.demo import DEMO_PARTITIONS, SIMULATOR_NAME, run_demo

    h = resolve_home(home, must_exist=False)
    typer.echo(f"tenken home: {h.path}")
    typer.echo(f"合成データ（架空の人物）を作り、{SIMULATOR_NAME}で照会結果を返します。")
    try:
        with terminal.listening(terminal.progress_for()):
            results = run_demo(h, scale=scale)
    except RunFailed as e:
        _fail(e)
    typer.echo("")
    rows = [
        [
            r.agency,
            r.jimu,
            *(r.counts.get(k, 0) for k in ("点検対象件数", "A件数", "B件数", "C件数")),
            f"{r.agreement:.2%}",
        ]
        for r in results
    ]
    for line in terminal.table(
        ["団体", "事務", "点検対象", "A", "B", "C", "正解一致率"], rows, numeric=(2, 3, 4, 5, 6)
    ):
        typer.echo(line)
    typer.echo("")
    typer.echo(f"{len(DEMO_PARTITIONS)} 区分の両段階が終わりました。結果の場所:")
    for r in results:
        typer.echo(f"  {r.out_dir}")
    # the monthly report and the recheck calendar, so the UI shows every asset materialized
    month = clock.now().strftime("%Y-%m")
    try:
        reported = runner.report(h, month=month)
        runner.status(h)
    except RunFailed as e:
        _fail(e)
    meta = reported.metadata.get("monthly_report", {})
    typer.echo(f"定期報告 {month}（現在までの件数）: {meta.get(Key.REPORT_XLSX, '')}")
    typer.echo("  tenken report --month YYYY-MM --out DIR で任意の月、tenken status で点検周期を表示します。")
    typer.echo("実行記録と系譜（lineage）は次のコマンドで表示できます（http://127.0.0.1:3000）:")
    home_arg = f" --home {h.path}" if home else ""
    typer.echo(f"  tenken ui{home_arg}")
    first = results[0]
    _next_steps([r.out_dir / F5_FILE for r in results], first.agency, first.jimu, h.path if home else None)


@app.command()
def report(
    month: Annotated[str, typer.Option("--month", help="対象月 YYYY-MM（当月は現在までの件数）")],
    out: Annotated[Path, typer.Option("--out", help="定期報告（.xlsx / .csv / .png）の出力先フォルダ")],
    prefecture: Annotated[
        str, typer.Option("--prefecture", help="都道府県コード（例 390003 / 39）。その県だけ")
    ] = "",
    home: HomeOption = None,
) -> None:
    """定期報告（月次）: 月末時点の件数を団体×事務・団体・都道府県ごとに書き出す。"""
    from datetime import datetime

    from pipelines.reporting.monthly import period_label

    h = resolve_home(home)
    try:
        outcome = runner.report(h, month=month, prefecture=prefecture, out_dir=out)
    except RunFailed as e:
        _fail(e)
    meta = outcome.metadata.get("monthly_report", {})
    if prefecture:
        meta = _prefecture_view(meta)
    as_of = datetime.fromisoformat(str(meta[Key.AS_OF]))
    typer.echo(f"定期報告 {period_label(month, as_of, closed=bool(meta.get(Key.MONTH_CLOSED)))}")
    for line in _report_summary(meta):
        typer.echo(line)
    for key in (Key.REPORT_XLSX, Key.REPORT_CSV, Key.REPORT_CHART):
        if key in meta:
            typer.echo(f"  {key}: {meta[key]}")


def _prefecture_view(meta: dict[str, Any]) -> dict[str, Any]:
    """The roll-up's own entries (kept under ``都道府県 <code>/`` beside the all-agency figures)."""
    from assets.reporting.monthly_report import PREFECTURE_PREFIX

    return {
        key.split("/", 1)[1]: value
        for key, value in meta.items()
        if key.startswith(PREFECTURE_PREFIX) and "/" in key
    }


def _report_summary(meta: dict[str, Any]) -> list[str]:
    """A few lines instead of the 19-column table (the table is in the files and the UI)."""
    totals = "、".join(
        f"{k.removesuffix('件数')} {meta[k]:,} 件"
        for k in ("点検対象件数", "本人確認作業終了件数", "紐付け誤り件数")
        if isinstance(meta.get(k), int)
    )
    states = "、".join(f"{k.removeprefix('状況/')} {v}" for k, v in meta.items() if k.startswith("状況/"))
    return [f"  合計: {totals}" if totals else "", f"  団体×事務の状況: {states}" if states else ""]


@app.command()
def status(home: HomeOption = None) -> None:
    """点検周期: 団体×事務ごとの前回の点検回・次回期限・状況・未完了の案件数。"""
    from pipelines.reporting.calendar import LABELS, STATUS_OVERDUE

    h = resolve_home(home)
    try:
        _, table = runner.status(h)
    except RunFailed as e:
        _fail(e)
    if table.height == 0:
        typer.echo("まだ点検回がありません（tenken request で始めるか、recheck.plan に予定を書いてください）")
        return
    headers = [LABELS[c] for c in table.columns]
    numeric = [i for i, dtype in enumerate(table.dtypes) if dtype.is_integer()]
    for line in terminal.table(headers, list(table.iter_rows()), numeric=numeric):
        typer.echo(line)
    late = sum(1 for v in table["status"].to_list() if v == STATUS_OVERDUE)
    if late:
        typer.echo(f"{STATUS_OVERDUE}: {late} 区分（tenken ui の recheck_calendar のチェックも赤です）")


@app.command()
def ui(
    home: HomeOption = None,
    port: Annotated[int, typer.Option("--port", help="ポート番号")] = 3000,
    host: Annotated[str, typer.Option("--host", help="待ち受けアドレス（既定は自端末のみ）")] = "127.0.0.1",
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="監査用: 閲覧のみ（実行・再実行・スケジュールやセンサーの切り替えはできない）",
        ),
    ] = False,
) -> None:
    """Dagster の画面を開く（既定で 127.0.0.1 のみで待ち受け）。監査担当者は --read-only で開く。"""
    from assets.instance import ensure_home
    from tenken.fonts import font_warning

    h = resolve_home(home)  # a home that does not exist is refused, not made
    ensure_home(h.path)
    warning = font_warning()
    if warning:
        typer.echo(warning, err=True)
    env = {**os.environ, "DAGSTER_HOME": str(h.path), "DAGSTER_DISABLE_TELEMETRY": "yes"}
    shared = h.settings().instance.executor == "celery"
    module = "assets.shared_definitions" if shared else "assets.definitions"
    args = ui_command(host=host, port=port, read_only=read_only, module=module)
    typer.echo(f"DAGSTER_HOME={h.path} {' '.join(args[1:])}")
    os.execvpe(args[0], args, env)


@app.command()
def evidence(
    agency: AgencyOption,
    jimu: JimuOption,
    open_: Annotated[bool, typer.Option("--open", help="既定のブラウザで開く")] = False,
    home: HomeOption = None,
) -> None:
    """証跡一覧（Great Expectations Data Docs）のパスを表示する（--open でブラウザで開く）。"""
    from pipelines.home import HomeLayout
    from pipelines.ops.evidence import INDEX_FILE

    h = resolve_home(home)
    index = HomeLayout.of(h.path).evidence_dir(agency, jimu) / INDEX_FILE
    if not index.is_file():
        typer.echo(
            f"{agency} {jimu} の証跡はまだありません（tenken request / match の後に作られます）", err=True
        )
        raise typer.Exit(2)
    typer.echo(str(index))
    if open_:
        import webbrowser

        webbrowser.open(index.as_uri())


def ui_command(*, host: str, port: int, read_only: bool, module: str = "assets.definitions") -> list[str]:
    """The command ``tenken ui`` runs: ``dagster dev`` (webserver + daemon: schedules and sensors
    run), or for auditors Dagster's own read-only webserver alone (nothing can be launched or
    turned on/off, and no daemon starts work). ``module``: the shared deployment's definitions
    where runs go to Celery workers."""
    if read_only:
        exe = shutil.which("dagster-webserver")
        args = [exe] if exe else [sys.executable, "-m", "dagster_webserver"]
        return [*args, "-m", module, "-h", host, "-p", str(port), "--read-only"]
    exe = shutil.which("dagster") or sys.executable
    args = [exe] if exe != sys.executable else [exe, "-m", "dagster"]
    return [*args, "dev", "-m", module, "-h", host, "-p", str(port)]


from tenken import cases_cli  # noqa: E402 - `tenken cases …` reuses the options defined above

app.add_typer(cases_cli.app, name="cases")

from tenken.purge_cli import purge  # noqa: E402 - `tenken purge` reuses the options defined above

app.command()(purge)

from tenken.worker_cli import worker  # noqa: E402 - `tenken worker` reuses the options defined above

app.command()(worker)


def main() -> None:
    # everything tenken creates — Dagster's storage and logs included — is its owner's only
    global _current_home
    os.umask(0o077)
    _current_home = None
    try:
        app()
    except Exception as e:
        # an unexpected error: its traceback (which may quote data, as polars does) goes to the
        # log file, masked; the terminal gets the message, the code and where the details are
        log = _internal_error_log(traceback.format_exc())
        typer.echo(Problem("INTERNAL_ERROR", detail=type(e).__name__).render(), err=True)
        typer.echo(f"詳細の記録（個人番号は伏せてあります）: {log}", err=True)
        raise SystemExit(1) from None


def _internal_error_log(text: str) -> Path:
    if _current_home is not None and _current_home.is_dir():
        return terminal.append_log(_current_home, [text])
    from pipelines.privacy import scrub

    fd, name = tempfile.mkstemp(prefix="tenken-error-", suffix=".log")  # 0600, no home to hold it
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(scrub(text))
    return Path(name)
