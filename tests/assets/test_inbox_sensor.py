"""The inbox sensor starts the right phase for the right partition, once per set of files."""

import os
import time
from pathlib import Path

import dagster as dg

from assets.jobs import PHASE1, PHASE2
from assets.ops.inbox import inbox_sensor
from assets.resources import tenken_resources
from pipelines.ops.inbox import scan


def touch(path: Path, age: float = 60.0, body: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def evaluate(home: Path) -> dg.SensorResult:
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        with dg.build_sensor_context(instance=instance, resources=tenken_resources(str(home))) as ctx:
            result = inbox_sensor(ctx)
        assert isinstance(result, dg.SensorResult)
        return result


def test_extract_and_results_start_phase1_and_phase2(tmp_path: Path) -> None:
    inbox = tmp_path / "data" / "inbox"
    touch(inbox / "392014/kaigo_hoken/2026/extract/f1.csv")
    touch(inbox / "392014/kaigo_hoken/2026/atena/f1b.csv")
    touch(inbox / "390003/nanbyo/2026/result/r1.csv")
    result = evaluate(tmp_path)
    by_job = {r.job_name: r for r in result.run_requests}
    assert set(by_job) == {PHASE1, PHASE2}
    p1 = by_job[PHASE1]
    assert p1.partition_key == "392014|kaigo_hoken"
    cfg = p1.run_config["ops"]["extract"]["config"]
    assert cfg["extract_file"].endswith("f1.csv") and cfg["atena_file"].endswith("f1b.csv")
    assert cfg["round_id"] == "2026"
    added = {(r.partitions_def_name, tuple(r.partition_keys)) for r in result.dynamic_partitions_requests}
    assert added == {("inspection", ("390003|nanbyo", "392014|kaigo_hoken"))}


def test_unsettled_files_and_bad_folders_wait(tmp_path: Path) -> None:
    inbox = tmp_path / "data" / "inbox"
    touch(inbox / "392014/kaigo_hoken/2026/extract/f1.csv", age=0)  # still being copied
    touch(inbox / "392015/kaigo_hoken/2026/extract/f1.csv")  # bad check digit
    touch(inbox / "392014/unknown_jimu/2026/extract/f1.csv")  # not configured
    assert evaluate(tmp_path).run_requests == []


def test_results_wait_for_every_file_the_manifest_lists(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    request_dir = tmp_path / "req"
    request_dir.mkdir()
    (request_dir / "manifest.json").write_text('{"ファイル": [{}, {}]}', encoding="utf-8")
    touch(inbox / "392014/kaigo_hoken/2026/result/r1.csv")
    arrivals, skipped = scan(inbox, now=time.time(), settle_seconds=10, request_dir_of=lambda *a: request_dir)
    assert arrivals == [] and "1/2" in skipped[0].reason
    touch(inbox / "392014/kaigo_hoken/2026/result/r2.csv")
    arrivals, _ = scan(inbox, now=time.time(), settle_seconds=10, request_dir_of=lambda *a: request_dir)
    assert [a.phase for a in arrivals] == [2]


def test_same_files_same_run_key_new_file_new_key(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    f1 = touch(inbox / "392014/kaigo_hoken/2026/extract/f1.csv")
    key1 = scan(inbox, now=time.time(), settle_seconds=10)[0][0].run_key
    assert scan(inbox, now=time.time(), settle_seconds=10)[0][0].run_key == key1
    touch(f1, body=b"corrected")
    assert scan(inbox, now=time.time(), settle_seconds=10)[0][0].run_key != key1
