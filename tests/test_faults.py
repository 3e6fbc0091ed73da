"""Failed, partial, suspicious or interrupted runs leave the published data exactly as it was.

One database is published once (seed 0); every failing run then offers *different* data
(seed 1), so a run that published anything would change the fingerprint. A failing run
here loads the faulted dataset (`--datasets`) with the datasets it is joined from: the
fault must leave its unit unpublished (those others may publish; that other units
publish beside a failing one is tests/test_publish_units.py's subject).
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg2
import pytest
from conftest import HAWK_ID, ROOT, new_database
from expected import TODAY
from runner import dbt_environment, fetch, fingerprint, orchestrate_command, project_copy, run_orchestrate

from extract.sources.datahub.settings import MAX_ATTEMPTS
from standin.data import record, records
from standin.faults import Fault
from standin.server import StandIn

COUNTS = {"omis_dataset": 240, "investment_projects_dataset": 160, "contacts": 200}
PAGE_SIZE = 40
HAWK_KEY = "fault-suite-hawk-key-7d1c"
DB_PASSWORD = "db-password-5e2a"  # the embedded server trusts local connections and ignores it
FAST_RETRIES = {"DATAHUB_REQUEST_TIMEOUT": "1", "DATAHUB_RETRY_SECONDS": "3"}


def with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@", 1)


class Published:
    """The module's published database and how to run against it."""

    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work

    def env(self, standin: StandIn | None, **extra: str) -> dict[str, str]:
        env = {"DATABASE_URL": with_password(self.url), "HAWK_ID": HAWK_ID, "HAWK_KEY": HAWK_KEY}
        if standin is not None:
            env["DATAHUB_BASE_URL"] = standin.base_url
        env.update(extra)
        return env

    def standin(self, faults=(), seed: int = 1, counts: dict[str, int] | None = None) -> StandIn:
        return StandIn(counts=counts or COUNTS, page_size=PAGE_SIZE, seed=seed, faults=list(faults),
                       hawk_id=HAWK_ID, hawk_key=HAWK_KEY)

    def run(self, faults=(), args=(), seed: int = 1, counts: dict[str, int] | None = None,
            **extra: str) -> subprocess.CompletedProcess[str]:
        """A run over another upstream (another seed): fetched whole, as only a full refresh sees it."""
        with self.standin(faults, seed, counts) as standin:
            return run_orchestrate(["--ds", "2019-08-01", "--full-refresh", *args], self.env(standin, **extra),
                                   self.work)


@pytest.fixture(scope="module")
def published(server_url: str, tmp_path_factory) -> Published:
    with new_database(server_url) as url:
        state = Published(url, tmp_path_factory.mktemp("work"))
        result = state.run(seed=0)
        assert result.returncode == 0, result.stderr
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("create role analyst_ro")
            cursor.execute("grant select on public.omis_dataset, public.contacts to analyst_ro")
        yield state


@pytest.fixture(scope="module")
def faulted(server_url: str, tmp_path_factory) -> Published:
    """A second published database (seed 0) for the runs whose fault holds back a dataset
    while the datasets it is joined from publish (another seed): they change what the
    other tests of this module expect to find, so they run here."""
    with new_database(server_url) as url:
        state = Published(url, tmp_path_factory.mktemp("faulted"))
        result = state.run(seed=0)
        assert result.returncode == 0, result.stderr
        yield state


@pytest.fixture
def unchanged(published: Published):
    """Assert, after the test, that nothing an analyst can see has changed."""
    before = fingerprint(published.url)
    assert any(name.startswith("completed_omis_orders_2019_08_31") for name, *_ in before["relations"])
    assert before["grants"]
    yield published
    assert fingerprint(published.url) == before


def assert_one_line_failure(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    for secret in (HAWK_KEY, DB_PASSWORD):
        assert secret not in result.stdout + result.stderr


# ---------------------------------------------------------------- faults that must fail the run

FAILING = {
    "500 on every attempt": ([Fault("contacts", "500", page=2)], "HTTP 500"),
    "429 on every attempt": ([Fault("omis_dataset", "429", page=2, retry_after=1)], "HTTP 429"),
    "stalls past the timeout": ([Fault("contacts", "stall", page=2, stall_seconds=8)], "did not answer in time"),
    "forged response signature": ([Fault("omis_dataset", "forged_signature", page=3)], "Hawk verification"),
    "truncated JSON": ([Fault("investment_projects_dataset", "truncated_json", page=2)], "not valid JSON"),
    "page without results": ([Fault("contacts", "no_results", page=3)], "no 'results'"),
    "fewer rows than before": ([Fault("contacts", "shrink")], "below 90% of the 200 published"),
    "NOT NULL field arriving null": (
        [Fault("investment_projects_dataset", "null_not_null")], 'null value in column "name"'),
    "null key": ([Fault("omis_dataset", "null_not_null")], "not_null_omis_dataset_omis_order_reference"),
    "duplicate key": ([Fault("omis_dataset", "duplicate_key")], "Data Hub sent the same id twice in one fetch"),
    "a value of another type": ([Fault("omis_dataset", "wrong_type")],
                                "omis_dataset.subtotal_cost should be bigint, Data Hub sent 'twelve' "
                                f"(the record with id {record('omis_dataset', 2, seed=1)['id']!r})"),
    # Text that fits raw but not the published type fails the audit's cast in dbt.
    "a date that is not a date": ([Fault("omis_dataset", "unfit_value")],
                                  "omis_dataset.delivery_date should be an ISO 8601 date (YYYY-MM-DD), "
                                  "Data Hub sent '31/08/2019' "
                                  f"(the record with id {record('omis_dataset', 3, seed=1)['id']!r})"),
    "a timestamp that is not a timestamp": (
        [Fault("investment_projects_dataset", "unfit_value")],
        "investment_projects_dataset.created_on should be an ISO 8601 timestamp with Z or an offset, "
        "Data Hub sent 'last Tuesday' "
        f"(the record with id {record('investment_projects_dataset', 3, seed=1)['id']!r})"),
    "text too long for its varchar": ([Fault("contacts", "unfit_value")],
                                      "contacts.email is longer than 255 characters "
                                      f"(the record with id {record('contacts', 3, seed=1)['id']!r})"),
}


@contextmanager
def unchanged_but_what(published: Published, dataset: str) -> Iterator[None]:
    """Assert that a `--datasets <dataset>` run changes nothing an analyst can see but the
    tables of the datasets `dataset` is joined from: the run loads those too, and they
    publish (from another seed) whatever happens to `dataset`."""
    model = (ROOT / "dbt_project" / "models" / "datasets" / f"{dataset}.sql").read_text()
    joined_from = set(re.findall(r"(?:ref|source)\('(?:datahub', ')?(\w+)'\)", model)) - {dataset}
    before = fingerprint(published.url)
    yield
    after = fingerprint(published.url)
    assert {k: v for k, v in after.items() if k not in joined_from} == \
        {k: v for k, v in before.items() if k not in joined_from}


@pytest.mark.parametrize("case", list(FAILING))
def test_fault_fails_the_run_and_publishes_nothing_of_its_dataset(faulted: Published, case: str) -> None:
    faults, message = FAILING[case]
    dataset = faults[0].dataset
    with unchanged_but_what(faulted, dataset):
        # run_orchestrate's timeout is the hang guard
        result = faulted.run(faults, args=["--datasets", dataset], **FAST_RETRIES)
    assert_one_line_failure(result, 1, f"error: {dataset} not published: ", message)
    # The 3 s retry budget, not the attempt cap (nor the default 120 s budget), ended any retrying.
    retries = [line for line in result.stderr.splitlines() if "retrying " in line]
    assert len(retries) < MAX_ATTEMPTS - 1, retries


def test_shrink_is_published_when_allowed(server_url: str, tmp_path: Path) -> None:
    with new_database(server_url) as url:
        state = Published(url, tmp_path)
        assert state.run(seed=0).returncode == 0
        result = state.run([Fault("contacts", "shrink")], args=["--allow-shrink"])
        assert result.returncode == 0, result.stderr
        assert fetch(url, "select count(*) from public.contacts")[1] == [(COUNTS["contacts"] // 2,)]


FEW_CONTACTS = {**COUNTS, "contacts": 8}


def all_null_contact_fields() -> list[str]:
    """Computed from the stand-in's records: the declared source fields empty in all 8 contacts."""
    rows = list(records("contacts", FEW_CONTACTS["contacts"], seed=1))
    endpoint = next(e for e in TODAY["endpoints"] if e["endpoint"] == "/v4/dataset/contacts-dataset")
    return [f for f, _ in endpoint["fields"] if all(row.get(f) is None for row in rows)]  # in declared order


def test_all_null_column_fails_when_asked(faulted: Published) -> None:
    empty = all_null_contact_fields()
    assert empty
    with unchanged_but_what(faulted, "contacts"):
        result = faulted.run(args=["--null-columns", "fail", "--allow-shrink", "--datasets", "contacts"],
                             counts=FEW_CONTACTS)
    assert_one_line_failure(result, 1, "null in every record: " + ", ".join(empty))


def test_all_null_column_warns_by_default(server_url: str, tmp_path: Path) -> None:
    with new_database(server_url) as url:
        result = Published(url, tmp_path).run(counts=FEW_CONTACTS)
    assert result.returncode == 0, result.stderr
    assert "warning  contacts: source field(s) null in every record: " + ", ".join(all_null_contact_fields()) \
        in result.stderr


# ---------------------------------------------------------------- passing faults

def test_passing_faults_are_retried_with_fresh_signatures(server_url: str, tmp_path: Path) -> None:
    faults = [
        Fault("contacts", "500", page=2, times=1),
        Fault("omis_dataset", "429", page=3, times=1, retry_after=2),
        Fault("investment_projects_dataset", "stall", page=2, times=1, stall_seconds=5),
    ]
    with new_database(server_url) as url:
        state = Published(url, tmp_path)
        with state.standin(faults) as standin:
            result = run_orchestrate(["--ds", "2019-08-01"], state.env(standin, DATAHUB_REQUEST_TIMEOUT="2"),
                                     tmp_path)
            # The log holds answered requests: the stalled one is answered (to a client that
            # gave up on it) when its stall ends, which a fast run may not have waited for.
            stalled = faults[2]
            wait_for(lambda: sum(e["dataset"] == stalled.dataset and e["page"] == stalled.page
                                 for e in standin.requests_log) >= 2, timeout=stalled.stall_seconds + 5)
            log = standin.requests_log
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("retrying") >= 2  # the stall ends as a read timeout, also retried
        for fault in faults:
            attempts = [e for e in log if e["dataset"] == fault.dataset and e["page"] == fault.page]
            assert len(attempts) == 2, attempts
            assert attempts[0]["nonce"] != attempts[1]["nonce"]
            if fault.mode == "429":
                assert attempts[1]["time"] - attempts[0]["time"] >= 2, "Retry-After was not honoured"
        for dataset, count in COUNTS.items():
            assert fetch(url, f"select count(*) from public.{dataset}")[1] == [(count,)]


# ---------------------------------------------------------------- bad input

BAD_INPUT = {
    "ds not a date": (["--ds", "2019-13-01"], {}, "--ds must be a date"),
    "ds words": (["--ds", "yesterday"], {}, "--ds must be a date"),
    "ds in the future": (["--ds", "2999-01-01"], {}, "in the future"),
    "unknown dataset": (["--ds", "2019-08-01", "--datasets", "omis,contacts"], {}, "unknown dataset 'omis'"),
    "unknown view": (["--ds", "2019-08-01", "--views", "completed_orders"], {}, "unknown view 'completed_orders'"),
    "unreachable database": (
        ["--ds", "2019-08-01"], {"DATABASE_URL": f"postgresql://dataflow:{DB_PASSWORD}@127.0.0.1:9/x"},
        "cannot connect to the database at 127.0.0.1:9/x"),
    "malformed base URL": (["--ds", "2019-08-01"], {"DATAHUB_BASE_URL": "datahub.example"},
                           "DATAHUB_BASE_URL must be an http(s) URL"),
    "base URL bad port": (["--ds", "2019-08-01"], {"DATAHUB_BASE_URL": "http://localhost:99999"},
                          "DATAHUB_BASE_URL has an invalid port"),
    "missing HAWK_ID": (["--ds", "2019-08-01"], {"HAWK_ID": ""}, "HAWK_ID must be set"),
    "missing HAWK_KEY": (["--ds", "2019-08-01"], {"HAWK_KEY": ""}, "HAWK_KEY must be set"),
    "unknown option": (["--ds", "2019-08-01", "--frobnicate"], {}, "unrecognized arguments"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_one_line_usage_error(unchanged: Published, case: str) -> None:
    args, overrides, message = BAD_INPUT[case]
    with unchanged.standin() as standin:
        env = unchanged.env(standin)
        env.update(overrides)
        result = run_orchestrate(args, env, unchanged.work)
        assert not standin.requests_log, "a usage error must stop before fetching anything"
    assert_one_line_failure(result, 2, message)


# ---------------------------------------------------------------- interruption and concurrency

def start(published: Published, standin: StandIn, *args: str, **extra: str) -> subprocess.Popen[str]:
    command, env = orchestrate_command(["--ds", "2019-08-01", "--full-refresh", *args],
                                       published.env(standin, **extra), published.work)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def survivors(processes: list[psutil.Process]) -> list[str]:
    """The processes still running (a zombie has ended), as readable names."""
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline())[-80:])
    return alive


def wait_for(condition, timeout: float = 300.0) -> None:
    """Poll until `condition()` holds; `timeout` is a hang guard, far above the normal wait."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def test_second_run_exits_at_once_while_one_is_in_progress(unchanged: Published) -> None:
    # The first run waits an hour on contacts' page 2 (stall and request timeout alike): it holds
    # the lock until the test kills it, so a second run that waited for the lock would never end.
    with unchanged.standin([Fault("contacts", "stall", page=2, stall_seconds=3600)]) as standin:
        first = start(unchanged, standin, DATAHUB_REQUEST_TIMEOUT="3600")
        try:
            # The log records a request when it is answered: page 1 answered means page 2 is stalling.
            wait_for(lambda: any(e["dataset"] == "contacts" and e["page"] == 1 for e in standin.requests_log))
            with unchanged.standin() as other:
                second = run_orchestrate(["--ds", "2019-08-01"], unchanged.env(other), unchanged.work,
                                         timeout=300)  # a hang guard: waiting for the lock would hit it
                assert not other.requests_log, "the second run must stop before fetching anything"
            assert_one_line_failure(second, 3, "another data-flow run is in progress")
            assert first.poll() is None, "the second run ended only once the first had"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()


def test_kill_9_mid_extraction_then_rerun(published: Published) -> None:
    before = fingerprint(published.url)
    with published.standin([Fault("contacts", "stall", page=3, stall_seconds=60)]) as standin:
        process = start(published, standin)
        # Page 2 answered: page 3 is being fetched (and stalls), the other datasets are under way.
        wait_for(lambda: any(e["dataset"] == "contacts" and e["page"] == 2 for e in standin.requests_log))
        time.sleep(0.5)
        assert process.poll() is None
        helpers = psutil.Process(process.pid).children(recursive=True)
        assert helpers, "the run works with helper processes (dbt, batch conversion)"
        process.send_signal(signal.SIGKILL)
        process.wait()
    # No helper outlives a killed run (an orphaned one would hold memory, or wait forever).
    wait_for(lambda: not survivors(helpers), timeout=120)  # they notice within a second or so
    assert fingerprint(published.url) == before
    # The next run starts clean and completes, publishing seed 1's data (which differs).
    result = published.run(seed=1)
    assert result.returncode == 0, result.stderr
    after = fingerprint(published.url)
    assert after != before
    _, rows = fetch(published.url, "select count(*) from public.contacts")
    assert rows == [(COUNTS["contacts"],)]
    # Put seed 0 back for the other tests of this module.
    assert published.run(seed=0).returncode == 0
    assert fingerprint(published.url)["contacts"] == before["contacts"]


def test_kill_9_inside_the_publish_transaction(unchanged: Published) -> None:
    """Block the publish on the last table of a unit, kill the run there: the whole unit rolls back.

    The unit of contacts, interactions and advisers publishes five tables, the derived
    table last; contacts, refreshed first, must come back as it was too."""
    last = "data_hub__contacts_latest_interactions"
    contacts = fingerprint(unchanged.url)["contacts"]
    blocker = psycopg2.connect(unchanged.url)
    with blocker.cursor() as cursor:
        cursor.execute(f"lock table public.{last} in share mode")  # DELETE will wait for it
    try:
        with unchanged.standin() as standin:
            process = start(unchanged, standin, "--datasets", "contacts,data_hub__interactions,data_hub__advisers")
            def publishing() -> bool:
                _, rows = fetch(unchanged.url, f"""
                    select count(*) from pg_stat_activity
                    where wait_event_type = 'Lock' and query ilike 'delete from%{last}%'""")
                return rows[0][0] > 0
            wait_for(publishing)
            # Meanwhile a reader still sees the old rows of a table the run already replaced.
            assert fingerprint(unchanged.url)["contacts"] == contacts
            process.send_signal(signal.SIGKILL)
            process.wait()
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(lambda: fetch(unchanged.url, "select count(*) from pg_stat_activity where query ilike "
                                          f"'delete from%{last}%'")[1][0][0] == 0)


# ---------------------------------------------------------------- survivors and secrets

def widened_to_bigint(tmp_path: Path, dataset: str, source: str, column: str) -> Path:
    """A project copy whose `dataset` model casts `source` to bigint and declares its
    `column` bigint: a contract no longer matching the published integer column."""
    copy = project_copy(tmp_path)
    model = copy / "dbt_project" / "models" / "datasets"
    sql = (model / f"{dataset}.sql").read_text()
    (model / f"{dataset}.sql").write_text(sql.replace(f"cast({source} as integer)", f"cast({source} as bigint)"))
    yml = (model / f"{dataset}.yml").read_text()
    marker = f"      - name: {column}\n"
    head, tail = yml.split(marker)
    (model / f"{dataset}.yml").write_text(head + marker + tail.replace("data_type: integer", "data_type: bigint", 1))
    return copy


def test_changed_column_type_fails_loudly(published: Published, tmp_path: Path) -> None:
    copy = widened_to_bigint(tmp_path, "omis_dataset", "invoice__subtotal_cost", "subtotal")
    # The datasets OMIS is joined from publish what raw holds; OMIS and its views stay.
    with unchanged_but_what(published, "omis_dataset"), published.standin() as standin:
        result = run_orchestrate(["--ds", "2019-08-01", "--datasets", "omis_dataset"], published.env(standin),
                                 tmp_path / "work", root=copy)
    assert_one_line_failure(result, 1, "omis_dataset not published: ", "subtotal integer -> bigint")


def test_a_unit_its_published_tables_refuse_holds_back_the_units_joined_from_it(
    unchanged: Published, tmp_path: Path
) -> None:
    """Companies' publish is refused (a changed column type): contacts, built from those
    companies, is held back with it although its own audit passed."""
    copy = widened_to_bigint(tmp_path, "data_hub__companies", "number_of_employees", "number_of_employees")
    with unchanged.standin() as standin:
        result = run_orchestrate(["--ds", "2019-08-01", "--datasets", "contacts"], unchanged.env(standin),
                                 tmp_path / "work", root=copy)
    assert_one_line_failure(result, 1, "2 units not published: data_hub__companies: ",
                            "number_of_employees integer -> bigint",
                            "; contacts: joined from data_hub__companies, which is held back")


def test_secrets_never_leak_even_verbose(unchanged: Published) -> None:
    # A dataset that reads no other and that none reads: its failure fails the run whole.
    result = unchanged.run([Fault("data_hub__events", "forged_signature", page=1)],
                           args=["--verbose", "--datasets", "data_hub__events"])
    assert result.returncode == 1
    assert "Traceback" in result.stderr  # verbose does show the traceback...
    for secret in (HAWK_KEY, DB_PASSWORD):  # ...but never a secret, in output or in any log file
        assert secret not in result.stdout + result.stderr
        for path in unchanged.work.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def test_dataset_models_refuse_to_build_outside_the_audit_schema(unchanged: Published,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Running dbt by hand must not drop the published tables (and every view on them)."""
    from dbt.cli.main import dbtRunner

    for name, value in dbt_environment(unchanged.url).items():  # restored after the test
        monkeypatch.setenv(name, value)
    result = dbtRunner().invoke(["run", "--select", "contacts", "--project-dir", str(ROOT), "--profiles-dir",
                                 str(ROOT), "--vars", "{ds: 2019-08-01}", "--target-path",
                                 str(unchanged.work / "manual"), "--log-path", str(unchanged.work / "manual"),
                                 "--quiet"])
    assert not result.success
    message = str(result.result.results[0].message)
    assert "audit schema" in message and "orchestrate.py" in message
