"""The Dagster instance on PostgreSQL, chosen in tenken.yaml (issue 16 item 1).

A home whose tenken.yaml says ``instance: {storage: postgres, …, data_root: <share>}`` keeps
its runs and event logs in that database, its cases in the same server (own schema) and its
files on the shared folder (item 3): phase 1 run from one machine's home and phase 2 from
another's give one round, seen the same from both.
"""

import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.instance import BEGIN, END, ensure_home, open_instance, storage_block, with_storage
from demo.generator import generate
from demo.simulator import answer_files
from schemas.config import ConfigError, InstanceSettings, parse_settings
from tenken import runner
from tenken.runner import Home

AGENCY, JIMU = "392014", "kaigo_hoken"


def test_the_storage_block_follows_tenken_yaml_and_keeps_the_users_lines(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ensure_home(home)
    text = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert BEGIN in text and END in text and "postgres" not in text.split(BEGIN)[1]
    # a user's own addition elsewhere in the file survives every rewrite
    (home / "dagster.yaml").write_text(text + "\n# 自分のメモ\n", encoding="utf-8")
    (home / "tenken.yaml").write_text(
        "instance:\n  storage: postgres\n  postgres_url: postgresql://tenken@db.example:5432/dagster\n",
        encoding="utf-8",
    )
    ensure_home(home)
    shared = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert '    postgres_url: "postgresql://tenken@db.example:5432/dagster"' in shared
    assert "# 自分のメモ" in shared and shared.count(BEGIN) == 1
    (home / "tenken.yaml").write_text("instance:\n  storage: sqlite\n", encoding="utf-8")
    ensure_home(home)
    back = (home / "dagster.yaml").read_text(encoding="utf-8")
    assert "postgres_url" not in back and "# 自分のメモ" in back


def test_a_home_from_before_the_markers_gains_the_block() -> None:
    old = "telemetry:\n  enabled: false\n"
    block = storage_block(InstanceSettings(storage="postgres", postgres_url="postgresql://x@h/d"))
    assert with_storage(old, block).startswith(old) and block in with_storage(old, block)
    assert with_storage(with_storage(old, block), "") == with_storage(old, "")


@pytest.mark.parametrize(
    "instance",
    [
        {"storage": "postgres"},  # no URL
        {"storage": "postgres", "postgres_url": "postgresql+psycopg2://h/d"},  # a driver name
        {"storage": "mysql", "postgres_url": "postgresql://h/d"},
    ],
)
def test_a_wrong_instance_setting_is_refused_on_load(instance: dict) -> None:
    with pytest.raises(ConfigError):
        parse_settings({"instance": instance}, "tenken.yaml")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_round_on_a_postgres_instance_is_seen_from_another_home(
    pg_database: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # the instance in its own database on the same server, the cases in their own schema
    admin = sa.create_engine(pg_database.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    dagster_db = f"tenken_dagster_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{dagster_db}"'))
    instance_url = (
        pg_database.rsplit("/", 1)[0].replace("postgresql+psycopg2://", "postgresql://") + f"/{dagster_db}"
    )
    shared = tmp_path / "share" / "tenken-data"  # the network share every machine mounts
    yaml = (
        f"instance:\n  storage: postgres\n  postgres_url: {instance_url}\n  data_root: {shared}\n"
        f"cases:\n  url: {pg_database}\n  pg_schema: t_{uuid.uuid4().hex[:10]}\n"
    )
    homes = [tmp_path / "pc1", tmp_path / "pc2"]
    for home in homes:
        home.mkdir()
        (home / "tenken.yaml").write_text(yaml, encoding="utf-8")
    try:
        data = generate(300, agency=AGENCY, jimu=JIMU, seed=5)
        f1 = data.write_extract(tmp_path / "f1.csv")
        runner.request(
            Home(homes[0]),
            agency=AGENCY,
            jimu=JIMU,
            extract_file=f1,
            round_id="2026",
            out_dir=tmp_path / "req",
        )
        f3 = answer_files(sorted((tmp_path / "req").glob("request_*.csv")), data.registry, tmp_path / "f3")
        # phase 2 from the other machine of the deployment
        runner.match(
            Home(homes[1]), agency=AGENCY, jimu=JIMU, result_path=f3[0].parent, out_dir=tmp_path / "out"
        )

        engine = sa.create_engine(instance_url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
            events = conn.execute(sa.text("SELECT count(*) FROM event_logs")).scalar_one()
        engine.dispose()
        assert stored == 2 and events > 50
        # the stage files and F2/F4/F5 are on the share, private; nothing in either home's data/
        assert list(shared.rglob("inquiry_numbers.parquet")) and list(shared.rglob("store/*/*/*.parquet"))
        assert {oct(p.stat().st_mode & 0o777) for p in shared.rglob("*.parquet")} == {"0o600"}
        for home in homes:
            assert not list((home / "data").rglob("*.parquet"))
            assert not (home / "storage" / "runs.db").exists()  # no SQLite run storage
            instance = open_instance(home)
            try:
                assert type(instance.run_storage).__name__ == "PostgresRunStorage"
                runs = instance.get_runs()
                assert [r.job_name for r in runs] == ["phase2_match", "phase1_request"]
                assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
                assert instance.get_latest_materialization_event(dg.AssetKey("mismatch_review")) is not None
            finally:
                instance.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{dagster_db}" WITH (FORCE)'))
        admin.dispose()
