"""定期報告 files an office sends as they are: .xlsx, .csv (cp932) and a chart (.png).

The chart is drawn with IPAexGothic, shipped inside the ``matplotlib-fontja`` package, so
Japanese labels render the same on an isolated terminal with no system fonts (no tofu).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from pipelines.files.csv_writer import neutralise_formulas, write_csv_cp932
from pipelines.files.xlsx import XLSX_OPTIONS
from pipelines.privacy import write_private
from pipelines.reporting.figures import labelled, with_total
from schemas.monthly_report import FIGURES

SHEETS = {"agency_jimu": "団体×事務", "agency": "団体", "prefecture": "都道府県"}
LABEL_COLUMNS = {"agency_jimu": "agency_name", "agency": "agency_name", "prefecture": "prefecture_name"}
HEADER_NOTE = "紐付け誤り割合は 紐付け誤り件数 ÷ 点検対象件数 × 100（小数点以下3桁）"


def font_path() -> Path:
    """IPAexGothic (IPA Font License), from the matplotlib-fontja package."""
    return Path(str(resources.files("matplotlib_fontja").joinpath("fonts/ipaexg.ttf")))


def write_xlsx(levels: Mapping[str, pl.DataFrame], path: Path, *, month: str, title: str) -> Path:
    """One sheet per level, Japanese headers, number formats, frozen header, a 合計 row.

    ``month`` is how the period reads in the title (「2026-10 末時点」)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    head = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    integer = book.add_format({"num_format": "#,##0", "border": 1})
    rate = book.add_format({"num_format": "0.000", "border": 1})
    text = book.add_format({"border": 1})
    total_int = book.add_format({"num_format": "#,##0", "border": 1, "bold": True, "bg_color": "#F2F2F2"})
    total_rate = book.add_format({"num_format": "0.000", "border": 1, "bold": True, "bg_color": "#F2F2F2"})
    total_text = book.add_format({"border": 1, "bold": True, "bg_color": "#F2F2F2"})
    for level, frame in levels.items():
        sheet = book.add_worksheet(SHEETS[level])
        table = labelled(neutralise_formulas(with_total(frame, LABEL_COLUMNS[level])))
        sheet.write_string(0, 0, f"{title}（{month}）")
        sheet.write_string(1, 0, HEADER_NOTE)
        header_row = 3
        for j, name in enumerate(table.columns):
            sheet.write_string(header_row, j, name, head)
            sheet.set_column(j, j, 16 if name not in ("主な原因", "事務名", "団体名") else 28)
        last = table.height - 1
        for i, row in enumerate(table.iter_rows()):
            is_total = i == last
            for j, value in enumerate(row):
                name = table.columns[j]
                r = header_row + 1 + i
                if value is None:
                    sheet.write_blank(r, j, None, total_text if is_total else text)
                elif name == FIGURES["mislink_rate"]:
                    sheet.write_number(r, j, float(value), total_rate if is_total else rate)
                elif isinstance(value, int):
                    sheet.write_number(r, j, value, total_int if is_total else integer)
                else:
                    sheet.write_string(r, j, str(value), total_text if is_total else text)
        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, header_row + max(last, 0), len(table.columns) - 1)
    book.close()
    return write_private(path, buffer.getvalue())


def write_csv(frame: pl.DataFrame, path: Path, label_column: str) -> Path:
    """The agency × 事務 level with its 合計 row, cp932, Japanese headers; the rate with its
    3 decimals as the national format shows it (0.930, not 0.93)."""
    table = with_total(frame, label_column).with_columns(
        pl.col("mislink_rate").map_elements(
            lambda v: f"{v:.3f}", return_dtype=pl.String
        )  # ≤ a few hundred rows
    )
    write_csv_cp932(labelled(table), path)
    return path


NO_DATA = "データなし"


def write_chart(figures: pl.DataFrame, path: Path, *, month: str) -> Path:
    """Progress (本人確認作業終了 / B+C) and 紐付け誤り割合 per 事務, as a PNG.

    With no figures yet (no 事務, or no 点検対象 nor case anywhere) it says 「データなし」
    instead of drawing two empty panels.
    """
    from matplotlib import pyplot as plt

    fig = chart_figure(figures, month=month)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return write_private(path, buffer.getvalue())


def chart_figure(figures: pl.DataFrame, *, month: str) -> Any:
    """The matplotlib figure of ``write_chart`` (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.font_manager import FontProperties

    per_jimu = (
        figures.group_by("jimu_name")
        .agg(pl.col("grade_b", "grade_c", "confirmed", "mislinked", "in_scope").sum())
        .with_columns(
            pl.when(pl.col("grade_b") + pl.col("grade_c") > 0)
            .then(pl.col("confirmed") * 100 / (pl.col("grade_b") + pl.col("grade_c")))
            .otherwise(0.0)
            .alias("progress"),
            pl.when(pl.col("in_scope") > 0)
            .then(pl.col("mislinked") * 100 / pl.col("in_scope"))
            .otherwise(0.0)
            .alias("rate"),
        )
        .sort("jimu_name", descending=True)
    )
    font = FontProperties(fname=str(font_path()))
    counted = per_jimu.select(pl.sum_horizontal(pl.col("grade_b", "grade_c", "in_scope").sum())).item()
    if per_jimu.height == 0 or not counted:
        fig = plt.figure(figsize=(12, 2.5))
        fig.text(0.5, 0.45, NO_DATA, ha="center", va="center", fontproperties=font, fontsize=20)
        fig.suptitle(f"定期報告 {month}", fontproperties=font)
        return fig
    names = per_jimu["jimu_name"].to_list()
    height = max(2.5, 0.45 * len(names) + 1.5)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, height), sharey=True)
    left.barh(names, per_jimu["progress"].to_list(), color="#4472C4")
    left.set_xlim(0, 100)
    left.set_title("本人確認の進捗（%）", fontproperties=font)
    right.barh(names, per_jimu["rate"].to_list(), color="#C00000")
    right.set_title("紐付け誤り割合（%）", fontproperties=font)
    for axis in (left, right):
        for label in axis.get_yticklabels():
            label.set_fontproperties(font)
    highest = per_jimu.select(pl.col("rate").max().fill_null(0.0).cast(pl.Float64)).item()
    right.set_xlim(0, max(0.01, highest * 1.2))  # an all-zero axis would be centred on 0
    fig.suptitle(f"定期報告 {month}", fontproperties=font)
    fig.tight_layout()
    return fig


def markdown(frame: pl.DataFrame, label_column: str) -> str:
    """The table for the Dagster UI (asset metadata), with the 合計 row."""
    table = labelled(with_total(frame, label_column))
    cells = [
        [("" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))) for v in row]
        for row in table.iter_rows()
    ]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * table.width]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)
