"""Schedules with Airflow's meaning; expected dates written out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from dataflow.errors import UsageError
from dataflow.schedule import Schedule, from_meta

D = dt.date


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


MONTHLY = Schedule("v", "@monthly", D(2017, 11, 1))


def test_monthly_august_runs_on_the_first_of_september():
    assert MONTHLY.latest_completed(at("2019-09-01", 0)) == D(2019, 8, 1)
    assert MONTHLY.latest_completed(at("2019-08-31", 23)) == D(2019, 7, 1)
    assert MONTHLY.next_ds(D(2019, 8, 1)) == D(2019, 9, 1)
    assert MONTHLY.next_ds(D(2019, 12, 1)) == D(2020, 1, 1)


def test_backfill_range_is_end_exclusive():
    assert MONTHLY.periods(D(2019, 6, 1), D(2019, 9, 1)) == [D(2019, 6, 1), D(2019, 7, 1), D(2019, 8, 1)]
    assert MONTHLY.periods(D(2019, 6, 2), D(2019, 9, 2)) == [D(2019, 7, 1), D(2019, 8, 1), D(2019, 9, 1)]
    assert MONTHLY.periods(D(2017, 1, 1), D(2017, 12, 1)) == [D(2017, 11, 1)]  # not before the start date


def test_weekly_daily_yearly_and_cron():
    weekly = Schedule("v", "@weekly", D(2019, 1, 1))  # Sundays
    assert weekly.periods(D(2019, 8, 1), D(2019, 8, 20)) == [D(2019, 8, 4), D(2019, 8, 11), D(2019, 8, 18)]
    assert weekly.latest_completed(at("2019-08-14")) == D(2019, 8, 4)
    daily = Schedule("v", "@daily", D(2019, 1, 1))
    assert daily.latest_completed(at("2019-03-01", 0)) == D(2019, 2, 28)
    assert daily.next_ds(D(2020, 2, 28)) == D(2020, 2, 29)
    yearly = Schedule("v", "@yearly", D(2015, 1, 1))
    assert yearly.latest_completed(at("2019-08-14")) == D(2018, 1, 1)
    mid_month = Schedule("v", "0 0 15 * *", D(2019, 1, 1))
    assert mid_month.periods(D(2019, 7, 1), D(2019, 9, 1)) == [D(2019, 7, 15), D(2019, 8, 15)]
    assert mid_month.next_ds(D(2019, 7, 15)) == D(2019, 8, 15)


def test_end_date_caps_the_latest_period():
    ended = Schedule("v", "@monthly", D(2019, 6, 1), end=D(2019, 9, 1))
    assert ended.latest_completed(at("2026-11-25")) == D(2019, 8, 1)
    assert Schedule("v", "@monthly", D(2030, 1, 1)).latest_completed(at("2026-11-25")) is None


def test_schedule_config_errors_are_usage_errors():
    assert from_meta("v", {"schedule": "@weekly", "start_date": "2019-01-01"}).expression == "@weekly"
    with pytest.raises(UsageError, match="schedule"):
        from_meta("v", {"schedule": "every tuesday", "start_date": "2019-01-01"})
    with pytest.raises(UsageError, match="start_date"):
        from_meta("v", {"schedule": "@monthly"})
