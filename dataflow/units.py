"""Publish units: a dataset and everything built from it, published together or not at all.

One failing dataset must not hold back the others, yet a derived table or a view must
never be published from a different version of its datasets than the one it was built
from. So the run's tables and views are grouped into units: two datasets share a unit
when a derived table or a view reads both (transitively), and each derived table and
view belongs to the unit of the datasets it reads. A unit is audited, gated, certified
and published as one (one publish transaction per unit); units that share nothing
publish independently, and a run names every unit it could not publish.

A dataset whose table is joined from other datasets (the 2019 tables: `omis_dataset`
names its company, contact and team by id) *reads* their units without joining them: it
is a materialized table, so publishing a company alone changes no published order, but
an order built from companies that are held back must not be published either. A unit
is therefore held back when a unit it reads is (`hold_readers`), and published after
the units it reads (`Unit.reads`; units come out in that order). A failing companies
extract holds back companies and the tables joined from it; a failing OMIS extract
holds back OMIS alone. Units that read each other, directly or not, are one unit.

With today's models: `contacts`, `data_hub__advisers` and `data_hub__interactions`
form one unit with the two latest-interaction tables (they read contacts or advisers
with interactions); `omis_dataset` (with its three views) and
`investment_projects_dataset` (with its view) are units that read it and
`data_hub__companies` and `data_hub__teams`; every other dataset is a unit of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """The datasets, derived tables and views that publish together, and the units they read."""

    datasets: tuple[str, ...]
    derived: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()  # the units its joined datasets are built from (their names)

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

    def summary(self) -> str:
        """One line: its name, what is built with it, and the units it is joined from."""
        built = f" with {', '.join(self.derived + self.views)}" if self.derived + self.views else ""
        return self.name + built + (f" (joined from {', '.join(self.reads)})" if self.reads else "")


def group(
    datasets: Iterable[str], derived: dict[str, tuple[str, ...]], views: dict[str, tuple[str, ...]],
    joined: dict[str, tuple[str, ...]] | None = None,
) -> list[Unit]:
    """The units of a run: `datasets` it loads, the `derived` tables and `views` it builds,
    each with the datasets it reads, and the datasets `joined` from other datasets (each
    with those). Every one of them must read only `datasets`.

    Union-find over the datasets, joining the ones a derived table or a view reads
    together, and the ones joined from each other in a cycle; units come out so that
    every unit follows the units it reads, otherwise sorted by name."""
    loaded = list(dict.fromkeys(datasets))
    parent = {name: name for name in loaded}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def union(names: Iterable[str]) -> None:
        first, *rest = names
        for other in rest:
            parent[root(other)] = root(first)

    joined = joined or {}
    for name, reads in {**derived, **views, **joined}.items():
        unknown = [d for d in reads if d not in parent]
        if unknown or not reads:
            raise ValueError(f"{name} reads {', '.join(unknown) or 'no dataset'}, not loaded in this run")
    for reads in (*derived.values(), *views.values()):
        union(reads)
    while True:  # units that read each other (a cycle of joins) become one
        edges = {root(d): {root(r) for r in reads} - {root(d)} for d, reads in joined.items()}
        cycle = _cycle(edges)
        if not cycle:
            break
        union(cycle)
    members: dict[str, list[str]] = {}
    for name in loaded:
        members.setdefault(root(name), []).append(name)
    units: dict[str, Unit] = {}
    for top, names in members.items():
        inside = set(names)
        read = {root(r) for d in names for r in joined.get(d, ())} - {top}
        units[top] = Unit(
            datasets=tuple(sorted(names)),
            derived=tuple(sorted(d for d, reads in derived.items() if set(reads) <= inside)),
            views=tuple(sorted(v for v, reads in views.items() if set(reads) <= inside)),
            reads=tuple(sorted("+".join(sorted(members[r])) for r in read)),
        )
    return _readers_last(sorted(units.values(), key=lambda unit: unit.name))


def _cycle(edges: dict[str, set[str]]) -> list[str]:
    """The nodes of one cycle in `edges` (node -> the nodes it reads), or [] when there is none."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):]  # the open nodes are the path
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node, [node])):
            return found
    return []


def _readers_last(units: list[Unit]) -> list[Unit]:
    """`units` in their order, each moved after the units it reads (they are acyclic)."""
    placed: list[Unit] = []
    names: set[str] = set()
    pending = list(units)
    while pending:
        ready = next(u for u in pending if set(u.reads) <= names)
        pending.remove(ready)
        placed.append(ready)
        names.add(ready.name)
    return placed


def hold_readers(units: list[Unit], failed: dict[str, str]) -> dict[str, str]:
    """`failed` (unit name -> why it is held back) with every unit that reads a held unit,
    directly or not, added: it was built from data that is not published."""
    held = dict(failed)
    for unit in units:  # readers come after what they read
        if unit.name not in held:
            blocked = [name for name in unit.reads if name in held]
            if blocked:
                held[unit.name] = joined_from_held(blocked)
    return held


def joined_from_held(blocked: list[str]) -> str:
    """Why a unit is held back with the units it is joined from."""
    return f"joined from {', '.join(blocked)}, {'which is' if len(blocked) == 1 else 'which are'} held back"


def unit_of(units: list[Unit], member: str) -> Unit | None:
    """The unit a dataset, derived table or view belongs to (None: not in this run)."""
    return next((unit for unit in units if member in unit.members()), None)


def not_published(failed: dict[str, str]) -> str:
    """One line naming every unit not published and why."""
    if len(failed) == 1:
        ((unit, reason),) = failed.items()
        return f"{unit} not published: {reason}"
    return f"{len(failed)} units not published: " + "; ".join(f"{unit}: {reason}" for unit, reason in failed.items())
