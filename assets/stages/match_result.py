"""照合 (match_result) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.config import OutputDirConfig
from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import Key, counts_metadata, table_markdown
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.contract import (
    SlicedContract,
    checked_lazy_output,
    input_failure,
    schema_check_spec,
    staged,
)
from pipelines import agencies
from pipelines.errors import Problem, TenkenInputError
from pipelines.matching.settings import MatchSettings
from pipelines.parallel import OneBehind
from pipelines.privacy import ParquetParts, write_private_parquet
from pipelines.stages.match_result import (
    audit_record,
    match_inputs,
    match_slices,
    match_stats,
    write_match_outputs,
)
from schemas.match_result import MatchResults


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "csv"},
    check_specs=[schema_check_spec("match_result")],
    description=(
        "照合: 業務側の基本4情報と住基ネットの基本4情報を項目ごとに判定し"
        "（一致・表記ゆれ一致・不一致・比較不能）、マニュアル7.(6)の規則で"
        " A（確認不要）/B（要確認）/C（優先確認）に分類して照合結果.csv（F4, cp932）を書く。"
        "使った判定設定は照合設定.json として結果と一緒に保存する。粒度: 点検対象1件につき1行。"
    ),
)
@masked_errors
def match_result(
    context: dg.AssetExecutionContext,
    config: OutputDirConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
    extract: pl.LazyFrame,
    inquiry_result: pl.LazyFrame,
) -> Iterator[Any]:
    """One row per 点検対象 record: per-field judgements, 判定 A/B/C, 判定理由, 推定原因.

    Judged in slices (``match_slices``): each slice goes to F4 and to a part file as it is
    judged, the stage file is streamed from the parts, and the inputs are read lazily, so
    the whole result is never in memory.
    """
    hold_partition(context, case_store)
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    ids = pl.collect_all(
        [
            frame.select(pl.col("round_id").first(), pl.col("extract_id").first(), pl.len())
            for frame in (extract, inquiry_result)
        ]
    )
    (extract_round, extract_id, _), (result_round, result_extract_id, result_rows) = (
        ids[0].row(0),
        ids[1].row(0),
    )
    round_id = result_round if result_rows else extract_round
    out_dir = (
        Path(config.out_dir) if config.out_dir else layout.result_dir(scope.agency, scope.jimu, round_id)
    )
    with staged(layout.store, "match_result", scope) as parts:
        try:
            if extract_id != (result_extract_id if result_rows else extract_id):
                raise TenkenInputError([Problem("EXTRACT_CHANGED")])
            match_settings = MatchSettings.build(
                scope.jimu, agencies.jimu(scope.jimu, settings), settings.matching
            )
            slices = match_slices(match_inputs(extract, inquiry_result), match_settings, extract)
            contract = SlicedContract(MatchResults)
            written: list[Path] = []
            head: pl.DataFrame | None = None

            def keep(part: pl.DataFrame, path: Path) -> None:
                contract.add(part)
                written.append(write_private_parquet(path, part))

            def each_slice(behind: OneBehind) -> Iterator[pl.DataFrame]:
                nonlocal head
                for k, part in enumerate(slices):
                    # checked and stored on a second thread while F4 is written from it
                    behind.submit(keep, part, parts / f"{k:05d}.parquet")
                    head = part.clear() if head is None else head  # its schema only
                    yield part
                # the last slice is stored before F4 is kept: a failure there must remove F4
                # (it holds 個人番号) as a failure of the slices before does
                behind.wait()

            with OneBehind("tenken-match-parts") as behind:
                files = write_match_outputs(each_slice(behind), match_settings, out_dir)
        except TenkenInputError as e:
            raise input_failure(e, layout, scope, round_id, "照合") from None
        parts_written = ParquetParts(tuple(written))
        results = parts_written.scan()
        stats = match_stats(results)
        context.log.info(
            f"照合 {stats.records} 件: "
            f"A {stats.by_grade['A']} / B {stats.by_grade['B']} / C {stats.by_grade['C']}"
        )
        judgement_table = pl.DataFrame([{"項目": k, **v} for k, v in stats.by_judgement.items()]).fill_null(0)
        assert head is not None
        # the IO manager makes the stage file of the parts while this waits at the yield
        yield from checked_lazy_output(
            parts_written,
            head,
            stats.records,
            {
                Key.ROUND: round_id,
                **counts_metadata({Key.grade_count(g): n for g, n in stats.by_grade.items()}),
                "項目別の判定": table_markdown(judgement_table),
                "推定原因": dg.MetadataValue.json(stats.by_cause),
                Key.F4_FILE: dg.MetadataValue.path(files["f4_path"]),
                "cp932で表せず〓にした文字数": dg.MetadataValue.int(files["cp932_replaced_chars"]),
                "照合設定ハッシュ": match_settings.digest(),
                "照合設定": dg.MetadataValue.json(audit_record(match_settings)),
            },
            contract,
        )
