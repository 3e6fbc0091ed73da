"""Publish units: a dataset and everything built from it, published together or not at all.

One failing dataset must not hold back the others, yet a derived table or a view must
never be published from a different version of its datasets than the one it was built
from. So the run's tables and views are grouped into units: two datasets share a unit
when a derived table or a view reads both (transitively), and each derived table and
view belongs to the unit of the datasets it reads. A unit is audited, gated, certified
and published as one (one publish transaction per unit); units that share nothing
publish independently, and a run names every unit it could not publish.

A dataset whose table is joined from other datasets (the 2019 tables: `omis_dataset`
names its company, contact and team by id) shares a unit with the datasets it reads.

With today's models: `omis_dataset`, `investment_projects_dataset`, `contacts`,
`data_hub__companies`, `data_hub__advisers`, `data_hub__teams` and
`data_hub__interactions` form one unit with the two latest-interaction tables and the
report views; every other dataset is a unit of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """The datasets, derived tables and views that publish together."""

    datasets: tuple[str, ...]
    derived: tuple[str, ...] = ()
    views: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Its datasets, sorted, joined by '+': 'data_hub__company_referrals', 'contacts+data_hub__advisers+…'."""
        return "+".join(self.datasets)

    @property
    def tables(self) -> tuple[str, ...]:
        """What publishing writes: the datasets, then the derived tables."""
        return self.datasets + self.derived

    def members(self) -> tuple[str, ...]:
        return self.tables + self.views


def group(
    datasets: Iterable[str], derived: dict[str, tuple[str, ...]], views: dict[str, tuple[str, ...]],
    joined: dict[str, tuple[str, ...]] | None = None,
) -> list[Unit]:
    """The units of a run: `datasets` it loads, the `derived` tables and `views` it builds,
    each with the datasets it reads, and the datasets `joined` from other datasets (each
    with those). Every one of them must read only `datasets`.

    Union-find over the datasets, joining the ones a derived table, a view or a joined
    dataset reads together; units come out sorted by name."""
    loaded = list(dict.fromkeys(datasets))
    parent = {name: name for name in loaded}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    readers = {**derived, **views, **{name: (name, *reads) for name, reads in (joined or {}).items()}}
    for name, reads in readers.items():
        unknown = [d for d in reads if d not in parent]
        if unknown or not reads:
            raise ValueError(f"{name} reads {', '.join(unknown) or 'no dataset'}, not loaded in this run")
        for other in reads[1:]:
            parent[root(other)] = root(reads[0])
    members: dict[str, list[str]] = {}
    for name in loaded:
        members.setdefault(root(name), []).append(name)
    units = []
    for names in members.values():
        inside = set(names)
        units.append(Unit(
            datasets=tuple(sorted(names)),
            derived=tuple(sorted(d for d, reads in derived.items() if set(reads) <= inside)),
            views=tuple(sorted(v for v, reads in views.items() if set(reads) <= inside)),
        ))
    return sorted(units, key=lambda unit: unit.name)


def unit_of(units: list[Unit], member: str) -> Unit | None:
    """The unit a dataset, derived table or view belongs to (None: not in this run)."""
    return next((unit for unit in units if member in unit.members()), None)


def not_published(failed: dict[str, str]) -> str:
    """One line naming every unit not published and why."""
    if len(failed) == 1:
        ((unit, reason),) = failed.items()
        return f"{unit} not published: {reason}"
    return f"{len(failed)} units not published: " + "; ".join(f"{unit}: {reason}" for unit, reason in failed.items())
