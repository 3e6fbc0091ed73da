"""dbt in its own process for the main job, so that its cost hides behind other work.

Importing dbt and parsing the project take about 4 s of pure Python (measured in issue
4), and the view publishing step parses again for the published schema. In the main
process that time adds up in front of and after the fetch. In a worker process, started
first thing, dbt imports while the main process sets up the extract (dlt's own import),
and it parses the published schema while the main process fetches. dbt still runs
in-process there (`dbtRunner`, one long-lived process), never as a command per step.

The worker serves one request at a time, in order, over a pipe: each is a method of
`transform.DbtProject` for one (ds, next_ds). Failures come back as the one-line
errors the main process reports.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from dataflow import parse_cache
from dataflow.dbt_project import BuildResult, DbtProject, Model, one_line
from dataflow.errors import DataFlowError, RunError
from dataflow.settings import Settings
from dataflow.warehouse import Target

_STOP = None  # the request that ends the worker


@dataclass
class Ticket:
    """A request sent to the worker; its answer once received."""

    answer: tuple[str, Any] | None = None


def _serve(connection: Connection, target: Target, settings: Settings) -> None:
    """The worker's loop: run each requested DbtProject method, answer ("ok"|"error", value)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to report
    import dbt.cli.main  # noqa: F401 - the slow import, done before the first request arrives

    projects: dict[tuple[str, str | None], DbtProject] = {}
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):  # the main process is gone
            return
        if request is _STOP:
            return
        method, ds, next_ds, args = request
        project = projects.setdefault((ds, next_ds), DbtProject(ds, target, settings, next_ds))
        try:
            answer: tuple[str, Any] = ("ok", getattr(project, method)(*args))
        except DataFlowError as exc:
            answer = ("error", exc)
        except Exception as exc:  # noqa: BLE001 - reported in the main process as one line
            answer = ("error", RunError(f"dbt failed: {one_line(str(exc)) or type(exc).__name__}"))
        try:
            connection.send(answer)
        except (BrokenPipeError, OSError):
            return


class DbtWorker:
    """The worker process and its pipe; one per run."""

    def __init__(self, target: Target, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")  # the main process runs threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, target, settings), name="dbt", daemon=True)
        self._process.start()
        child.close()
        self._pending: deque[Ticket] = deque()
        self._stopped = False

    def request(self, method: str, ds: str, next_ds: str | None, *args: Any, wait: bool = True) -> Any:
        """Ask for `method(*args)` on the project for (ds, next_ds): its result, or (not
        waiting) a ticket for `result`."""
        self._connection.send((method, ds, next_ds, args))
        ticket = Ticket()
        self._pending.append(ticket)
        return self.result(ticket) if wait else ticket

    def result(self, ticket: Ticket) -> Any:
        """Wait for a request's answer; answers to earlier requests are kept in their tickets.

        A ticket nobody asks for (a preparation) is fine: its step redoes failed work."""
        while ticket.answer is None:
            self._pending.popleft().answer = self._receive()
        status, value = ticket.answer
        if status == "error":
            raise value
        return value

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._connection.recv()
        except (EOFError, OSError):
            raise RunError(f"dbt's worker process ended unexpectedly (exit code {self._process.exitcode})") from None

    def stop(self) -> None:
        """Ask the worker to end once its requests are answered; it shuts down (its
        interpreter's teardown takes about 0.6 s) while this process goes on."""
        if not self._stopped:
            self._stopped = True
            with contextlib.suppress(BrokenPipeError, OSError):
                self._connection.send(_STOP)

    def close(self) -> None:
        """Stop the worker and wait for it; one still busy (the run failed or was
        interrupted) is terminated after a grace period.

        It is waited for: a worker still shutting down when this process exits would be
        terminated, and the locks dbt made in it reported as leaked."""
        self.stop()
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._connection.close()


class RemoteProject(DbtProject):
    """A DbtProject whose dbt work happens in the worker; models and selection stay here."""

    def __init__(self, worker: DbtWorker, ds: str, target: Target, settings: Settings,
                 next_ds: str | None = None) -> None:
        super().__init__(ds, target, settings, next_ds)
        self._worker = worker
        self._cache_key = parse_cache.key(self.dbt_vars(), self.parse_environment())
        self._early_parse: Ticket | None = None

    def _call(self, method: str, *args: Any, wait: bool = True) -> Any:
        return self._worker.request(method, self.ds, self.next_ds, *args, wait=wait)

    def parse(self) -> dict[str, Model]:
        self.models = self._call("parse")
        parse_cache.store(self._cache_key, self.models)
        return self.models

    def parse_early(self) -> bool:
        """Take the models from the last run's parse if nothing it read has changed, and let
        the worker parse meanwhile (see `parse_cache`); False when there is nothing cached,
        and `parse` must be waited for."""
        cached = parse_cache.load(self._cache_key)
        if cached is None:
            return False
        self.models = cached
        self._early_parse = self._call("parse", wait=False)
        return True

    def confirm_models(self) -> bool:
        """Wait for the worker's parse after `parse_early`; whether it learnt the cached models."""
        if self._early_parse is None:
            return True
        fresh = self._worker.result(self._early_parse)
        self._early_parse = None
        parse_cache.store(self._cache_key, fresh)
        same, self.models = fresh == self.models, fresh
        return same

    def build_audit(self, datasets: list[str], views: list[str]) -> BuildResult:
        return self._call("build_audit", datasets, views)

    def prepare_views(self) -> None:
        """Parse for the published schema now, in the worker, while this process fetches."""
        self._call("prepare_views", wait=False)

    def publish_views(self, views: list[str]) -> list[str]:
        return self._call("publish_views", views)
