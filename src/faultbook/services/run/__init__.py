"""``faultbook run``: wrap a deploy command, record the deployment, recognise a failure at once.

- ``values``: ``RunRequest`` (what to run and do around it), ``RunResult`` and ``Attempt`` (what happened);
- ``flow``: ``run``, the one flow — attempts and retries, then rollback, notification, team-server delivery;
- ``attempt``: one try — record the deployment (the SQLite fast path when it applies), run, extract, recognise;
- ``transient``: which failures are retried, and the backoff;
- ``notify``: the webhook summary and the team server's report body.

Only ``values`` and ``flow`` are imported here: ``faultbook run -- true`` pays for nothing it does not use
(recognition, SQLAlchemy, httpx and recovery are imported when a failure needs them).
"""

from faultbook.services.run.flow import run
from faultbook.services.run.values import Attempt, Delivery, RunRequest, RunResult

__all__ = ["Attempt", "Delivery", "RunRequest", "RunResult", "run"]
