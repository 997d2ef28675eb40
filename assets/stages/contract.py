"""The contract check of each stage, and how a stage's output and refusal are reported.

The pandera contract of each stage runs as a **blocking** check inside the asset: a frame
that breaks its contract stops the graph before the next stage reads it. Failure details
name columns and checks, never values (a value could be a 個人番号).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandera.errors
import pandera.polars as pa
import polars as pl

from assets.metadata import described_column_schema, table_markdown
from assets.partitions import PartitionScope, inspection_partitions
from pipelines.errors import TenkenInputError
from pipelines.files.csv_writer import write_csv_cp932
from pipelines.home import HomeLayout
from pipelines.privacy import ParquetParts, private_dir, write_private_parquet

SCHEMA_CHECK = "schema_contract"


def schema_check_spec(asset: str) -> dg.AssetCheckSpec:
    # a check spec with partitions_def is a preview API in dagster 1.13; it is what records
    # the partition on each check result, which auditors need
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            SCHEMA_CHECK,
            asset=asset,
            blocking=True,
            partitions_def=inspection_partitions,
            description="段階の契約（pandera スキーマ）を満たすこと。満たさなければ後続を止める",
        )


def contract_failures(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (column, check) ``frame`` breaks, with how many failure cases (件数)."""
    try:
        model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as e:
        cases = e.failure_cases
        return (
            cases.group_by("column", "check").agg(pl.len().alias("件数"))
            if isinstance(cases, pl.DataFrame)
            else pl.DataFrame({"column": ["?"], "check": [str(type(cases))], "件数": [0]})
        ).cast({"column": pl.String, "check": pl.String, "件数": pl.Int64})
    return contract_failures_empty()


def contract_failures_empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "件数": pl.Int64})


def contract_result(failures: pl.DataFrame, rows: int) -> dg.AssetCheckResult:
    """The blocking check's result from ``contract_failures`` (summed over slices)."""
    if failures.height:
        summary = (
            failures.group_by("column", "check", maintain_order=True)
            .agg(pl.col("件数").sum())
            .sort("件数", descending=True)
        )
        return dg.AssetCheckResult(
            check_name=SCHEMA_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"違反": table_markdown(summary)},
        )
    return dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=True, metadata={"行数": rows})


def schema_result(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> dg.AssetCheckResult:
    return contract_result(contract_failures(model, frame), frame.height)


class SlicedContract:
    """The contract of a frame written in slices: every check per slice, and uniqueness
    (the one check that spans slices) over the whole result, read lazily."""

    UNIQUENESS = "field_uniqueness"

    def __init__(self, model: type[pa.DataFrameModel]) -> None:
        self.model = model
        self.failures: list[pl.DataFrame] = []

    def add(self, part: pl.DataFrame) -> None:
        self.failures.append(contract_failures(self.model, part).filter(pl.col("check") != self.UNIQUENESS))

    def result(self, whole: pl.LazyFrame, rows: int) -> dg.AssetCheckResult:
        unique = [name for name, column in self.model.to_schema().columns.items() if column.unique]
        duplicated = (
            whole.select([pl.col(c).is_duplicated().sum() for c in unique]).collect() if unique else None
        )
        found = [
            pl.DataFrame({"column": [c], "check": [self.UNIQUENESS], "件数": [int(duplicated[c].item())]})
            for c in unique
            if duplicated is not None and duplicated[c].item()
        ]
        frames = [*self.failures, *found]
        failures = pl.concat(frames, how="vertical_relaxed") if frames else contract_failures_empty()
        return contract_result(failures, rows)


def input_failure(
    error: TenkenInputError, layout: HomeLayout, scope: PartitionScope, round_id: str, stage: str
) -> dg.Failure:
    """Write every problem to an error report and turn the error into a step failure."""
    report_dir = layout.errors_dir(scope.agency, scope.jimu, round_id)
    report = report_dir / f"{stage}_誤り一覧.csv"
    rows = pl.DataFrame(
        {
            "ファイル": [p.file for p in error.problems],
            "行": [p.line for p in error.problems],
            "列": [p.column for p in error.problems],
            "誤りの内容": [p.message for p in error.problems],
            "詳細": [p.detail for p in error.problems],
            "期待される値": [p.expected for p in error.problems],
            "コード": [p.code for p in error.problems],
        },
        schema_overrides={"行": pl.Int64},
    )
    write_csv_cp932(rows, report)
    final = error.with_report(str(report))
    return dg.Failure(
        description=str(final),
        metadata={
            "誤りの件数": len(error.problems),
            "誤りのコード": ",".join(sorted(error.codes)),
            "誤り一覧": dg.MetadataValue.path(str(report)),
        },
        allow_retries=False,
    )


@contextlib.contextmanager
def staged(store: Path, asset: str, scope: PartitionScope) -> Iterator[Path]:
    """A private folder beside the stage files for a result the asset writes itself before the
    IO manager moves it into place (it holds 個人番号); removed afterwards. Folders a killed run
    left behind for this partition go first (one run per partition at a time)."""
    private_dir(store)
    prefix = f".{asset}-{scope.agency}-{scope.jimu}-"
    for stale in store.glob(f"{prefix}*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=store))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def checked_output(
    frame: pl.DataFrame,
    metadata: dict[str, Any],
    model: type[pa.DataFrameModel],
    *,
    store: Path,
    asset: str,
    scope: PartitionScope,
) -> Iterator[Any]:
    """The asset's output with standard metadata, then its schema check.

    The frame is written here and handed to the IO manager as ``ParquetParts``: a CLI phase
    runs in-process, where Dagster keeps every output value until the run ends, so a frame
    handed over stayed in memory through the later stages (照会結果 at 10M rows: 3 GB
    during 照合, the phase's peak).
    """
    with staged(store, asset, scope) as folder:
        check = schema_result(model, frame)
        rows, schema = frame.height, described_column_schema(frame, model)
        parts = ParquetParts((write_private_parquet(folder / "stage.parquet", frame),))
        yield dg.Output(
            parts,
            metadata={
                "dagster/row_count": dg.MetadataValue.int(rows),
                "dagster/column_schema": schema,
                **metadata,
            },
        )
        yield check


def checked_lazy_output(
    parts: ParquetParts,
    head: pl.DataFrame,
    rows: int,
    metadata: dict[str, Any],
    contract: SlicedContract,
) -> Iterator[Any]:
    """``checked_output`` for a result written in slices: ``parts`` are the slices (the IO
    manager makes the stage file of them), ``head`` has its schema (no rows), ``contract``
    has seen every slice. The check reads the parts before they become the stage file."""
    check = contract.result(parts.scan(), rows)
    yield dg.Output(
        parts,
        metadata={
            "dagster/row_count": dg.MetadataValue.int(rows),
            "dagster/column_schema": described_column_schema(head, contract.model),
            **metadata,
        },
    )
    yield check
