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

The run's tables and views are audited as publish units (`units.py`): a unit whose
dataset failed to extract, whose model or tests failed in dbt, or which failed the gate
is not certified, and the others are. The audit ends by writing its certificate into the
audit schema: per unit, the audit id (a run id) of the run that audited it and whether it
passed, or why not. Publishing asks for that id, so it never publishes a unit that failed
its audit, nor another run's (the stages may run as separate scheduler tasks, and a user
may clear and rerun one of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from psycopg2 import sql

from dataflow import delta, quality, unfit_values
from dataflow.dbt_project import AUDIT_SCHEMA, PUBLISHED_SCHEMA
from dataflow.errors import RunError
from dataflow.lock import RunInProgress
from dataflow.settings import DEFAULT_AUDIT_HOLD_MINUTES
from dataflow.units import Unit, group, hold_readers, not_published, unit_of

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

    from dataflow.dbt_project import DbtProject

#: The table in the audit schema naming the audit and its units (not a dataset: no dbt model has it).
CERTIFICATE = "_dataflow_audit"


@dataclass
class AuditResult:
    tests_passed: int
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    passed: list[Unit] = field(default_factory=list)  # certified: may be published
    failed: dict[str, str] = field(default_factory=dict)  # unit name -> why it may not be published


@dataclass(frozen=True)
class Certified:
    """One unit's entry in an audit's certificate."""

    audit_id: str
    unit: str
    tables: tuple[str, ...]
    reason: str | None  # None: passed
    reads: tuple[str, ...] = ()  # the units it is joined from: published before it, or it is held

    @property
    def passed(self) -> bool:
        return self.reason is None


def drop_audit_schema(connection: PgConnection) -> None:
    """Remove every audit table and view: what a run audits is rebuilt from scratch."""
    with connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{AUDIT_SCHEMA}" cascade')
    connection.commit()


def run_units(project: DbtProject, tables: list[str], views: list[str]) -> list[Unit]:
    """The publish units of `tables` (datasets and derived tables) and the `views` over them."""
    models = project.models
    return group([t for t in tables if models[t].kind != "derived"],
                 {t: models[t].depends_on for t in tables if models[t].kind == "derived"},
                 {v: models[v].depends_on for v in views if set(models[v].depends_on) <= set(tables)},
                 {t: models[t].depends_on for t in tables if models[t].kind == "datasets" and models[t].depends_on})


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
    not_loaded: dict[str, str] | None = None,
    owner: str | None = None,
    hold_minutes: float = DEFAULT_AUDIT_HOLD_MINUTES,
) -> AuditResult:
    """Build, test and gate `datasets` (and the `views` over them) from their raw tables.

    `project` is the parsed dbt project for the run's ds; `datasets` are the dataset
    models and the derived tables built from them; `raw_schema` and `raw_fields` name the
    raw tables' schema and each dataset's source fields (the raw table's columns), for the
    gate's all-null check; `audit_id` is written into the certificate. A value that does
    not fit its contract type is named with its raw field and an example record (its key
    from `keys`) among `raw_text_fields`. `not_loaded` names datasets whose extract failed,
    and why: their units are not audited. `owner` names the scheduler's run the audit
    belongs to (a DAG run: its audit and publish are separate tasks, and the audit may be
    retried): an audit another run owns, awaiting its publish and certified less than
    `hold_minutes` ago, is never replaced (RunInProgress). A run without an owner (the
    CLI) audits and publishes under one lock, so its audit holds nobody: once the lock is
    free, that run has ended. Returns the units that passed and those that did not;
    raises a DataFlowError when none passed. Publishes nothing either way."""
    refuse_while_awaiting_publish(connection, owner, hold_minutes)
    units = run_units(project, datasets, views)
    failed: dict[str, str] = {}
    for dataset, reason in (not_loaded or {}).items():
        unit = unit_of(units, dataset)
        if unit is not None:  # every dataset of a unit that failed to load is named
            failed[unit.name] = f"{failed[unit.name]}; {reason}" if unit.name in failed else reason
    failed = hold_readers(units, failed)
    drop_audit_schema(connection)
    candidates = [u for u in units if u.name not in failed]
    built_tests, build_warnings = 0, []
    if candidates:
        tables = [t for u in candidates for t in u.tables]
        # A table joined from several datasets changes when a record it joins changes,
        # which its own raw rows' load ids do not tell: it is rebuilt whole, every run.
        delta.write_scope(connection, AUDIT_SCHEMA, PUBLISHED_SCHEMA, raw_schema,
                          {name: None if project.models[name].depends_on else project.models[name].meta.get("key")
                           for name in tables})
        built = project.build_audit(tables, [v for u in candidates for v in u.views])
        built_tests = built.tests_passed
        build_warnings = built.warnings
        for concerns, reason in built.failures:
            message = f"dbt build failed: {reason}"
            message = unfit_values.explain(connection, message, raw_schema, raw_text_fields or {},
                                           keys or {}) or message
            touched = [u for u in candidates if set(concerns) & set(u.members())]
            for unit in touched or candidates:  # a failure no unit owns holds back every one
                failed.setdefault(unit.name, message)
        failed = hold_readers(units, failed)
    gated = [t for u in candidates if u.name not in failed for t in u.tables]
    gate = quality.check(
        connection,
        {name: {"meta": project.models[name].meta, "fields": raw_fields.get(name, [])} for name in gated},
        {"raw": raw_schema, "audit": AUDIT_SCHEMA, "published": PUBLISHED_SCHEMA},
        allow_shrink=allow_shrink,
        null_columns=null_columns,
    )
    for table, reason in gate.failures.items():
        unit = unit_of(units, table)
        if unit is not None:
            failed.setdefault(unit.name, reason)
    failed = hold_readers(units, failed)
    passed = [u for u in units if u.name not in failed]
    failed = {u.name: failed[u.name] for u in units if u.name in failed}  # in the units' order
    if not passed:
        raise RunError(not_published(failed))
    certify(connection, audit_id, units, failed, owner)
    return AuditResult(built_tests, gate.rows, build_warnings + gate.warnings, passed, failed)


def certify(connection: PgConnection, audit_id: str, units: list[Unit], failed: dict[str, str],
            owner: str | None = None) -> None:
    """Record the `units` of the audit of `audit_id` (by the scheduler's run `owner`, if
    any), in their order (readers after what they read): each passed, or `failed` names
    why not."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(AUDIT_SCHEMA)))
        cursor.execute(sql.SQL("""
            create table {} (
                audit_id text not null, unit text primary key, tables text[] not null, reason text,
                reads text[] not null, position integer not null, owner text,
                audited_at timestamp with time zone not null default now())""").format(
            sql.Identifier(AUDIT_SCHEMA, CERTIFICATE)))
        for position, unit in enumerate(units):
            cursor.execute(sql.SQL(
                "insert into {} (audit_id, unit, tables, reason, reads, position, owner) "
                "values (%s, %s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(AUDIT_SCHEMA, CERTIFICATE)),
                (audit_id, unit.name, list(unit.tables), failed.get(unit.name), list(unit.reads), position, owner))
    connection.commit()


def refuse_while_awaiting_publish(connection: PgConnection, owner: str | None, hold_minutes: float) -> None:
    """Raise RunInProgress when the audit schema holds units a scheduler's run (another
    than `owner`) certified less than `hold_minutes` ago and has not published yet. Audit
    and publish may be separate scheduler tasks: without this, a run auditing in between
    would replace the certificate, and the first run's publish would find another run's
    audit."""
    with connection.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (f'"{AUDIT_SCHEMA}"."{CERTIFICATE}"',))
        if cursor.fetchone()[0] is None:
            connection.commit()
            return
        cursor.execute(sql.SQL("""
            select to_jsonb(c) ->> 'owner',
                   to_char(max(c.audited_at) at time zone 'UTC', 'YYYY-MM-DD HH24:MI'),
                   to_char((max(c.audited_at) + make_interval(secs => %s)) at time zone 'UTC', 'HH24:MI')
            from {} as c
            where c.reason is null and c.audited_at > now() - make_interval(secs => %s)
              and to_jsonb(c) ->> 'owner' is not null and to_jsonb(c) ->> 'owner' is distinct from %s
            group by 1 limit 1""").format(sql.Identifier(AUDIT_SCHEMA, CERTIFICATE)),
            (hold_minutes * 60, hold_minutes * 60, owner))
        waiting = cursor.fetchone()
    connection.commit()
    if waiting:
        raise RunInProgress(
            f"the audit of another run ({waiting[0]}, certified {waiting[1]} UTC) awaits its publish; nothing "
            f"was changed; try again later (its hold ends {waiting[2]} UTC, DATAFLOW_AUDIT_HOLD_MINUTES)")


def certificate(connection: PgConnection, audit_schema: str) -> list[Certified]:
    """The units the audit schema holds, passed or not, in the audit's order; empty when no
    audit finished. (A certificate written before units read others has no `reads`.)"""
    with connection.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (f'"{audit_schema}"."{CERTIFICATE}"',))
        if cursor.fetchone()[0] is None:
            return []
        cursor.execute(sql.SQL("select to_jsonb(c) from {} as c").format(sql.Identifier(audit_schema, CERTIFICATE)))
        rows = sorted((row for (row,) in cursor), key=lambda row: (row.get("position", 0), row["unit"]))
        return [Certified(row["audit_id"], row["unit"], tuple(row["tables"]), row["reason"],
                          tuple(row.get("reads", ()))) for row in rows]
