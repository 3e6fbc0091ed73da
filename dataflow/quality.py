"""The quality gate between audit and publish: checks dbt tests cannot express.

- Shrink: a dataset whose new row count is below a share (default 90%) of the published
  one is not published; the old system's later rule. `--allow-shrink`, or
  `meta: {allow_shrink: true}` / `meta: {min_row_ratio: 0.5}` on a dataset model,
  overrides it.
- All-null columns: a source field empty (null) in every record is reported; it warns
  or fails by `--null-columns warn|fail`, or per dataset by `meta: {null_columns: fail}`.
  It is counted on the raw table, which is cheap; a mapped column is NULL in every row
  exactly when its source field is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import connection

DEFAULT_MIN_ROW_RATIO = 0.9


@dataclass
class QualityReport:
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # dataset -> why it may not be published


def _count(conn: connection, schema: str, table: str) -> int | None:
    with conn.cursor() as cursor:
        cursor.execute("select to_regclass(%s)", (f'"{schema}"."{table}"',))
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))
        return cursor.fetchone()[0]


def _all_null_columns(conn: connection, schema: str, table: str, columns: list[str]) -> list[str]:
    if not columns:
        return []
    counts = sql.SQL(", ").join(
        sql.SQL("count({})").format(sql.Identifier(column)) for column in columns
    )
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("select {} from {}").format(counts, sql.Identifier(schema, table)))
        non_null = cursor.fetchone()
    return [column for column, count in zip(columns, non_null, strict=True) if count == 0]


def check(
    conn: connection,
    datasets: dict[str, dict[str, Any]],
    schemas: dict[str, str],
    *,
    allow_shrink: bool,
    null_columns: str,
) -> QualityReport:
    """Check every audited dataset; the report names each that fails, and why.

    `datasets` maps each dataset to {"meta": {...}, "fields": [raw source fields]};
    `schemas` names the "raw", "audit" and "published" schemas.
    """
    audit_schema, published_schema = schemas["audit"], schemas["published"]
    report = QualityReport()
    for dataset, info in datasets.items():
        meta = info.get("meta") or {}
        new = _count(conn, audit_schema, dataset) or 0
        report.rows[dataset] = new
        old = _count(conn, published_schema, dataset)
        ratio = float(meta.get("min_row_ratio", DEFAULT_MIN_ROW_RATIO))
        shrink_allowed = allow_shrink or bool(meta.get("allow_shrink", False))
        if old and new < ratio * old and not shrink_allowed:
            report.failures[dataset] = (
                f"{dataset} has {new:,} rows, below {ratio:.0%} of the {old:,} published; "
                "rerun with --allow-shrink if that is expected"
            )
        if new:
            policy = meta.get("null_columns", null_columns)
            empty = _all_null_columns(conn, schemas["raw"], dataset, list(info.get("fields", [])))
            if empty:
                message = f"{dataset}: source field(s) null in every record: {', '.join(empty)}"
                if policy == "fail":
                    report.failures.setdefault(dataset, message)
                else:
                    report.warnings.append(message)
    return report
