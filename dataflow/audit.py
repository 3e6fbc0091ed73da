"""Audit: build and test the loaded datasets in the audit schema, then the quality gate.

Write-audit-publish: the dataset models are built from `raw` into the audit schema
(`public_audit`), never into the published tables. There dbt enforces each model's
contract and runs its tests (and builds and tests the views over the audited data), and
the quality gate (`quality.py`) compares the audited datasets with what is published.
Nothing an analyst can see changes here; a failure leaves the audit tables for inspection
until the next run's audit replaces them.

After an incremental extract, a dataset model with a key is audited from the changed raw
rows merged with the unchanged published ones (`delta.py` decides and says so in the
audit schema's scope table); everything above judges that merged table the same way.

An audit that passes ends by writing its certificate into the audit schema: the audit id
(a run id) of the run that audited these tables. Publishing asks for that id, so it
never publishes tables that failed their audit, nor another run's (the stages may run
as separate scheduler tasks, and a user may clear and rerun one of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from psycopg2 import sql

from dataflow import delta, quality, unfit_values
from dataflow.dbt_project import AUDIT_SCHEMA, PUBLISHED_SCHEMA
from dataflow.errors import RunError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from dataflow.dbt_project import DbtProject

#: The table in the audit schema naming the audit that passed (not a dataset: no dbt model has it).
CERTIFICATE = "_dataflow_audit"


@dataclass
class AuditResult:
    tests_passed: int
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def drop_audit_schema(connection: PgConnection) -> None:
    """Remove every audit table and view: what a run audits is rebuilt from scratch."""
    with connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{AUDIT_SCHEMA}" cascade')
    connection.commit()


def audit(
    project: DbtProject,
    connection: PgConnection,
    datasets: list[str],
    views: list[str],
    *,
    raw_schema: str,
    raw_fields: dict[str, list[str]],
    audit_id: str,
    raw_text_fields: dict[str, list[str]] | None = None,
    keys: dict[str, str | None] | None = None,
    allow_shrink: bool = False,
    null_columns: str = "warn",
) -> AuditResult:
    """Build, test and gate `datasets` (and the `views` over them) from their raw tables.

    `project` is the parsed dbt project for the run's ds; `raw_schema` and `raw_fields`
    name the raw tables' schema and each dataset's source fields (the raw table's
    columns), for the gate's all-null check; `audit_id` is written as the certificate
    once everything passed. A value that does not fit its contract type is named with its
    raw field and an example record (its key from `keys`) among `raw_text_fields`.
    Raises a DataFlowError naming the first failure; publishes nothing either way."""
    drop_audit_schema(connection)
    delta.write_scope(connection, AUDIT_SCHEMA, PUBLISHED_SCHEMA, raw_schema,
                      {name: project.models[name].meta.get("key") for name in datasets})
    try:
        built = project.build_audit(datasets, views)
    except RunError as failure:
        explained = unfit_values.explain(connection, str(failure), raw_schema, raw_text_fields or {}, keys or {})
        if explained is None:
            raise
        raise RunError(explained) from None
    gate = quality.check(
        connection,
        {name: {"meta": project.models[name].meta, "fields": raw_fields.get(name, [])} for name in datasets},
        {"raw": raw_schema, "audit": AUDIT_SCHEMA, "published": PUBLISHED_SCHEMA},
        allow_shrink=allow_shrink,
        null_columns=null_columns,
    )
    certify(connection, audit_id)
    return AuditResult(built.tests_passed, gate.rows, gate.warnings)


def certify(connection: PgConnection, audit_id: str) -> None:
    """Record that the audit schema's tables passed the audit of `audit_id`."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("create table {} as select %s::text as audit_id, now() as audited_at").format(
                sql.Identifier(AUDIT_SCHEMA, CERTIFICATE)),
            (audit_id,),
        )
    connection.commit()


def certified(connection: PgConnection, audit_schema: str) -> str | None:
    """The audit id whose audit the schema's tables passed; None when no audit passed."""
    with connection.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (f'"{audit_schema}"."{CERTIFICATE}"',))
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(sql.SQL("select audit_id from {}").format(sql.Identifier(audit_schema, CERTIFICATE)))
        row = cursor.fetchone()
    return row[0] if row else None
