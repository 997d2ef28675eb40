"""Problems found in input, and the exception that refuses a file.

Every problem names the file, the line, the column and what was expected, in Japanese for
the staff who fix the data, with a stable English code for scripts and tests. Problems are
collected, never raised one by one: a file is refused with **every** problem listed
(contract, "Errors").

A message never carries a 個人番号 or a resident's data. Every text a Problem carries (file
name, column, detail) passes the one masker ``pipelines.privacy.scrub`` when the Problem is
made, so a number-like run of 12 or more digits, in any grouping, is shown as
``********1234`` wherever the Problem goes: the exception text, the terminal, Dagster's run
storage, the error report files. Input values are quoted only through
``pipelines.privacy.quoted_value_expr`` (a short code as it is, anything else by its length),
since a value in the wrong column may be someone's name, address or birth date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.privacy import scrub

#: code -> (what is wrong, what was expected). Japanese text is what staff read.
CATALOGUE: dict[str, tuple[str, str]] = {
    # whole-file problems
    "FILE_NOT_FOUND": ("ファイルがありません", "存在するファイル"),
    "FILE_EMPTY": ("ファイルが空です", "見出し行とデータ行"),
    "NO_RECORDS": ("データ行がありません（見出し行のみ）", "1行以上のデータ行"),
    "ENCODING_UNDECODABLE": ("文字コードを読み取れません", "cp932（Shift_JIS）または UTF-8"),
    "ENCODING_LOOKS_UTF8": (
        "cp932 と指定されていますが、内容は UTF-8 です",
        "設定 encoding を utf-8 にするか、cp932 で保存し直したファイル",
    ),
    "ENCODING_LOOKS_CP932": (
        "UTF-8 と指定されていますが、内容は cp932（Shift_JIS）です",
        "設定 encoding を cp932 にするか、UTF-8 で保存し直したファイル",
    ),
    "UNTERMINATED_QUOTE": (
        '引用符（"）が閉じられないままファイルが終わっています（途中で切れている可能性）',
        "すべての引用符が閉じられた完全なファイル",
    ),
    "TRUNCATED_LAST_RECORD": (
        "最終行の項目数が足りません（ファイルが途中で切れている可能性）",
        "見出しと同じ項目数の最終行",
    ),
    "NOT_TEXT": (
        "文字の CSV ファイルではありません",
        "cp932 または UTF-8 の CSV（Excel では「CSV（コンマ区切り）」で保存）",
    ),
    "NOT_COMMA_SEPARATED": ("区切り文字がコンマではありません", "コンマ区切りの CSV"),
    "HEADER_REPEATED": (
        "見出し行がデータの途中にもあります（ファイルを連結した可能性）",
        "先頭に1行だけの見出し行",
    ),
    "MISSING_COLUMN": ("必須の列がありません", "契約どおりの列名（別名は設定で対応付け）"),
    "DUPLICATE_COLUMN": ("同じ列名が2回以上あります", "重複のない列名"),
    # row-level problems in F1 / F1b
    "FIELD_COUNT": ("項目数が見出しと合いません", "見出しと同じ項目数"),
    "CONTROL_CHARACTER": (
        "制御文字（改行・タブ・NUL など）が含まれています",
        "制御文字を含まない値",
    ),
    "REQUIRED_BLANK": ("必須項目が空欄です", "値"),
    "ATENA_FORMAT": ("宛名番号の形式が正しくありません", "半角英数字1〜16桁"),
    "ATENA_DUPLICATE": ("宛名番号が重複しています", "ファイル内で一意の宛名番号"),
    "MYNUMBER_NOT_ASCII": (
        "個人番号に全角数字など半角数字以外の文字が含まれています",
        "半角数字12桁",
    ),
    "MYNUMBER_LENGTH": ("個人番号の桁数が正しくありません", "半角数字12桁"),
    "MYNUMBER_CHECK_DIGIT": ("個人番号のチェックデジットが正しくありません", "検査用数字が正しい12桁"),
    "MYNUMBER_MISSING": (
        "個人番号が空欄で、統合宛名ファイルにも該当する宛名番号がありません",
        "個人番号（点検用元ファイルか統合宛名ファイルのいずれか）",
    ),
    "MYNUMBER_CONFLICT": (
        "点検用元ファイルと統合宛名ファイルで個人番号が異なります",
        "両ファイルで同じ個人番号",
    ),
    "DATE_FORMAT": (
        "日付の形式を読み取れません",
        "YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, 昭和45年12月4日, S45.12.04, 3451204 のいずれか",
    ),
    "DATE_IMPOSSIBLE": ("実在しない日付です", "暦の上で存在する日付（元号の範囲内）"),
    "DATE_FUTURE": ("未来の日付です", "抽出日以前の日付"),
    "DATE_TOO_OLD": ("明治元年より前の日付です", "1868年1月25日以降の日付"),
    "SEX_CODE": ("性別のコードが正しくありません", "1, 2, 男, 女, 男性, 女性 または空欄"),
    "RESIDENT_CLASS_CODE": ("住登区分のコードが正しくありません", "住登者, 住登外者 または空欄"),
    "ROUTE_CODE": (
        "取得経路のコードが正しくありません",
        "自動連携, 本人申告, 住基照会4情報, 住基照会3情報以下, 不明 または空欄",
    ),
    "KANA_CHARACTERS": ("氏名カナにカナ以外の文字が含まれています", "カタカナ・ひらがな・空白"),
    "FIELD_TOO_LONG": (
        "値が長すぎます（Excel の1つのセルに入る 32,767 文字を超え、確認作業リストに載せると切れます）",
        "32,767 文字以下の値（業務システムの出力を確認してください）",
    ),
    # F3 result file
    "RESULT_CODE": ("処理結果のコードが正しくありません", "00, 10, 20, 90"),
    "INQUIRY_NO_FORMAT": ("照会番号の形式が正しくありません", "半角数字10桁"),
    "INQUIRY_NO_UNKNOWN": ("送っていない照会番号が返ってきました", "照会要求で送った照会番号"),
    "INQUIRY_NO_DUPLICATE": ("同じ照会番号が2回以上返ってきました", "照会番号ごとに1行"),
    "INQUIRY_NO_MISSING": ("送った照会番号の結果がありません", "送ったすべての照会番号の結果"),
    "RESULT_OTHER_ROUND": (
        "別の点検回の照会要求に対する結果です（前回の結果CSV を渡した可能性）",
        "今回の点検回の照会要求（F2）を住基ネットで処理した結果CSV",
    ),
    "INQUIRY_NO_EXHAUSTED": (
        "1つの点検回で振れる照会番号（7桁の連番）を使い切りました",
        "1つの事務・点検回あたり 9,999,999 件以下（抽出を分けて別の事務・点検回として実行）",
    ),
    "RESULT_MYNUMBER_DIFFERS": (
        "返ってきた個人番号が送った個人番号と異なります",
        "照会要求で送ったものと同じ個人番号",
    ),
    "RESULT_FIELD_BLANK": ("該当あり（00）なのに基本4情報が空欄です", "氏名・生年月日・性別・住所"),
    "RESULT_DATE": ("生年月日が YYYYMMDD の実在する日付ではありません", "YYYYMMDD"),
    "RESULT_SEX": ("性別のコードが正しくありません", "1 または 2"),
    # F2 request file
    "NOT_JIS0208": (
        "住基ネットへ送るファイルに JIS X 0208 で表せない文字があります",
        "JIS X 0208:1990 と ASCII の範囲の文字",
    ),
    # configuration and partitions
    "AGENCY_CODE": ("地方公共団体コードが正しくありません", "検査数字が正しい6桁の地方公共団体コード"),
    "JIMU_UNKNOWN": ("事務が設定にありません", "設定された事務のスラッグ"),
    "ROUND_ID": ("点検回の形式が正しくありません", "半角英数字・ハイフン・下線 1〜20文字"),
    "ROUND_MISMATCH": ("点検回が照会要求と一致しません", "照会要求を作成したときの点検回"),
    "ROUND_TAGS_EXHAUSTED": (
        "この団体・事務の点検回が多すぎて、照会番号の先頭3桁（点検回の記号）が残っていません",
        "999 回以下の点検回（不要になった点検回の inquiry_numbers.parquet を整理）",
    ),
    "REQUEST_MISSING": ("この区分の照会要求がまだ作成されていません", "先に tenken request を実行"),
    "EXTRACT_CHANGED": (
        "照会要求を作成した後に点検用元ファイルが取り込み直されています",
        "照会要求を作成したときと同じ抽出（tenken request からやり直してください）",
    ),
    "CONFIG_INVALID": ("設定ファイルの内容が正しくありません", "説明どおりの設定値"),
    "FILE_TOO_LARGE": ("ファイルが上限を超えています", "設定 max_input_bytes 以下"),
    # F5 確認作業リスト returned by staff (tenken cases import, returned/ inbox folder)
    "WORKBOOK_UNREADABLE": ("Excel ファイル（.xlsx）として読めません", "tenken が書き出した確認作業リスト"),
    "WORKBOOK_NOT_F5": (
        "tenken の確認作業リストではありません（シート「確認作業リスト」か検証用の隠しシートがありません）",
        "照合または tenken cases export で書き出した確認作業リスト",
    ),
    "WORKBOOK_COLUMN_MISSING": (
        "確認作業リストの列がありません",
        "書き出したときのすべての列（列を削除しない）",
    ),
    "WORKBOOK_PARTITION": (
        "確認作業リストの団体・事務が置かれたフォルダと異なります",
        "受付フォルダ returned/ の団体・事務と同じ確認作業リスト",
    ),
    "WORKBOOK_FORMULA": (
        "セルに数式が入っています（数式の値は取り込みません）",
        "数式ではなく値そのもの（Excel の「値の貼り付け」で数式を値にしてから保存）",
    ),
    "CASE_ID_UNKNOWN": (
        "案件番号が案件ストアにありません",
        "この団体・事務の案件番号（行を追加したり案件番号を変更したりしない）",
    ),
    "CASE_ID_DUPLICATE": ("同じ案件番号の行が2つ以上あります", "案件ごとに1行"),
    "CASE_READONLY_EDITED": (
        "読み取り専用の列（照合結果）が書き換えられています",
        "書き出したときの値（灰色の列は変更しない）",
    ),
    "CASE_VALUE_NOT_ALLOWED": ("一覧にない値です", "一覧から選んだ値"),
    "CASE_DATE_FORMAT": ("日付として読み取れません", "2026/11/20 のような実在する日付"),
    "CASE_DATE_FUTURE": ("未来の日付です", "今日以前の日付"),
    "CASE_DATE_ORDER": ("是正日が確認日より前です", "確認日と同じか後の是正日"),
    "CASE_REVIEWER_SAME": ("確認者が担当者と同じです", "担当者とは別の人（二人で確認する）"),
    "CASE_MYNUMBER_IN_TEXT": (
        "個人番号のような12桁以上の数字が書かれています（区切り文字・全角を含む）",
        "個人番号を書かない記入（記録は消せない監査ログに残るため。番号は業務システムで確認する）",
    ),
    "CASE_NAME_CHARACTERS": (
        "担当者・確認者の名前に制御文字や書式文字（ゼロ幅スペースなど）が含まれています",
        "見えない文字を含まない名前（入力し直す）",
    ),
    "CASE_BACKWARD": ("状態を前に戻すことはできません", "現在の状態か、それより先の状態"),
    "CASE_TRANSITION": ("この状態へは移れません", "確認の流れ（説明シート）に沿った状態"),
    "CASE_FIELD_REQUIRED": ("この状態に必要な記入がありません", "説明シートの「状態ごとに必要な記入」"),
    "CASE_OUTCOME_CHANGED": (
        "確定した確認結果は変更できません",
        "記入済みの確認結果のまま（誤りなら管理者に相談）",
    ),
    "CASE_STALE": (
        "書き出した後に、この案件は別の取り込みか再照合で更新されています",
        "最新の確認作業リスト（tenken cases export で書き出し直して記入）",
    ),
    # command-line arguments and the tenken home, checked before a run starts (tenken/preflight.py)
    "PATH_NOT_A_FILE": ("ファイルではなくフォルダです", "ファイルのパス"),
    "OUT_IS_A_FILE": ("出力先が既存のファイルです", "フォルダのパス（なければ作ります）"),
    "OUT_INSIDE_INPUT": (
        "出力先が入力のフォルダか tenken home のデータフォルダの中です",
        "入力や tenken home とは別のフォルダ",
    ),
    "OUT_NOT_WRITABLE": ("出力先のフォルダに書き込めません（読み取り専用など）", "書き込めるフォルダ"),
    "DISK_FULL": (
        "書き込み先の空き容量がありません",
        "空き容量のあるフォルダ（不要なファイルを削除するか、別の出力先を指定）",
    ),
    "PARTITION_BUSY": (
        "同じ団体・事務の別の実行が処理中です（終了コード 3。何も変えていません）",
        "その実行が終わってから、もう一度実行する",
    ),
    "HOME_NOT_A_FOLDER": (
        "tenken home がフォルダではなくファイルです",
        "フォルダのパス（--home か TENKEN_HOME）",
    ),
    "HOME_MISSING": (
        "tenken home がありません（表示だけのコマンドは home を作りません）",
        "tenken request や tenken demo で使った home（--home か TENKEN_HOME で指定）",
    ),
    "HOME_LINK_OUTSIDE": (
        "tenken home の中に、home の外を指すシンボリックリンクがあります"
        "（個人番号のファイルが home の外に置かれます）",
        "home の中の実体のフォルダ・ファイル（リンクを実体に置き換えるか、home ごと移す）",
    ),
    "INTERNAL_ERROR": (
        "tenken の内部エラーです（入力の誤りではありません）",
        "ログファイル（表示されたパス）を添えてシステム管理者に連絡",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as it can be."""

    code: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # the one masker, here, so that no way of building a Problem can bypass it
        for name in ("file", "column", "detail"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, scrub(str(text)))

    @property
    def message(self) -> str:
        return CATALOGUE[self.code][0]

    @property
    def expected(self) -> str:
        return CATALOGUE[self.code][1]

    def render(self) -> str:
        where = []
        if self.file:
            where.append(f"ファイル「{self.file}」")
        if self.line is not None:
            where.append(f"{self.line}行目")
        if self.column:
            where.append(f"列「{self.column}」")
        head = " ".join(where)
        detail = f"（{self.detail}）" if self.detail else ""
        body = f"{self.message}{detail}。期待: {self.expected} [{self.code}]"
        return f"{head}: {body}" if head else body


class TenkenInputError(Exception):
    """An input refused as a whole. Carries every problem found, not only the first.

    ``str(error)`` is safe to log: it never contains a 個人番号.
    """

    #: how many problems the exception text lists; all of them go to the error report file
    SHOWN = 20

    def __init__(self, problems: Sequence[Problem], *, report_path: str | None = None):
        if not problems:
            raise ValueError("TenkenInputError needs at least one problem")
        self.problems = list(problems)
        self.report_path = report_path
        super().__init__(self._text())

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def _text(self) -> str:
        n = len(self.problems)
        lines = [f"入力に誤りがあります（{n}件）。何も保存していません。"]
        lines += ["  " + p.render() for p in self.problems[: self.SHOWN]]
        if n > self.SHOWN:
            lines.append(f"  …ほか {n - self.SHOWN} 件")
        if self.report_path:
            lines.append(f"すべての誤りの一覧: {self.report_path}")
        return "\n".join(lines)

    def with_report(self, report_path: str) -> TenkenInputError:
        return TenkenInputError(self.problems, report_path=report_path)


#: the columns of a problems frame (one row per problem), the vectorised form of Problem
PROBLEM_SCHEMA = {
    "line": pl.Int64,
    "column": pl.String,
    "code": pl.String,
    "detail": pl.String,
}


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


def problems_from_frame(frame: pl.DataFrame, file: str | None) -> list[Problem]:
    """Turn a problems frame into Problems, ordered by line then column."""
    rows = frame.sort(["line", "column"], nulls_last=True).iter_rows(named=True)
    return [
        Problem(r["code"], file=file, line=r["line"], column=r["column"], detail=r["detail"]) for r in rows
    ]


def raise_if_any(problems: Iterable[Problem]) -> None:
    found = list(problems)
    if found:
        raise TenkenInputError(found)
