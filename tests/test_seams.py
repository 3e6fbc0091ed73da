"""Guards for the two places that rely on a dependency's private internals.

Each seam module names what it works around; these tests fail, naming the module to
revisit, as soon as an upgrade changes what it relies on, instead of letting a run
silently sign on the wrong clock or load Data Hub's empty strings as NULL.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version

import psycopg2
from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pinned(distribution: str) -> str:
    """The exact version pyproject.toml pins a dependency to."""
    for requirement in PYPROJECT["project"]["dependencies"]:
        match = re.fullmatch(rf"{re.escape(distribution)}(\[[^\]]*\])?==([\w.]+)", requirement)
        if match:
            return match[2]
    raise AssertionError(f"pyproject.toml no longer pins {distribution} exactly (==): a seam relies on it")


# ---------------------------------------------------------------- extract/sources/datahub/mohawk_clock.py

def test_mohawk_still_signs_on_a_given_clock() -> None:
    import mohawk

    from extract.sources.datahub import mohawk_clock

    seam = "extract/sources/datahub/mohawk_clock.py"
    assert version("mohawk") == pinned("mohawk"), (
        f"mohawk {version('mohawk')} is installed but {pinned('mohawk')} is pinned; check {seam} against it"
    )
    assert "_timestamp" in inspect.signature(mohawk.Sender).parameters, (
        f"mohawk.Sender lost its `_timestamp` keyword: {seam} can no longer sign on Data Hub's clock"
    )
    credentials = {"id": "seam-check", "key": "seam-check-key", "algorithm": "sha256"}
    sender = mohawk_clock.sender(credentials, "https://datahub.example/v4/dataset/x", "GET", "", "", 1234567890)
    assert 'ts="1234567890"' in sender.request_header, (
        f"mohawk.Sender ignores `_timestamp` now: {seam} no longer signs on the given clock"
    )


# ---------------------------------------------------------------- extract/dlt_copy_force_null.py

SEAM = "extract/dlt_copy_force_null.py"


def test_dlt_copy_still_asks_is_nullable_column_for_force_null() -> None:
    from dlt.destinations.impl.postgres import postgres

    assert version("dlt") == pinned("dlt"), (
        f"dlt {version('dlt')} is installed but {pinned('dlt')} is pinned; check {SEAM} against it"
    )
    assert callable(getattr(postgres, "is_nullable_column", None)), (
        f"dlt's postgres module has no `is_nullable_column` any more: {SEAM} patches nothing"
    )
    run = inspect.getsource(postgres.PostgresCsvCopyJob.run)
    assert "is_nullable_column(" in run and "FORCE_NULL" in run, (
        f"dlt's PostgresCsvCopyJob.run no longer picks its FORCE_NULL columns with `is_nullable_column`: "
        f"revisit {SEAM}"
    )


def test_empty_string_and_null_survive_dlt_copy(database: str, tmp_path, monkeypatch) -> None:
    """The behaviour the seam exists for: our CSV's quoted "" loads as '' and its NULL as NULL."""
    import dlt
    from dlt.destinations.impl.postgres import postgres

    from extract.arrow import EXTRA_FIELDS
    from extract.convert import LINEAGE_COLUMNS, Batch, write_batch
    from extract.dlt_copy_force_null import keep_empty_strings

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    # Recorded so that dlt gets its own function back after the test, whatever the seam does.
    monkeypatch.setattr(postgres, "is_nullable_column", postgres.is_nullable_column)
    keep_empty_strings()
    columns = {"name": "text"}
    path = str(tmp_path / "check.csv")
    records = [b'{"name": ""}', b'{"name": null}', b'{"name": "x"}']
    rows = write_batch(Batch("check", records, columns, frozenset(), "load", path, header=True)).rows

    resource = dlt.resource(
        [dlt.mark.with_file_import(path, "csv", rows)], name="check", write_disposition="replace",
        columns={"name": {"data_type": "text", "nullable": True}, EXTRA_FIELDS: {"data_type": "json"},
                 **LINEAGE_COLUMNS}, file_format="csv",
    )
    dsn = database.replace("postgresql://postgres@", "postgresql://postgres:unused@", 1)
    pipeline = dlt.pipeline(pipeline_name="seam_check", pipelines_dir=str(tmp_path / "dlt"),
                            destination=dlt.destinations.postgres(credentials=dsn), dataset_name="seam")
    pipeline.run(resource)
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("select name from seam.check order by name nulls last")
        loaded = [row[0] for row in cursor.fetchall()]
    assert loaded == ["", "x", None], f'dlt\'s COPY changed "" or NULL ({loaded}): revisit {SEAM}'
