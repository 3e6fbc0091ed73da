"""The real Data Hub's own pages, through the whole job: page 1 of each of the twelve
endpoints as uktrade/data-hub-api renders it today (tests/fixtures/datahub_samples, a copy
of the seed's), served as recorded by the stand-in (Hawk, pagination), loaded, joined,
tested and published with no drift reported and every cell as Data Hub today describes it.

Expected values come from tests/expected.py over the recorded records, never from the
code under test."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import expected
import pytest
from conftest import HAWK_ID, new_database
from runner import fetch, run_orchestrate
from test_end_to_end import assert_dataset

from standin import StandIn
from standin.data import ALL_PATHS

SAMPLES = Path(__file__).parent / "fixtures" / "datahub_samples"
#: Each dataset's recorded page 1: the records as the real application sent them.
RECORDED = {name: json.loads((SAMPLES / (path.rsplit("/", 1)[-1] + ".json")).read_text())["results"]
            for name, path in ALL_PATHS.items()}


@pytest.fixture(scope="module")
def published(server_url, tmp_path_factory):
    with StandIn(counts={}, recorded=RECORDED, page_size=30, hawk_id=HAWK_ID, hawk_key="samples-key-5b1e") \
            as standin, new_database(server_url) as url:
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID,
               "HAWK_KEY": "samples-key-5b1e"}
        result = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path_factory.mktemp("work"))
        assert result.returncode == 0, result.stderr
        yield url, result


def test_the_real_pages_load_with_no_drift_and_publish_every_table(published):
    url, result = published
    assert all(records for records in RECORDED.values()), "a sample page without records proves little"
    assert "new field" not in result.stderr and "no longer sends" not in result.stderr, result.stderr
    for dataset, records in RECORDED.items():
        assert f"{dataset} ({len(records):,})" in result.stdout, dataset
    _, extra = fetch(url, " union all ".join(
        f"select count(*) from raw.{d} where _dataflow_extra_fields is not null" for d in RECORDED))
    assert extra == [(0,)] * len(RECORDED)  # every field Data Hub sends is declared


@pytest.mark.parametrize("dataset", ["omis_dataset", "investment_projects_dataset", "contacts"])
def test_the_2019_tables_hold_what_today_s_fields_derive(published, dataset):
    url, _ = published
    assert_dataset(url, dataset, expected.published_rows(dataset, RECORDED[dataset], RECORDED))


@pytest.mark.parametrize("dataset", sorted(expected.LATER_DATASETS))
def test_the_later_tables_hold_every_field_sent(published, dataset):
    url, _ = published
    names = ", ".join(column for _, column, *_ in expected.LATER_DATASETS[dataset]["fields"])
    rows = fetch(url, f"select {names} from public.{dataset}")[1]
    want = expected.later_rows(dataset, RECORDED[dataset])
    assert Counter(map(repr, rows)) == Counter(map(repr, want))
