"""The peer: Splink (DuckDB backend) linking the same F1 and F3 files that tenken's 照合 reads.

What it does, timed in three parts (the figures the issue compares tenken's 照合 with):

1. **read**: F1 (cp932) and every F3 file (cp932) into DuckDB tables, all columns as text;
2. **link and score**: Splink ``link_only`` between the two, blocked on the 個人番号 (every pair
   that shares one is compared, which is what a re-check does), comparing 氏名, 氏名カナ
   (Jaro-Winkler at 0.9 / 0.7), 生年月日 (exact), 性別 (exact) and 住所 (Levenshtein at 1 / 3)
   with Splink's comparison library, and scoring every pair with its Fellegi-Sunter model
   (the m and u probabilities are fixed up front, so no training time is counted);
3. **write**: the scored pairs to a CSV in cp932.

It does less than tenken's 照合: no Japanese normalisation (全角/半角, 旧字体, 住所 表記), no
A/B/C rules, no 推定原因, no likely owner, no per-row evidence. Used by ``scale.py --peer``;
it can also be run on its own on a kept work folder::

    python benchmarks/peer_splink.py --f1 WORK/f1.csv --f3 WORK/f3 --out WORK/peer

Needs the ``bench`` extra (``splink`` with ``duckdb``). Numbers only, nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: (F1 header, F3 header, name used in both tables)
FIELDS = (
    ("個人番号", "個人番号", "my_number"),
    ("氏名", "氏名", "name"),
    ("氏名カナ", "氏名カナ", "kana"),
    ("生年月日", "生年月日", "birth"),
    ("性別", "性別", "sex"),
    ("住所", "住所", "address"),
)


@dataclass
class PeerTimes:
    read_s: float
    link_score_s: float
    write_s: float
    pairs: int
    splink: str

    @property
    def total_s(self) -> float:
        return self.read_s + self.link_score_s + self.write_s


def _utf8(path: Path, out: Path) -> Path:
    """DuckDB reads UTF-8 only: the cp932 file transcoded, as any reader of F1/F3 must."""
    out.write_bytes(path.read_bytes().decode("cp932").encode("utf-8"))
    out.chmod(0o600)
    return out


def _load(con, table: str, files: list[Path], side: int, work: Path) -> None:  # type: ignore[no-untyped-def]
    texts = [str(_utf8(p, work / f"{table}_{k}.csv")) for k, p in enumerate(files)]
    cols = ", ".join(f'"{f1 if side == 0 else f3}" AS {name}' for f1, f3, name in FIELDS)
    con.execute(
        f"CREATE TABLE {table} AS SELECT row_number() OVER () AS unique_id, {cols} "
        f"FROM read_csv({texts!r}, all_varchar = true, header = true)"
    )
    for p in texts:
        Path(p).unlink()


#: exact, ≥ 0.9, ≥ 0.7, else
_JW_M, _JW_U = [0.85, 0.1, 0.03, 0.02], [0.01, 0.02, 0.07, 0.9]


def _settings():  # type: ignore[no-untyped-def]
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def fixed(comparison, m, u):  # type: ignore[no-untyped-def]
        """m/u per non-null level (best to worst), so no training is needed."""
        return comparison.configure(m_probabilities=m, u_probabilities=u)

    return SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[block_on("my_number")],
        comparisons=[
            fixed(cl.JaroWinklerAtThresholds("name", [0.9, 0.7]), _JW_M, _JW_U),
            fixed(cl.JaroWinklerAtThresholds("kana", [0.9, 0.7]), _JW_M, _JW_U),
            fixed(cl.ExactMatch("birth"), [0.95, 0.05], [0.001, 0.999]),
            fixed(cl.ExactMatch("sex"), [0.98, 0.02], [0.5, 0.5]),
            fixed(
                cl.LevenshteinAtThresholds("address", [1, 3]),
                [0.8, 0.1, 0.05, 0.05],
                [0.01, 0.02, 0.02, 0.95],
            ),
        ],
        probability_two_random_records_match=0.5,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


def run(f1: Path, f3: list[Path], out: Path) -> PeerTimes:
    import duckdb
    import splink
    from splink import DuckDBAPI, Linker

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    start = time.perf_counter()
    _load(con, "business", [f1], 0, out)
    _load(con, "juki", f3, 1, out)
    read_s = time.perf_counter() - start

    start = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    tables = [db_api.register(name, dataset_display_name=f"{name}_in") for name in ("business", "juki")]
    linker = Linker(tables, _settings(), log_level="WARNING")
    scored = linker.inference.predict()
    table = scored.physical_name
    pairs = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
    link_s = time.perf_counter() - start

    start = time.perf_counter()
    utf8 = out / "peer_pairs.utf8.csv"
    con.execute(f"COPY {table} TO '{utf8}' (HEADER, DELIMITER ',')")
    (out / "peer_pairs.csv").write_bytes(utf8.read_bytes().decode().encode("cp932", errors="replace"))
    utf8.unlink()
    (out / "peer_pairs.csv").chmod(0o600)  # it holds 個人番号 (synthetic here, but as tenken would)
    write_s = time.perf_counter() - start
    con.close()
    return PeerTimes(read_s, link_s, write_s, pairs, splink.__version__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--f1", type=Path, required=True)
    parser.add_argument("--f3", type=Path, required=True, help="an F3 file or a folder of them")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    f3 = sorted(args.f3.glob("*.csv")) if args.f3.is_dir() else [args.f3]
    times = run(args.f1, f3, args.out)
    print(json.dumps(asdict(times) | {"total_s": times.total_s}, indent=2))


if __name__ == "__main__":
    main()
