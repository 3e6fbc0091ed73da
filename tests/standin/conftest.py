"""Fixtures of the stand-in's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_standin import COUNTS, HAWK_ID, HAWK_KEY

from standin import StandIn


@pytest.fixture
def make() -> Iterator:
    """Factory for throwaway servers (fault and change tests mutate state)."""
    started: list[StandIn] = []

    def start(**kwargs: Any) -> StandIn:
        kwargs.setdefault("counts", COUNTS)
        running = StandIn(hawk_id=HAWK_ID, hawk_key=HAWK_KEY, **kwargs).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
