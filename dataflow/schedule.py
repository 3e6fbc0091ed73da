"""View schedules with Airflow's meaning: a period's run happens when it has ended.

A view declares, in its model config like the old view pipelines, a schedule
(@daily, @weekly, @monthly, @yearly or a cron expression) and a start date (and
optionally an end date). Its periods start at the schedule's ticks: the period that
starts at ds ends at the next tick, and it is "completed" only once that tick has
passed. The August run of a @monthly view happens on 1 September with ds 2019-08-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from croniter import croniter

from dataflow.errors import UsageError

PRESETS = {
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",  # midnight on Sunday, as in Airflow
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True)
class Schedule:
    view: str
    expression: str
    start: dt.date
    end: dt.date | None = None  # exclusive

    @property
    def cron(self) -> str:
        return PRESETS.get(self.expression, self.expression)

    def _ticks(self, after: dt.date) -> croniter:
        # Ticks are days at midnight (UTC); start one second before `after` to include it.
        base = dt.datetime.combine(after, dt.time()) - dt.timedelta(seconds=1)
        return croniter(self.cron, base)

    def next_ds(self, ds: dt.date) -> dt.date:
        """The first day after the period that starts at ds (the next tick)."""
        return self._ticks(ds + dt.timedelta(days=1)).get_next(dt.datetime).date()

    def is_tick(self, ds: dt.date) -> bool:
        return self._ticks(ds).get_next(dt.datetime).date() == ds

    def periods(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The ds of every period starting in [start, end) that the view is scheduled for."""
        first = max(start, self.start)
        last = min(end, self.end) if self.end else end
        ticks = self._ticks(first)
        out = []
        while True:
            ds = ticks.get_next(dt.datetime).date()
            if ds >= last:
                return out
            out.append(ds)

    def latest_completed(self, now: dt.datetime) -> dt.date | None:
        """The ds of the latest period that has ended by `now` (None before the first)."""
        today = now.date()
        previous = croniter(self.cron, dt.datetime.combine(today, dt.time()) + dt.timedelta(seconds=1))
        candidate = previous.get_prev(dt.datetime).date()  # the latest tick at or before today
        ds = croniter(self.cron, dt.datetime.combine(candidate, dt.time())).get_prev(dt.datetime).date()
        # `candidate` starts a period still running; the one before it has ended.
        if self.end and ds >= self.end:
            ds = next(reversed(self.periods(self.start, self.end)), None)
        return ds if ds is not None and ds >= self.start else None


def from_meta(view: str, meta: dict[str, Any]) -> Schedule:
    """A view's schedule from its model config meta; bad values are usage errors."""
    expression = str(meta.get("schedule", "@monthly"))
    if expression not in PRESETS and not croniter.is_valid(expression):
        raise UsageError(f"view {view}: schedule {expression!r} is not @daily/@weekly/@monthly/@yearly or cron")
    try:
        start = dt.date.fromisoformat(str(meta["start_date"]))
        end = dt.date.fromisoformat(str(meta["end_date"])) if meta.get("end_date") else None
    except KeyError:
        raise UsageError(f"view {view}: its config needs meta.start_date") from None
    except ValueError as exc:
        raise UsageError(f"view {view}: bad start_date/end_date ({exc})") from None
    return Schedule(view, expression, start, end)
