"""The Definitions of a shared deployment: tenken's, with the steps of every launched run
executed by Celery workers (``dagster-celery``, the ``shared`` extra).

Load this module instead of ``assets.definitions`` where runs should spread over workers
(``tenken ui`` and ``tenken worker`` do when tenken.yaml says ``instance.executor: celery``;
``dagster-webserver -m assets.shared_definitions`` otherwise). Broker and result backend come
with each run's configuration (``execution.config``): ``tenken`` fills them in from
tenken.yaml, a run launched from the UI gives them in the launchpad (default: RabbitMQ on
localhost).
"""

from __future__ import annotations

from dagster_celery import celery_executor

from assets.definitions import build_definitions

defs = build_definitions(celery_executor)
