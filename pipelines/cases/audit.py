"""The audit trail of the case store: append-only events in a hash chain.

Every change to a case is one event: who (担当者, 確認者, the account that recorded it), when,
the state before and after, the fields changed (old → new), and where it came from (the
returned workbook and its SHA-256, or the 照合 run). Values that identify a resident (the
compared 4情報 and the masked number) and staff's free text (是正内容, 備考) are kept as keyed
digests only (``REDACTED_FIELDS``): the trail can never be erased, the case record can.
Staff names (担当者, 確認者), states, codes, dates, 宛名番号 and 推定原因 stay readable: they
are what an auditor follows. Events are never updated or deleted
(database triggers refuse it) and each one carries the hash of the one before, so editing,
removing or inserting a past event breaks the chain at that point.

``verify`` checks the chain link by link **and** replays every event into the case records
it should have produced, so a case edited directly in the database (without an event) is
found too. ``cases_as_of`` answers "what was the state of every case at time T" from the
events alone; the monthly national report is built on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.cases.tables import KEY, PERSONAL_FIELDS, RECORD_FIELDS, case_events, cases, chain_head
from pipelines.clock import JST

GENESIS = "0" * 64

#: what staff write in their own words (是正内容, 備考): it may name a resident or a relative,
#: so the append-only trail keeps a keyed digest of it, like the comparison fields
FREE_TEXT_FIELDS: frozenset[str] = frozenset({"correction", "note"})
#: every field whose values events hold only as digests (the case record keeps them in clear,
#: for the workbook, until retention erases them)
REDACTED_FIELDS: frozenset[str] = PERSONAL_FIELDS | FREE_TEXT_FIELDS

#: columns of an exported audit trail, in order, with their Japanese headers
EVENT_HEADERS: dict[str, str] = {
    "seq": "連番",
    "at": "記録日時",
    "agency": "団体コード",
    "jimu": "事務",
    "case_id": "案件番号",
    "kind": "内容",
    "from_state": "変更前の状態",
    "to_state": "変更後の状態",
    "changes": "変更した項目（変更前 → 変更後）",
    "actor": "担当者",
    "reviewer": "確認者",
    "recorded_by": "記録したアカウント",
    "source": "出所",
    "source_sha256": "出所ファイルのSHA-256",
    "prev_hash": "前の記録のハッシュ",
    "hash": "この記録のハッシュ",
}


def stamp(moment: datetime) -> str:
    """One fixed text form for event times, so they sort and hash the same on every backend."""
    return moment.astimezone(JST).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class NewEvent:
    """A change about to be recorded (the store assigns sequence number, time and hashes)."""

    agency: str
    jimu: str
    case_id: str
    kind: str
    from_state: str | None
    to_state: str | None
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    actor: str = ""
    reviewer: str | None = None


def digest(key: bytes, value: Any) -> str | None:
    """A personal value as the audit trail keeps it: a keyed hash (blank stays blank)."""
    if value is None or value == "":
        return None
    text = str(_plain(value)).encode("utf-8")
    return "hmac:" + hmac.digest(key, text, "sha256").hex()[:32]


def keyed_digests(key: bytes, values: Iterable[str]) -> list[str]:
    """``digest`` of many non-blank texts: the same HMAC-SHA256 (RFC 2104), with the key's
    inner and outer blocks hashed once instead of once per value."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy
    out = []
    for value in values:
        i = inner()
        i.update(value.encode("utf-8"))
        o = outer()
        o.update(i.digest())
        out.append("hmac:" + o.hexdigest()[:32])
    return out


def digest_columns(frame: pl.DataFrame, columns: Iterable[str], key: bytes) -> pl.DataFrame:
    """``digest`` of every value of the text ``columns``, vectorised: each distinct value is
    hashed once (dates, sexes, addresses and masked numbers repeat a lot), then mapped back
    with one join over the columns stacked end to end."""
    columns = list(columns)
    if not columns or frame.height == 0:
        return frame
    stacked = pl.concat([frame.get_column(c).cast(pl.String) for c in columns]).alias("value")
    values = [v for v in stacked.unique().to_list() if v]  # blank (null, "") stays blank
    hashed = pl.DataFrame(
        {"value": values, "digest": keyed_digests(key, values)},
        schema={"value": pl.String, "digest": pl.String},
    )
    digests = stacked.to_frame().join(hashed, on="value", how="left", maintain_order="left")["digest"]
    n = frame.height
    return frame.with_columns(digests.slice(i * n, n).alias(c) for i, c in enumerate(columns))


#: what ``json.dumps(ensure_ascii=False)`` escapes in a string, and how
_JSON_ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    '"': '\\"',
    **{chr(i): json.dumps(chr(i))[1:-1] for i in range(0x20)},
}


def _escaped(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(list(_JSON_ESCAPES), list(_JSON_ESCAPES.values()))


def _quoted(escaped: pl.Expr, quote: str = '"') -> pl.Expr:
    return pl.concat_str(pl.lit(quote), escaped, pl.lit(quote)).fill_null(pl.lit("null"))


def json_literal(expr: pl.Expr) -> pl.Expr:
    """A text column as ``json.dumps(value, ensure_ascii=False)`` writes it (null → ``null``)."""
    return _quoted(_escaped(expr.cast(pl.String)))


def changes_text(changes: Mapping[str, tuple[Any, Any]], key: bytes) -> str:
    """The changes of one event as canonical JSON; personal values and free text only as
    digests (``REDACTED_FIELDS``)."""
    body = {
        k: [digest(key, old), digest(key, new)] if k in REDACTED_FIELDS else [_plain(old), _plain(new)]
        for k, (old, new) in changes.items()
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def initial_changes(frame: pl.DataFrame, fields: Iterable[str], key: bytes) -> pl.DataFrame:
    """``changes_text`` of events that set ``fields`` from nothing to the frame's values,
    vectorised. Grain: one row per row of ``frame``:

    * ``changes``: the same text as ``changes_text({f: (None, row[f]) for f in fields if
      row[f] is not None}, key)`` (keys sorted, personal values as digests);
    * ``changes_literal``: that text as a JSON string (``json.dumps(changes)``), as the link
      hash serialises it, built from the same pieces escaped twice (the pieces are short;
      escaping the whole text again would cost more).

    Columns may be text, integers, booleans or dates.
    """
    fields = sorted(fields)
    redacted = [f for f in fields if f in REDACTED_FIELDS]
    hashed = digest_columns(frame.select(redacted), redacted, key)
    once, twice = [], []
    for name in fields:
        column, dtype = pl.col(name), frame.schema[name]
        if name in REDACTED_FIELDS:
            if not (dtype == pl.String or dtype == pl.Date or dtype == pl.Null):
                raise TypeError(f"{name}: a digested field must be text or a date, not {dtype}")
            hashed_value = pl.col(f"_digest_{name}")  # hmac:<hex>, nothing to escape
            value, value_literal = _quoted(hashed_value), _quoted(hashed_value, '\\"')
        elif dtype == pl.Boolean:
            value = value_literal = pl.when(column).then(pl.lit("true")).otherwise(pl.lit("false"))
        elif dtype.is_integer():
            value = value_literal = column.cast(pl.String)
        elif dtype == pl.String or dtype == pl.Date or dtype == pl.Null:
            escaped = _escaped(column.cast(pl.String))
            value, value_literal = _quoted(escaped), _quoted(_escaped(escaped), '\\"')
        else:
            raise TypeError(f"{name}: no canonical JSON for {dtype}")
        prefix = json.dumps(name, ensure_ascii=False) + ":[null,"
        prefix_literal = json.dumps(prefix, ensure_ascii=False)[1:-1]
        present = column.is_not_null()
        once.append(pl.when(present).then(pl.concat_str(pl.lit(prefix), value, pl.lit("]"))))
        twice.append(pl.when(present).then(pl.concat_str(pl.lit(prefix_literal), value_literal, pl.lit("]"))))
    if not fields:
        return frame.select(pl.lit("{}").alias("changes"), pl.lit('"{}"').alias("changes_literal"))
    return (
        frame.select(fields)
        .with_columns(hashed.get_column(f).alias(f"_digest_{f}") for f in redacted)
        .select(
            pl.concat_str(
                pl.lit("{"), pl.concat_str(once, separator=",", ignore_nulls=True), pl.lit("}")
            ).alias("changes"),
            pl.concat_str(
                pl.lit('"{'), pl.concat_str(twice, separator=",", ignore_nulls=True), pl.lit('}"')
            ).alias("changes_literal"),
        )
    )


def link_hash(row: Mapping[str, Any]) -> str:
    """The hash of one event: its content and the hash of the event before it."""
    content = [
        row["seq"],
        row["at"],
        row["agency"],
        row["jimu"],
        row["case_id"],
        row["kind"],
        row["from_state"],
        row["to_state"],
        row["changes"],
        row["actor"],
        row["reviewer"],
        row["recorded_by"],
        row["source"],
        row["source_sha256"],
        row["prev_hash"],
    ]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain(
    events: Iterable[NewEvent],
    *,
    key: bytes,
    head_seq: int,
    head_hash: str,
    at: str,
    recorded_by: str,
    source: str,
    source_sha256: str | None,
) -> list[dict[str, Any]]:
    """Rows for ``case_events``, linked after the current head, one event at a time.

    The reference form of the chain (what ``verify`` checks link by link); the store writes
    through ``chain_frame``, which gives the same rows in bulk."""
    rows = []
    prev, seq = head_hash, head_seq
    for e in events:
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "agency": e.agency,
            "jimu": e.jimu,
            "case_id": e.case_id,
            "kind": e.kind,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "changes": changes_text(e.changes, key),
            "actor": e.actor,
            "reviewer": e.reviewer,
            "recorded_by": recorded_by,
            "source": source,
            "source_sha256": source_sha256,
            "prev_hash": prev,
        }
        row["hash"] = prev = link_hash(row)
        rows.append(row)
    return rows


#: an event before it is linked into the chain (what ``chain_frame`` takes), in order
EVENT_INPUT_COLUMNS: tuple[str, ...] = (
    "agency",
    "jimu",
    "case_id",
    "kind",
    "from_state",
    "to_state",
    "changes",
    "actor",
    "reviewer",
)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in case_events.columns)


def events_input(events: Iterable[NewEvent], key: bytes) -> pl.DataFrame:
    """``events`` as the frame ``chain_frame`` takes (their changes as ``changes_text``)."""
    rows = [
        (
            e.agency,
            e.jimu,
            e.case_id,
            e.kind,
            e.from_state,
            e.to_state,
            changes_text(e.changes, key),
            e.actor,
            e.reviewer,
        )
        for e in events
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(EVENT_INPUT_COLUMNS, pl.String), orient="row")


def chain_frame(
    events: pl.DataFrame,
    *,
    head_seq: int,
    head_hash: str,
    at: str,
    recorded_by: str,
    source: str,
    source_sha256: str | None,
) -> pl.DataFrame:
    """``chain`` for a frame of events (``EVENT_INPUT_COLUMNS``, and optionally
    ``changes_literal``, the changes as a JSON string, from ``initial_changes``): the same
    rows, in bulk.

    The content of each link (``link_hash``) is serialised by polars up to its ``prev_hash``;
    the chain itself is sequential, so the loop only appends the previous hash and hashes.
    Grain: one row per event, ``EVENT_COLUMNS``.
    """
    n = events.height
    if "changes_literal" not in events.columns:
        events = events.with_columns(json_literal(pl.col("changes")).alias("changes_literal"))
    rows = events.select(
        pl.int_range(head_seq + 1, head_seq + 1 + n, dtype=pl.Int64).alias("seq"),
        pl.lit(at, dtype=pl.String).alias("at"),
        *(pl.col(c).cast(pl.String) for c in EVENT_INPUT_COLUMNS),
        pl.lit(recorded_by, dtype=pl.String).alias("recorded_by"),
        pl.lit(source, dtype=pl.String).alias("source"),
        pl.lit(source_sha256, dtype=pl.String).alias("source_sha256"),
        "changes_literal",
    )
    constants = {"at": at, "recorded_by": recorded_by, "source": source, "source_sha256": source_sha256}
    pieces: list[pl.Expr] = [pl.lit("["), pl.col("seq").cast(pl.String)]
    for name in EVENT_COLUMNS[1:-2]:  # at … source_sha256 (not prev_hash, hash)
        if name in constants:
            value = pl.lit(json.dumps(constants[name], ensure_ascii=False))
        elif name == "changes":
            value = pl.col("changes_literal")
        else:
            value = json_literal(pl.col(name))
        pieces += [pl.lit(","), value]
    pieces.append(pl.lit(',"'))
    prefixes = rows.select(pl.concat_str(pieces).cast(pl.Binary)).to_series().to_list()
    # link_hash's JSON list is the prefix, then the previous hash: b'…,"<prev_hash>"]'
    hashes: list[bytes] = []
    prev, sha256 = head_hash.encode(), hashlib.sha256
    for prefix in prefixes:
        link = sha256(prefix)
        link.update(prev + b'"]')
        prev = link.hexdigest().encode()
        hashes.append(prev)
    hashed = pl.Series("hash", hashes, dtype=pl.Binary).cast(pl.String)
    return rows.with_columns(
        hashed.shift(1, fill_value=head_hash).alias("prev_hash"),
        hashed,
    ).select(EVENT_COLUMNS)


@dataclass
class Verification:
    """What ``verify`` found. ``ok`` only when the chain and every case record are intact."""

    events: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _event_rows(conn: sa.Connection, batch: int = 20_000) -> Iterator[Any]:
    result = conn.execution_options(yield_per=batch).execute(
        sa.select(case_events).order_by(case_events.c.seq)
    )
    yield from result.mappings()


def _replay_value(name: str, value: Any) -> str:
    """Field values compared as text: replayed JSON and database columns agree on this form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))


def verify(conn: sa.Connection, key: bytes) -> Verification:
    """Check every link of the chain, then replay the events into case records and compare
    (personal fields through their digests, as the events hold them)."""
    found = Verification()
    prev, expected_seq = GENESIS, 1
    replayed: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in _event_rows(conn):
        seq = row["seq"]
        if seq != expected_seq:
            found.problems.append(
                f"連番 {expected_seq} の記録がありません（次は {seq}）: 削除または挿入の疑い"
            )
        if row["prev_hash"] != prev:
            found.problems.append(f"連番 {seq}: 前の記録とのつながり（ハッシュ）が合いません")
        if link_hash(row) != row["hash"]:
            found.problems.append(f"連番 {seq}: 記録の内容がハッシュと合いません（改ざんの疑い）")
        prev, expected_seq = row["hash"], seq + 1
        found.events += 1
        record = replayed.setdefault((row["agency"], row["jimu"], row["case_id"]), {})
        for name, (_old, new) in json.loads(row["changes"]).items():
            record[name] = _replay_value(name, new)
        if row["to_state"] is not None:
            record["state"] = row["to_state"]
    found.head_hash = prev
    head = conn.execute(sa.select(chain_head.c.seq, chain_head.c.hash)).one()
    if (head.seq, head.hash) != (expected_seq - 1, prev):
        found.problems.append(
            f"最後の記録（連番 {expected_seq - 1}）が先頭情報（連番 {head.seq}）と合いません: "
            "末尾の削除の疑い"
        )
    stored = 0
    for row in conn.execution_options(yield_per=20_000).execute(sa.select(cases)).mappings():
        stored += 1
        case = (row["agency"], row["jimu"], row["case_id"])
        expected = replayed.get(case)
        if expected is None:
            found.problems.append(f"案件 {case[2]}（{case[0]} {case[1]}）に作成の記録がありません")
            continue
        differs = [
            f
            for f in RECORD_FIELDS
            if expected.get(f, "")
            not in (
                _replay_value(f, digest(key, row[f]) if f in REDACTED_FIELDS else row[f]),
                # free text recorded before it was redacted (stores of 2026-11) is in clear
                *((_replay_value(f, row[f]),) if f in FREE_TEXT_FIELDS else ()),
            )
        ]
        if differs:
            found.problems.append(
                f"案件 {case[2]}（{case[0]} {case[1]}）の {', '.join(differs)} が記録と合いません: "
                "直接の書き換えの疑い"
            )
    if stored < len(replayed):
        found.problems.append(
            f"記録にある案件のうち {len(replayed) - stored} 件が案件表にありません: 削除の疑い"
        )
    return found


def events_frame(
    conn: sa.Connection, *, agency: str | None = None, jimu: str | None = None, until: str | None = None
) -> pl.DataFrame:
    """The events (optionally of one agency / 事務, recorded at or before ``until``), in order."""
    query = sa.select(case_events).order_by(case_events.c.seq)
    if agency:
        query = query.where(case_events.c.agency == agency)
    if jimu:
        query = query.where(case_events.c.jimu == jimu)
    if until:
        query = query.where(case_events.c.at <= until)
    rows = conn.execute(query).all()
    schema = {c.name: (pl.Int64 if c.name == "seq" else pl.String) for c in case_events.columns}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


#: what ``cases_as_of`` gives besides the state: the fields a report counts, none personal
AS_OF_FIELDS = ("round_id", "grade", "likely_cause", "outcome", "viewed", "breach_report", "auto_reply_block")


def cases_as_of(
    conn: sa.Connection,
    moment: datetime,
    *,
    agency: str | None = None,
    jimu: str | None = None,
    fields: tuple[str, ...] = AS_OF_FIELDS,
) -> pl.DataFrame:
    """Every case that existed at ``moment`` as it stood then, from the events alone.

    Grain: one row per case: agency, jimu, case_id, state, and ``fields`` (non-personal
    fields of the case record). Uses the time an event was recorded (what the store knew
    then), not the dates staff entered.
    """
    unknown = set(fields) - set(RECORD_FIELDS)
    personal = set(fields) & REDACTED_FIELDS
    if unknown or personal:
        raise ValueError(f"not available as of a date: {sorted(unknown | personal)}")
    events = events_frame(conn, agency=agency, jimu=jimu, until=stamp(moment))
    schema = {k: pl.String for k in (*KEY, "state", *fields)}
    if events.height == 0:
        return pl.DataFrame(schema=schema)
    # an event that does not touch a field leaves it null here; one that clears it leaves ""
    decoded = [
        {k: ("" if v[1] is None else str(v[1])) for k, v in json.loads(text).items() if k in fields}
        for text in events["changes"]
    ]
    values = pl.DataFrame(decoded, schema=dict.fromkeys(fields, pl.String))
    frame = pl.concat([events.select(*KEY, "seq", "to_state"), values], how="horizontal")
    # a field keeps its value until an event changes it: forward-fill per case, take the last
    frame = frame.sort("seq").with_columns(pl.col("to_state", *fields).forward_fill().over(list(KEY)))
    return (
        frame.group_by(list(KEY), maintain_order=True)
        .last()
        .select(*KEY, pl.col("to_state").alias("state"), *(pl.col(c).replace("", None) for c in fields))
        .sort(list(KEY))
    )


def check_anchors(conn: sa.Connection, anchors: Iterable[tuple[int, str, str]]) -> list[str]:
    """Compare the chain with heads recorded elsewhere (seq, hash, where it was recorded).

    Each materialization of 不一致確認 records the chain head in Dagster's event log. A chain
    rewritten from scratch (every hash recomputed) passes ``verify``, but no longer contains
    the heads Dagster saw.
    """
    problems = []
    for seq, expected, where in anchors:
        if seq == 0:
            continue
        found = conn.execute(sa.select(case_events.c.hash).where(case_events.c.seq == seq)).scalar()
        if found != expected:
            problems.append(
                f"{where} に記録された連番 {seq} のハッシュが監査ログと一致しません: 書き換えの疑い"
            )
    return problems
