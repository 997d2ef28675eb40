"""The partition lease on both backends: one run per agency × 事務, simultaneous takes included."""

import threading

import pytest

from pipelines.ops import partition_lease
from pipelines.ops.partition_lease import PartitionBusy
from tests.cases.conftest import Backend

KEY = "392014|kaigo_hoken"


def always(_run_id: str) -> bool:
    return True


def never(_run_id: str) -> bool:
    return False


def test_a_free_partition_is_taken_and_its_run_keeps_it(store) -> None:
    lease = partition_lease.take(store, KEY, "run-a", is_active=always, holder="pc1 pid 10")
    assert (lease.run_id, lease.holder) == ("run-a", "pc1 pid 10")
    # a later step of the same run (another process, another worker) keeps it
    again = partition_lease.take(store, KEY, "run-a", is_active=always, holder="pc2 pid 99")
    assert again.run_id == "run-a"
    assert partition_lease.holder_of(store, KEY) == lease


def test_another_run_is_refused_while_the_holder_is_active(store) -> None:
    partition_lease.take(store, KEY, "run-a", is_active=always, holder="pc1 pid 10")
    asked: list[str] = []

    def active(run_id: str) -> bool:
        asked.append(run_id)
        return True

    with pytest.raises(PartitionBusy) as refused:
        partition_lease.take(store, KEY, "run-b", is_active=active)
    assert asked == ["run-a"]
    message = str(refused.value)
    assert "[PARTITION_BUSY]" in message and KEY in message and "pc1 pid 10" in message
    assert partition_lease.holder_of(store, KEY).run_id == "run-a"  # untouched


def test_a_run_that_is_over_no_longer_blocks(store) -> None:
    partition_lease.take(store, KEY, "run-a", is_active=always)
    lease = partition_lease.take(store, KEY, "run-b", is_active=never)
    assert lease.run_id == "run-b"
    assert partition_lease.holder_of(store, KEY).run_id == "run-b"


def test_partitions_are_independent(store) -> None:
    partition_lease.take(store, KEY, "run-a", is_active=always)
    other = partition_lease.take(store, "392014|kokumin_nenkin", "run-b", is_active=always)
    assert other.run_id == "run-b"


def test_only_the_holder_releases(store) -> None:
    partition_lease.take(store, KEY, "run-a", is_active=always)
    assert not partition_lease.release(store, KEY, "run-b")
    assert partition_lease.holder_of(store, KEY).run_id == "run-a"
    assert partition_lease.release(store, KEY, "run-a")
    assert partition_lease.holder_of(store, KEY) is None
    assert partition_lease.take(store, KEY, "run-b", is_active=always).run_id == "run-b"


@pytest.mark.parametrize("holder_active", [True, False], ids=["free", "over"])
def test_simultaneous_takes_let_exactly_one_run_win(backend: Backend, holder_active: bool) -> None:
    """Eight runs, each with its own connection, take the lease at the same instant."""
    with backend.open() as first:
        if not holder_active:
            partition_lease.take(first, KEY, "old-run", is_active=always)
    runs = [f"run-{i}" for i in range(8)]
    start = threading.Barrier(len(runs))
    won: list[str] = []
    busy: list[str] = []
    errors: list[BaseException] = []

    def attempt(run_id: str) -> None:
        try:
            with backend.open() as store:
                start.wait()
                try:
                    partition_lease.take(store, KEY, run_id, is_active=lambda r: r != "old-run")
                    won.append(run_id)
                except PartitionBusy:
                    busy.append(run_id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=attempt, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(won) == 1 and len(busy) == len(runs) - 1
    with backend.open() as store:
        assert partition_lease.holder_of(store, KEY).run_id == won[0]
