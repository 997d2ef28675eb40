"""The shared deployment's definitions: the same graph, steps on Celery, and every way a run
starts (CLI, inbox sensor, recheck calendar) gives the broker of tenken.yaml."""

import dagster as dg
import pytest

from assets.definitions import defs as single_pc
from assets.jobs import (
    CASES_IMPORT,
    PHASE1,
    PHASE2,
    import_run_config,
    on_instance,
    phase1_run_config,
    phase2_run_config,
)
from schemas.config import InstanceSettings

shared = pytest.importorskip(
    "assets.shared_definitions", reason="the `shared` extra (dagster-celery) is not installed"
)
CELERY = InstanceSettings(executor="celery", celery_broker="pyamqp://tenken@mq.example:5672//")


def test_the_shared_definitions_hold_the_same_graph_on_the_celery_executor() -> None:
    for name in (PHASE1, PHASE2, CASES_IMPORT):
        one, other = single_pc.resolve_job_def(name), shared.defs.resolve_job_def(name)
        assert sorted(one.graph.node_names()) == sorted(other.graph.node_names())
        assert other.executor_def.name == "celery" and one.executor_def.name != "celery"


@pytest.mark.parametrize(
    ("job", "config"),
    [
        (PHASE1, phase1_run_config("/in/f1.csv", round_id="2026")),
        (PHASE2, phase2_run_config("/in/f3", "2026")),
        (CASES_IMPORT, import_run_config("/in/returned.xlsx")),
    ],
)
def test_run_config_names_the_broker_only_on_celery(job: str, config: dict) -> None:
    celery = on_instance(config, CELERY)
    assert celery["execution"]["config"]["broker"] == "pyamqp://tenken@mq.example:5672//"
    assert celery["execution"]["config"]["config_source"]["task_acks_late"] is True
    assert on_instance(config, InstanceSettings()) == config  # one PC: unchanged
    # each is valid for the definitions that run it
    assert dg.validate_run_config(shared.defs.resolve_job_def(job), celery)
    assert dg.validate_run_config(single_pc.resolve_job_def(job), config)
