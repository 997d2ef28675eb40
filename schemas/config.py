"""tenken.yaml: the agency's settings, validated on load.

Configuration is data. The built-in defaults (``schemas/data/*.yaml``) hold the contract's
事務 table; an agency's ``tenken.yaml`` (in its tenken home, or given with ``--config``) adds
事務, maps its own column names and codes onto the contract, and sets the few choices the
contract leaves open. Nothing here reads the environment.

Every setting and its default is documented in the README ("Configuration").
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ROUND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Holds(_Strict):
    """Which of 基本4情報 a 事務 keeps. A field not held is left out of the A/B/C rules."""

    name: bool = True
    kana: bool = True
    birth_date: bool = True
    sex: bool = True
    address: bool = True


class JimuSpec(_Strict):
    name: str = Field(description="事務の名称（日本語）")
    holds: Holds = Holds()


class InputSettings(_Strict):
    encoding: Literal["auto", "cp932", "utf-8"] = Field(
        "auto",
        description=(
            "入力ファイルの文字コード。auto は cp932 を既定に UTF-8（BOM 有無とも）を判別して報告する"
        ),
    )
    on_row_error: Literal["reject", "quarantine"] = Field(
        "reject",
        description=(
            "行の誤り: reject はファイル全体を受け付けない（全件列挙）、quarantine は要修正として案件化"
        ),
    )
    max_input_bytes: int | None = Field(
        None,
        ge=1,
        description=(
            "これを超える入力ファイルは読み込まずに理由と対処を表示する（メモリ保護）。"
            "未設定なら端末のメモリから決める（メモリ ÷ 20。24 GB の端末で約 1.2 GB、F1 で約 1,100 万行）"
        ),
    )


class ScopeSettings(_Strict):
    exclude_auto_linked: bool = Field(True, description="取得経路=自動連携 を対象外にする（マニュアル5.(1)）")


class RequestSettings(_Strict):
    max_records_per_file: int = Field(100_000, ge=1, le=10_000_000, description="F2 の1ファイルの上限件数")


class RetentionSettings(_Strict):
    """How long a closed round's files holding 個人番号 are kept (manual 12.: delete them as
    soon as they are no longer needed). A round is closed when its 照合 has completed and no
    case of it is open; see ``pipelines.ops.retention``."""

    days_after_close: int = Field(
        90, ge=0, le=3650, description="点検回の終了（照合の完了と全案件の完了の遅い方）から削除までの日数"
    )
    abandoned_after_days: int = Field(
        365,
        ge=1,
        le=3650,
        description=(
            "第1段階（照会要求）のあと照合されないまま、この日数が過ぎた点検回は放棄とみなし、"
            "その時点で終了した点検回として扱う（後の点検回が第1段階を終えたときも同じ）"
        ),
    )
    hold: list[str] = Field(
        default_factory=list,
        description="削除せずに残す点検回（団体コード/事務/点検回。例 392014/kaigo_hoken/2026）",
    )

    @field_validator("hold")
    @classmethod
    def _round_paths(cls, v: list[str]) -> list[str]:
        bad = [h for h in v if h.count("/") != 2]
        if bad:
            raise ValueError(f"団体コード/事務/点検回 の形で書いてください: {bad}")
        return v


class EvidenceSettings(_Strict):
    """The Great Expectations evidence checks (監査の証跡). pandera stays the gate either way."""

    enabled: bool = Field(
        True,
        description=(
            "段階ごとに GX の証跡（Data Docs）を作る。false にすると証跡のチェックは"
            "「作成していない」という警告になる（入力の検証と段階の契約チェックはそのまま）"
        ),
    )


class MatchingOptions(_Strict):
    """Choices the manual leaves open; saved with every 照合 result for audit."""

    small_kana_is_variant: bool = Field(
        True,
        description="キヨウコ/キョウコ のような小書き文字の違いを表記ゆれとみなす（旧半角システム対策）",
    )
    itaiji_map_file: str | None = Field(
        None,
        description=(
            "異体字対応表: CSV（元の文字,縮退後の文字）または MJ縮退マップ（MJShrinkMap.*.json）。"
            "未指定は内蔵表のみ"
        ),
    )
    mj_list_file: str | None = Field(
        None, description="MJ縮退マップを使うときの MJ文字情報一覧表（CSV または xlsx）"
    )
    town_whole_name: bool = Field(
        False,
        description=(
            "町字を全体で比較する（厳格）。既定の false はマニュアル脚注11のとおり前方2文字の一致で"
            "表記ゆれ一致とし、判定理由に「前方2文字のみ一致」と示す"
        ),
    )
    town_master_file: str | None = Field(
        None,
        description=(
            "団体が用意する町字マスター（アドレス・ベース・レジストリ mt_town_*.csv）。指定すると、"
            "両側の町字がともにマスターにある別の町字のとき、前方2文字が一致しても不一致とする"
        ),
    )


class CaseStoreSettings(_Strict):
    """Where the cases of 不一致確認 and their audit trail are kept (one store per installation)."""

    url: str | None = Field(
        None,
        description=(
            "共有の案件ストア（PostgreSQL）の接続先。例 postgresql+psycopg2://tenken@dbhost/tenken"
            "（パスワードは .pgpass か PGPASSWORD で渡し、ここには書かない）。未指定なら sqlite_file"
        ),
    )
    sqlite_file: str = Field(
        "data/cases.sqlite", description="既定の案件ストア（SQLite）。tenken home からの相対パスか絶対パス"
    )
    pg_schema: str | None = Field(
        None, description="PostgreSQL で使うスキーマ（既定: 接続先の search_path のまま）"
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql", "sqlite")):
            raise ValueError("案件ストアの url は postgresql… か sqlite… で始めてください")
        return v

    @field_validator("pg_schema")
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        if v is not None and not SLUG.match(v):
            raise ValueError("スキーマ名は英小文字・数字・下線（先頭は英小文字）")
        return v


class RecheckPlan(_Strict):
    """One agency × 事務 the body has committed to re-check, with its own interval and, for an
    unattended start, where its business system drops the extract."""

    agency: str = Field(pattern=r"^\d{6}$", description="地方公共団体コード（6桁）")
    jimu: str = Field(description="事務のスラッグ")
    interval_months: int | None = Field(
        None, ge=1, le=60, description="この区分の点検周期（月）。未指定なら default_interval_months"
    )
    extract_file: str | None = Field(
        None,
        description=(
            "期限が来たら第1段階を自動で始めるときの F1 の置き場所（業務システムの定期出力先）。"
            "未指定なら期限の表示だけ"
        ),
    )
    atena_file: str | None = Field(None, description="同じく F1b（統合宛名ファイル）の置き場所")


class RecheckSettings(_Strict):
    """The annual recheck calendar (seed 002: about once a year per 事務 never seen in person).

    ``plan`` lists the agency × 事務 expected to report (besides every one that has a round),
    so one that has not started shows as 未着手. A partition is 期限超過 when its last completed round
    (照合 done) is older than its interval, 期限間近 within ``due_soon_days`` of it.
    """

    default_interval_months: int = Field(12, ge=1, le=60, description="点検周期（月）の既定値")
    due_soon_days: int = Field(30, ge=0, le=365, description="期限の何日前から「期限間近」とするか")
    plan: list[RecheckPlan] = Field(default_factory=list, description="点検を予定する団体×事務")

    def interval(self, agency: str, jimu: str) -> int:
        for p in self.plan:
            if p.agency == agency and p.jimu == jimu and p.interval_months:
                return p.interval_months
        return self.default_interval_months


class CodeAliases(_Strict):
    """An agency's own codes, mapped onto the contract's."""

    sex: dict[str, Literal["1", "2"]] = {}
    resident_class: dict[str, Literal["住登者", "住登外者"]] = {}
    acquisition_route: dict[
        str, Literal["自動連携", "本人申告", "住基照会4情報", "住基照会3情報以下", "不明"]
    ] = {}


class InstanceSettings(_Strict):
    """Where the Dagster instance keeps runs, event logs and schedules (what auditors read).

    ``sqlite`` (the default, one PC): files under the home's ``storage/``. ``postgres``: a
    PostgreSQL database every machine of a shared deployment reaches (``dagster-postgres``);
    tenken writes the matching ``storage:`` block into the home's dagster.yaml.
    """

    storage: Literal["sqlite", "postgres"] = Field(
        "sqlite", description="Dagster の記録の置き場所: sqlite（この端末のみ）か postgres（共有）"
    )
    postgres_url: str | None = Field(
        None,
        description=(
            "storage: postgres のときの接続先。例 postgresql://tenken@dbhost:5432/tenken_dagster"
            "（パスワードは .pgpass か PGPASSWORD で渡し、ここには書かない）"
        ),
    )

    data_root: str | None = Field(
        None,
        description=(
            "個人番号を含むファイル（段階のファイル、F2〜F5、受信箱）の置き場所。既定は <home>/data。"
            "共有の配置では、すべての端末・ワーカーから同じパスで見える共有フォルダ（絶対パス）"
        ),
    )

    executor: Literal["in_process", "celery"] = Field(
        "in_process",
        description=(
            "段階の実行場所: in_process（tenken を起動した端末のプロセス）か celery"
            "（tenken worker で起動したワーカー。共有の配置で複数の端末に分散）"
        ),
    )
    celery_broker: str = Field(
        "pyamqp://guest@127.0.0.1//",
        description="executor: celery のときのブローカー（RabbitMQ pyamqp://… か Redis redis://…）",
    )
    celery_backend: str = Field(
        "rpc://",
        description="結果の受け渡し: RabbitMQ なら rpc://、Redis なら redis://…（ブローカーと同じ URL）",
    )

    @field_validator("data_root")
    @classmethod
    def _absolute(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).is_absolute():
            raise ValueError("instance.data_root は絶対パスで書いてください（どの端末からも同じ場所）")
        return v

    @field_validator("postgres_url")
    @classmethod
    def _postgres_only(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("postgresql://"):
            raise ValueError(
                "instance.postgres_url は postgresql:// で始めてください（ドライバ名は付けない）"
            )
        return v

    @model_validator(mode="after")
    def _url_when_postgres(self) -> InstanceSettings:
        if self.storage == "postgres" and not self.postgres_url:
            raise ValueError("instance.storage が postgres のときは instance.postgres_url を書いてください")
        return self

    def celery_config(self) -> dict[str, Any]:
        """The ``execution.config`` of a run (and of the workers) on Celery. A step is
        acknowledged only when done, and put back in the queue if its worker dies, so another
        worker runs it (a killed worker loses no step)."""
        return {
            "broker": self.celery_broker,
            "backend": self.celery_backend,
            "config_source": {"task_acks_late": True, "task_reject_on_worker_lost": True},
        }


class TenkenSettings(_Strict):
    jimu: dict[str, JimuSpec]
    columns: dict[str, list[str]] = Field(
        default_factory=dict, description="契約の列名 → その団体のファイルでの列名（別名）"
    )
    codes: CodeAliases = CodeAliases()
    input: InputSettings = InputSettings()
    scope: ScopeSettings = ScopeSettings()
    request: RequestSettings = RequestSettings()
    matching: MatchingOptions = MatchingOptions()
    retention: RetentionSettings = RetentionSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    cases: CaseStoreSettings = CaseStoreSettings()
    instance: InstanceSettings = InstanceSettings()
    recheck: RecheckSettings = RecheckSettings()
    agencies: dict[str, str] = Field(
        default_factory=dict, description="地方公共団体コード → 名称（広域連合など市区町村表にない団体）"
    )

    @field_validator("jimu")
    @classmethod
    def _slugs(cls, v: dict[str, JimuSpec]) -> dict[str, JimuSpec]:
        bad = [k for k in v if not SLUG.match(k)]
        if bad:
            raise ValueError(f"事務のスラッグは英小文字・数字・下線で始まりは英小文字: {bad}")
        return v

    @model_validator(mode="after")
    def _planned_jimu_known(self) -> TenkenSettings:
        unknown = sorted({p.jimu for p in self.recheck.plan} - set(self.jimu))
        if unknown:
            raise ValueError(f"recheck.plan の事務が jimu にありません: {unknown}")
        return self


class ConfigError(Exception):
    """tenken.yaml is not valid. The message names each bad setting."""


def _defaults() -> dict[str, Any]:
    text = resources.files("schemas").joinpath("data/jimu.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_settings(override: dict[str, Any] | None, source: str = "tenken.yaml") -> TenkenSettings:
    merged = _merge(_defaults(), override or {})
    try:
        return TenkenSettings.model_validate(merged)
    except ValidationError as e:
        lines = [f"設定ファイル「{source}」の内容が正しくありません [CONFIG_INVALID]"]
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {loc}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None


def load_settings(path: Path | None) -> TenkenSettings:
    """Built-in defaults, overridden by ``path`` when it exists."""
    if path is None or not path.exists():
        return _default_settings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"設定ファイル「{path}」を YAML として読めません: {e} [CONFIG_INVALID]") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"設定ファイル「{path}」の最上位は対応表（キー: 値）にしてください [CONFIG_INVALID]"
        )
    return parse_settings(data, str(path))


@cache
def _default_settings() -> TenkenSettings:
    return parse_settings(None, "(内蔵の既定値)")
