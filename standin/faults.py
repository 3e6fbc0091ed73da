"""Fault injection for the stand-in, so failure handling can be tested.

A fault names a dataset, a mode and (for per-request modes) the 1-based page
it hits and how many times. Counters live in ``FaultBook`` so ``times=1``
means "the first request for that page fails, the retry succeeds".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from standin.data import ALL_PATHS

#: Modes that replace or delay the answer to one request for one page. ``foreign_next``
#: points that page's ``next`` at ``target`` (another server), ``redirect`` answers it with
#: an unsigned 302 to ``target``, ``empty_next`` gives it ``"next": ""``.
REQUEST_MODES = frozenset({"500", "429", "stall", "forged_signature", "truncated_json", "no_results",
                           "foreign_next", "redirect", "empty_next"})
#: Modes that change the dataset itself; ``page`` and ``times`` are ignored. ``endless``
#: hands out a new cursor after every page, over the same records again; ``set_field``
#: gives the record at position ``record`` the field ``field`` with the raw JSON ``raw``.
DATASET_MODES = frozenset({"shrink", "null_not_null", "duplicate_key", "wrong_type", "unfit_value", "endless",
                           "set_field"})
MODES = REQUEST_MODES | DATASET_MODES


@dataclass(frozen=True)
class Fault:
    """One injected failure.

    ``page`` is 1-based; ``times=None`` fails every matching request, ``times=n``
    only the first ``n``. ``retry_after`` is the 429 ``Retry-After`` seconds;
    ``stall_seconds`` how long "stall" sleeps before answering normally.
    """

    dataset: str
    mode: str
    page: int = 1
    times: int | None = None
    retry_after: int = 1
    stall_seconds: float = 30.0
    target: str = ""  # foreign_next, redirect: the URL to send the client to
    field: str = ""  # set_field: the field's name
    raw: bytes = b""  # set_field: its value, as raw JSON text (sent exactly, however odd)
    record: int = 0  # set_field: the record's position in the dataset as served

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; expected one of {sorted(MODES)}")
        if self.dataset not in ALL_PATHS:
            raise ValueError(f"unknown dataset {self.dataset!r} for fault")
        if self.page < 1:
            raise ValueError("fault page is 1-based and must be >= 1")
        if self.times is not None and self.times < 0:
            raise ValueError("fault times must be None or >= 0")


class FaultBook:
    """Thread-safe set of active faults with per-fault firing counters."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._fired: list[int] = []
        self.replace(faults)

    def replace(self, faults: Iterable[Fault]) -> None:
        """Swap in a new list of faults and reset all counters."""
        faults = list(faults)
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected Fault, got {type(fault).__name__}")
        with self._lock:
            self._faults = faults
            self._fired = [0] * len(faults)

    def take(self, dataset: str, page: int) -> Fault | None:
        """The first still-armed per-request fault for this page, counting it as fired."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if (
                    fault.mode in REQUEST_MODES
                    and fault.dataset == dataset
                    and fault.page == page
                    and (fault.times is None or self._fired[i] < fault.times)
                ):
                    self._fired[i] += 1
                    return fault
        return None

    @property
    def empty(self) -> bool:
        """Whether no fault at all is active."""
        with self._lock:
            return not self._faults

    def has(self, dataset: str, mode: str) -> bool:
        """Whether a dataset-wide fault ``mode`` is active for ``dataset``."""
        return bool(self.all(dataset, mode))

    def all(self, dataset: str, mode: str) -> list[Fault]:
        """The dataset-wide faults ``mode`` active for ``dataset``."""
        with self._lock:
            return [f for f in self._faults if f.dataset == dataset and f.mode == mode]
