"""住基照会要求 (inquiry_request) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.config import OutputDirConfig
from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import Key
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.contract import checked_output, input_failure, schema_check_spec
from assets.stages.rounds import record_phase
from pipelines import agencies, clock
from pipelines.cases.rounds import PHASE_REQUESTED
from pipelines.errors import TenkenInputError
from pipelines.stages.inquiry_request import (
    build_requests,
    open_registry,
    save_registry,
    write_request_files,
)
from pipelines.stages.periodic_report import partition_figures
from schemas.codes import Scope
from schemas.inquiry_request import InquiryRequests


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "csv"},
    check_specs=[schema_check_spec("inquiry_request")],
    description=(
        "住基照会要求: 点検対象の各行に安定した照会番号を振り、住基ネットへ持ち込む "
        "個人番号検索要求CSV（F2: ヘッダなし・CRLF・Shift_JIS/JIS X 0208）を N 件ごとに分割して"
        "マニフェスト（件数・SHA-256）とともに書き出す。粒度: 点検対象1件につき1行。"
    ),
)
@masked_errors
def inquiry_request(
    context: dg.AssetExecutionContext,
    config: OutputDirConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
    extract: pl.LazyFrame,
) -> Iterator[Any]:
    """One row per 点検対象 record sent to 住基ネット: 照会番号, 宛名番号, 個人番号, file."""
    hold_partition(context, case_store)
    scope = partition_scope(context)
    # lazy input: only the columns the requests and the figures use are read
    extract_needed = extract.select("round_id", "extract_id", "scope", "atena_no", "my_number").collect()
    del extract
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    round_id = extract_needed["round_id"][0]
    agency = agencies.agency(scope.agency, settings)
    spec = agencies.jimu(scope.jimu, settings)
    registry_path = layout.inquiry_registry(scope.agency, scope.jimu, round_id)
    in_scope = extract_needed.filter(pl.col("scope") == Scope.IN_SCOPE.value)
    out_dir = (
        Path(config.out_dir) if config.out_dir else layout.request_dir(scope.agency, scope.jimu, round_id)
    )
    try:
        registry = open_registry(registry_path, round_id).extended(in_scope["atena_no"])
        requests, manifest = write_request_files(
            build_requests(extract_needed, registry.numbers),
            out_dir,
            agency=scope.agency,
            agency_name=agency.name,
            jimu=scope.jimu,
            jimu_name=spec.name,
            round_id=round_id,
            max_records_per_file=settings.request.max_records_per_file,
            now=clock.now(),
        )
    except TenkenInputError as e:
        raise input_failure(e, layout, scope, round_id, "照会要求") from None
    # the registry is saved only once the files exist, so numbers are never half-assigned
    save_registry(registry_path, registry)
    figures = partition_figures(
        extract_needed,
        None,
        agency=scope.agency,
        agency_name=agency.name,
        jimu=scope.jimu,
        jimu_name=spec.name,
    )
    record_phase(context, case_store, figures.row(0, named=True), phase=PHASE_REQUESTED)
    context.log.info(
        f"照会要求 {manifest.total_records} 件を {len(manifest.files)} ファイルに書きました: {out_dir}"
    )
    yield from checked_output(
        requests,
        {
            Key.ROUND: round_id,
            Key.REQUESTS: dg.MetadataValue.int(manifest.total_records),
            Key.REQUEST_FILES: dg.MetadataValue.int(len(manifest.files)),
            Key.OUT_DIR: dg.MetadataValue.path(str(out_dir)),
            Key.MANIFEST: dg.MetadataValue.json(manifest.to_dict()),
        },
        InquiryRequests,
        store=layout.store,
        asset="inquiry_request",
        scope=scope,
    )
