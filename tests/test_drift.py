"""Schema drift is never silent: fields Data Hub starts sending land in raw and are reported;
a declared field it stops sending fails the run before anything is published, naming it,
unless the source file allows it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import expected
import yaml
from conftest import HAWK_ID, new_database
from runner import fetch, fingerprint, project_copy, run_orchestrate
from test_end_to_end import assert_dataset

COUNTS = {"omis_dataset": 120, "investment_projects_dataset": 80, "contacts": 90}
NEW_VALUE = {"score": Decimal("9.50"), "tags": ["a", "b"]}  # a decimal's digits must survive


def environment(url: str, standin, hawk_key: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": hawk_key}


@contextmanager
def published_once(server_url: str, make_standin, hawk_key: str, work: Path,
                   counts: dict[str, int]) -> Iterator[tuple[Any, str, dict[str, str]]]:
    """A stand-in, and a new warehouse that a first (full) run for July 2019 published from it."""
    standin = make_standin(counts=counts, page_size=25)
    with new_database(server_url) as url:
        env = environment(url, standin, hawk_key)
        assert run_orchestrate(["--ds", "2019-07-01"], env, work).returncode == 0
        yield standin, url, env


def test_a_new_field_lands_in_raw_and_is_reported(server_url, make_standin, hawk_key, tmp_path):
    standin = make_standin(counts=COUNTS, page_size=25)
    standin.add_field("omis_dataset", "net_promoter", NEW_VALUE)
    with new_database(server_url) as url:
        done = run_orchestrate(["--ds", "2019-08-01"], environment(url, standin, hawk_key), tmp_path)
        assert done.returncode == 0, done.stderr
        note = "new field `net_promoter` in `omis_dataset`, not published"
        assert note in done.stderr
        _, extra = fetch(url, "select _dataflow_extra_fields::text from raw.omis_dataset")
        assert len(extra) == COUNTS["omis_dataset"]
        assert {text for (text,) in extra} == {'{"net_promoter": {"tags": ["a", "b"], "score": 9.50}}'}
        _, others = fetch(url, "select count(*) from raw.contacts where _dataflow_extra_fields is not null")
        assert others == [(0,)]  # every field the stand-in sends for contacts is declared
        _, notes = fetch(url, "select notes from dataflow.run_history")
        assert len(notes) == 1 and any(note in line for line in notes[0][0])
        assert_dataset(url, "omis_dataset", expected.dataset_rows("omis_dataset", COUNTS))
        history = run_orchestrate(["history"], environment(url, standin, hawk_key), tmp_path)
        assert note in history.stdout


def test_a_declared_field_that_vanished_fails_naming_it_and_holds_back_its_unit(
    server_url, make_standin, hawk_key, tmp_path
):
    with published_once(server_url, make_standin, hawk_key, tmp_path, COUNTS) as (standin, url, env):
        before = fingerprint(url)
        _, raw_before = fetch(url, "select count(*), md5(string_agg(t::text, '' order by t::text)) from raw.contacts t")

        standin.drop_field("contacts", "email")
        standin.edit("contacts", range(5))  # the incremental extract fetches these, without `email`
        done = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        # contacts' unit, and the two 2019 tables joined from it (they name contacts and advisers)
        held = ("contacts+data_hub__advisers+data_hub__interactions", "investment_projects_dataset", "omis_dataset")
        assert line.startswith("error: 3 units not published: contacts+data_hub__advisers+data_hub__interactions: ")
        assert "investment_projects_dataset: joined from contacts+" in line and "omis_dataset: joined from " in line
        assert "contacts" in line and "`email`" in line and "it was not loaded" in line
        assert "missing from all 5 records" in line
        after = fingerprint(url)
        unit = [*held[0].split("+"), *held[1:], "data_hub__advisers_latest_interactions",
                "data_hub__contacts_latest_interactions"]  # the units held; the others publish
        assert {t: after[t] for t in unit} == {t: before[t] for t in unit}
        _, raw_after = fetch(url, "select count(*), md5(string_agg(t::text, '' order by t::text)) from raw.contacts t")
        assert raw_after == raw_before  # the extract stopped before loading


def test_a_field_the_source_file_allows_to_vanish_is_loaded_as_null(server_url, make_standin, hawk_key, tmp_path):
    copy = project_copy(tmp_path)
    sources_path = copy / "dbt_project/models/datasets/_datahub__sources.yml"
    sources = yaml.safe_load(sources_path.read_text())
    (contacts,) = [t for t in sources["sources"][0]["tables"] if t["name"] == "contacts"]
    contacts["meta"]["allow_missing_fields"] = ["job_title"]
    sources_path.write_text(yaml.safe_dump(sources, sort_keys=False))

    standin = make_standin(counts=COUNTS, page_size=25)
    standin.drop_field("contacts", "job_title")
    with new_database(server_url) as url:
        done = run_orchestrate(["--ds", "2019-08-01"], environment(url, standin, hawk_key), tmp_path / "work",
                               root=copy)
        assert done.returncode == 0, done.stderr
        _, rows = fetch(url, "select count(*), count(job_title) from public.contacts")
        assert rows == [(COUNTS["contacts"], 0)]
