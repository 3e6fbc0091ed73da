"""Publish units: one failing dataset holds back its own unit (the datasets and derived
tables built together, and the views over them) and nothing else.

Each case publishes every dataset once (seed 0), then runs against another upstream
(seed 1) with one fault. The failing unit's tables and views must be exactly as before;
every other unit must hold seed 1's data, cell for cell, as computed from the stand-in's
records by tests/expected.py; the run must exit 1 with one line naming the unit and why,
and the run history must say the same.
"""

from __future__ import annotations

import re
from collections import Counter

import expected
import pytest
from conftest import HAWK_ID, ROOT, new_database
from runner import fetch, fingerprint, run_orchestrate
from test_end_to_end import assert_dataset
from test_faults import assert_one_line_failure

from dataflow.units import Unit, group, hold_readers
from standin.faults import Fault
from standin.server import StandIn

COUNTS = {"omis_dataset": 60, "investment_projects_dataset": 50, "contacts": 70,
          "data_hub__teams": 5, "data_hub__advisers": 20, "data_hub__companies": 30, "data_hub__events": 10,
          "data_hub__interactions": 120, "data_hub__interaction_export_countries": 30,
          "data_hub__company_export_countries": 30, "data_hub__company_export_country_histories": 30,
          "data_hub__company_referrals": 20}
SEED_DATASETS = ("omis_dataset", "investment_projects_dataset", "contacts")
PEOPLE = {"data_hub__contacts_latest_interactions": ("contacts", "contact_ids"),
          "data_hub__advisers_latest_interactions": ("data_hub__advisers", "adviser_ids")}
SUFFIX = "_2019_08_31"


def references(path) -> set[str]:
    """The datasets a model's SQL names, read from its text and the macros it calls (refs, sources)."""
    text = path.read_text()
    for macro in (ROOT / "dbt_project" / "macros").glob("*.sql"):
        if f"{macro.stem}(" in text:
            text += macro.read_text()
    return set(re.findall(r"ref\('(\w+)'\)", text)) | set(re.findall(r"source\('datahub', '(\w+)'\)", text))


def project_units() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Every unit as the set of its members, and the units each unit's joined datasets read,
    worked out here from the models' SQL files."""
    models = ROOT / "dbt_project" / "models"
    readers = {p.stem: references(p) for folder in ("derived", "views") for p in (models / folder).glob("*.sql")}
    members = [{d} for d in COUNTS]
    for name, reads in readers.items():
        joined = [m for m in members if m & reads]
        members = [m for m in members if not m & reads] + [set().union(*joined, {name})]
    units = {"+".join(sorted(m & set(COUNTS))): m for m in members}
    # A dataset model that reads other datasets (a 2019 table joined by ids) reads their units.
    reads = {unit: set() for unit in units}
    for path in (models / "datasets").glob("*.sql"):
        mine = next(unit for unit, m in units.items() if path.stem in m)
        reads[mine] |= {unit for unit, m in units.items() if m & (references(path) - {path.stem})} - {mine}
    return units, reads


UNITS, READS = project_units()
CONTACTS_UNIT = "contacts+data_hub__advisers+data_hub__interactions"
#: The units a failing companies extract holds back: its own, and every unit joined from it.
COMPANIES_READERS = ("data_hub__companies", CONTACTS_UNIT, "investment_projects_dataset", "omis_dataset")


def test_the_project_groups_what_is_built_together():
    assert UNITS[CONTACTS_UNIT] == {"contacts", "data_hub__advisers", "data_hub__interactions", *PEOPLE}
    assert UNITS["omis_dataset"] == {"omis_dataset", "completed_omis_orders", "cancelled_omis_orders",
                                     "omis_client_survey"}
    assert UNITS["investment_projects_dataset"] == {"investment_projects_dataset", "investment_projects"}
    assert UNITS["data_hub__events"] == {"data_hub__events"}
    assert len(UNITS) == 10
    assert READS["omis_dataset"] == READS["investment_projects_dataset"] == {
        CONTACTS_UNIT, "data_hub__companies", "data_hub__teams"}
    assert READS[CONTACTS_UNIT] == {"data_hub__companies"}
    assert sum(map(bool, READS.values())) == 3


def test_the_run_groups_the_units_as_the_models_say(tmp_path):
    """`orchestrate.py --list` prints the units worked out above, each after what it reads."""
    listed = run_orchestrate(["--list"], {}, tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.split("publish units", 1)[1].splitlines()[1:]
    names = [line.split()[0] for line in lines]
    assert set(names) == set(UNITS)
    for line, name in zip(lines, names, strict=True):
        joined = re.search(r"\(joined from (.*)\)$", line)
        assert set(joined.group(1).split(", ") if joined else ()) == READS[name], line
        assert all(names.index(read) < names.index(name) for read in READS[name])


def test_group_joins_datasets_read_together_and_nothing_else():
    units = group(["a", "b", "c", "d"], {"ab": ("a", "b")}, {"v_b": ("b",), "v_c": ("c",), "v_cd": ("c", "d")})
    assert units == [Unit(("a", "b"), ("ab",), ("v_b",)), Unit(("c", "d"), (), ("v_c", "v_cd"))]
    assert [u.name for u in group(["x"], {}, {})] == ["x"]
    with pytest.raises(ValueError, match="reads z, not loaded"):
        group(["a"], {"az": ("a", "z")}, {})
    # A dataset joined from others (a 2019 table naming companies by id) reads their units,
    # and comes after them.
    joined = group(["a", "b", "c", "d"], {}, {"v_a": ("a",)}, {"a": ("b", "c")})
    assert joined == [Unit(("b",)), Unit(("c",)), Unit(("a",), (), ("v_a",), ("b", "c")), Unit(("d",))]
    # Datasets joined from each other, directly or not, are one unit.
    assert group(["a", "b", "c", "d"], {}, {}, {"a": ("b",), "b": ("c",), "c": ("a",), "d": ("a",)}) == [
        Unit(("a", "b", "c")), Unit(("d",), reads=("a+b+c",))]
    with pytest.raises(ValueError, match="reads z, not loaded"):
        group(["a"], {}, {}, {"a": ("z",)})


def test_a_held_unit_holds_back_every_unit_joined_from_it_and_nothing_else():
    units = group(["a", "b", "c", "d"], {}, {}, {"a": ("b",), "b": ("c",)})
    assert hold_readers(units, {"c": "HTTP 500"}) == {
        "c": "HTTP 500", "b": "joined from c, which is held back", "a": "joined from b, which is held back"}
    assert hold_readers(units, {"a": "HTTP 500"}) == {"a": "HTTP 500"}


def unit_state(url: str, unit: str) -> dict[str, object]:
    """The fingerprint of one unit: its tables and its views (of every period), rows, OIDs, grants."""
    members = UNITS[unit]

    def owned(relation: str) -> bool:  # a table of the unit, or one of its views (any period)
        return relation in members or re.sub(r"_\d{4}_\d{2}_\d{2}$", "", relation) in members

    full = fingerprint(url)
    return {"relations": [r for r in full["relations"] if owned(r[0])],
            **{name: value for name, value in full.items() if owned(name)},
            "grants": [g for g in full["grants"] if owned(g[0])]}


def assert_published(url: str, standin: StandIn, units: list[str]) -> None:
    """Every table of `units` holds exactly what the stand-in serves now."""
    for unit in units:
        for table in sorted(UNITS[unit]):
            if table in SEED_DATASETS:
                served = {d: standin.current_records(d) for d in COUNTS}
                assert_dataset(url, table, expected.published_rows(table, served[table], served))
            elif table in expected.LATER_DATASETS:
                names = ", ".join(column for _, column, *_ in expected.LATER_DATASETS[table]["fields"])
                rows = fetch(url, f"select {names} from public.{table}")[1]
                want = expected.later_rows(table, standin.current_records(table))
                assert Counter(map(repr, rows)) == Counter(map(repr, want)), table
            elif table in PEOPLE:
                people, field = PEOPLE[table]
                want = expected.latest_interactions([p["id"] for p in standin.current_records(people)],
                                                    standin.current_records("data_hub__interactions"), field)
                assert dict(fetch(url, f"select * from public.{table}")[1]) == want, table


CASES = {
    # A dbt test fails: a later dataset alone.
    "null key": (Fault("data_hub__events", "null_not_null"), ("data_hub__events",), "not_null_data_hub__events_id"),
    # An extract fails: companies, and the units joined from it (contacts, OMIS, investment
    # projects); teams, which those read too, is published.
    "extract fails": (Fault("data_hub__companies", "500", page=1), COMPANIES_READERS, "HTTP 500"),
    # The quality gate refuses: a later dataset alone.
    "shrinks": (Fault("data_hub__company_referrals", "shrink"), ("data_hub__company_referrals",),
                "below 90% of the 20 published"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failing_unit_is_held_back_and_every_other_unit_is_published(server_url, hawk_key, tmp_path, case):
    fault, failing, reason = CASES[case]
    with new_database(server_url) as url:
        def run(seed: int, faults: list[Fault]):
            with StandIn(counts=COUNTS, page_size=25, seed=seed, faults=faults, hawk_id=HAWK_ID,
                         hawk_key=hawk_key) as standin:
                env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID,
                       "HAWK_KEY": hawk_key, "DATAHUB_RETRY_SECONDS": "2"}
                return standin, run_orchestrate(["--ds", "2019-08-01", "--full-refresh"], env, tmp_path)

        _, first = run(0, [])
        assert first.returncode == 0, first.stderr
        before = {unit: unit_state(url, unit) for unit in failing}
        assert all(state["relations"] for state in before.values())
        raw_ids = f"select md5(string_agg(id::text, ',' order by id)) from raw.{fault.dataset}"
        raw_before = fetch(url, raw_ids)[1]

        standin, result = run(1, [fault])
        head = f"{failing[0]} not published: " if len(failing) == 1 else f"{len(failing)} units not published: "
        assert_one_line_failure(result, 1, head, reason, *failing)
        assert f"held     {failing[0]}: " in result.stdout and reason in result.stdout
        for unit in failing:
            assert unit_state(url, unit) == before[unit], unit
            if unit != failing[0]:  # held back because it is joined from a held unit
                assert re.search(rf"held +{re.escape(unit)}: joined from .*held back", result.stdout), unit
        if case == "extract fails":  # a dataset whose fetch failed keeps its raw table as it was
            assert fetch(url, raw_ids)[1] == raw_before
        others = [unit for unit in UNITS if unit not in failing]
        assert_published(url, standin, others)
        views = {name for name, kind, *_ in fingerprint(url)["relations"] if kind == "v"}
        for unit in others:  # the views over published units are built
            assert {v + SUFFIX for v in UNITS[unit] if v not in COUNTS and v not in PEOPLE} <= views

        _, history = fetch(url, "select status, rows, error from dataflow.run_history order by started_at")
        status, rows, error = history[-1]
        assert status == "failed" and head in error and reason in error
        assert set(rows) == {t for unit in others for t in UNITS[unit] if t in COUNTS or t in PEOPLE}

        # Once the fault is gone, the next run publishes the held unit too.
        _, again = run(1, [])
        assert again.returncode == 0, again.stderr
        assert_published(url, standin, list(UNITS))


def test_a_unit_held_after_an_earlier_failed_run_stays_as_it_was(server_url, hawk_key, tmp_path):
    """The reported sequence: a full run, an incremental one, a full refresh on which every
    dataset fails from page 3 on, then one on which the seed datasets serve half their
    records. Each held unit must stay exactly as it was through both failed runs."""
    from standin.data import ALL_PATHS

    with new_database(server_url) as url:
        def run(ds: str, faults: list[Fault], *args: str):
            with StandIn(counts=COUNTS, page_size=25, faults=faults, hawk_id=HAWK_ID, hawk_key=hawk_key) as standin:
                env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID,
                       "HAWK_KEY": hawk_key, "DATAHUB_RETRY_SECONDS": "1"}
                return run_orchestrate(["--ds", ds, *args], env, tmp_path)

        assert run("2019-08-01", []).returncode == 0
        assert run("2019-09-01", []).returncode == 0
        before = {unit: unit_state(url, unit) for unit in UNITS}
        failing = run("2019-10-01", [Fault(d, "500", page=p) for d in ALL_PATHS for p in range(3, 10)],
                      "--full-refresh")
        assert failing.returncode == 1
        held = {line.split(":", 1)[0].split()[-1] for line in failing.stdout.splitlines() if "  held  " in line}
        assert CONTACTS_UNIT in held
        for unit in held:
            assert unit_state(url, unit) == before[unit], unit
        before = {unit: unit_state(url, unit) for unit in UNITS}  # the units run 3 published are new
        shrunk = run("2019-10-01", [Fault(d, "shrink") for d in SEED_DATASETS], "--full-refresh")
        assert shrunk.returncode == 1
        assert f"held     {CONTACTS_UNIT}: contacts has 35 rows, below 90% of the 70 published" in shrunk.stdout
        assert unit_state(url, CONTACTS_UNIT) == before[CONTACTS_UNIT]
        assert fetch(url, "select count(*) from public.contacts")[1] == [(70,)]
