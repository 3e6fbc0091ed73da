"""Keep Data Hub's empty strings empty through dlt's PostgreSQL COPY: the one place that
patches dlt.

dlt 1.31's `PostgresCsvCopyJob.run` loads a csv file with `COPY ... (FORMAT CSV, NULL '',
FORCE_NULL(<every nullable column>))`. FORCE_NULL makes PostgreSQL read a *quoted* empty
field as NULL too, which is right for dlt's own csv writer (it writes None as "") but wrong
for ours: Arrow's writer (`convert.py`) writes NULL as an empty unquoted field and "" as a
quoted one, and Data Hub's "" must land as "", not NULL. dlt has no setting for this (its
`csv_format` options only shape the file it writes), and declaring the columns not
nullable would make dlt create them NOT NULL.

So the name the job asks, `is_nullable_column`, is replaced in dlt's postgres module by
one answering False: the COPY then lists no FORCE_NULL column, and NULL '' still reads an
unquoted empty field as NULL. That module uses the name nowhere else; only our dataset
resources load through csv.

What it needs from dlt: `dlt.destinations.impl.postgres.postgres` (a private module) with
a module-level `is_nullable_column` that `PostgresCsvCopyJob.run` calls to choose the
FORCE_NULL columns. dlt is pinned exactly (`dlt[postgres]==1.31.0` in pyproject.toml) and
`tests/test_seams.py` fails, naming this module, if an upgrade changes that shape;
`tests/test_end_to_end.py` checks every loaded cell, empty strings included.
"""

from __future__ import annotations

from typing import Any


def _never_nullable(column: Any) -> bool:
    """Stands in for dlt's `is_nullable_column` in its COPY job: no column gets FORCE_NULL."""
    return False


def keep_empty_strings() -> None:
    """Stop dlt's PostgreSQL COPY from turning quoted empty strings into NULL (idempotent)."""
    from dlt.destinations.impl.postgres import postgres

    if not callable(getattr(postgres, "is_nullable_column", None)):
        raise RuntimeError(
            "this dlt version changed its PostgreSQL COPY job; revisit extract/dlt_copy_force_null.py"
        )
    postgres.is_nullable_column = _never_nullable
