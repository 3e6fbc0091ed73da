"""Running orchestrate.py as a user would, and looking at what it published."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ["omis_dataset", "investment_projects_dataset", "contacts"]
CONFIG_VARIABLES = ("DATAHUB_BASE_URL", "HAWK_ID", "HAWK_KEY", "DATABASE_URL", "DATAHUB_REQUEST_TIMEOUT",
                    "DATAHUB_RETRY_SECONDS", "FINANCIAL_YEAR_FIRST_MONTH_DAY", "INGEST_TASK_CONCURRENCY")


def orchestrate_command(args: list[str], env: dict[str, str], work: Path, root: Path = ROOT,
                        ) -> tuple[list[str], dict[str, str]]:
    full_env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    full_env.update(env)
    full_env["DATAFLOW_WORK_DIR"] = str(work)
    full_env["PYTHONUNBUFFERED"] = "1"
    return [sys.executable, str(root / "orchestrate.py"), *args], full_env


def run_orchestrate(args: list[str], env: dict[str, str], work: Path, root: Path = ROOT,
                    timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command, full_env = orchestrate_command(args, env, work, root)
    return subprocess.run(command, cwd=root, env=full_env, capture_output=True, text=True, timeout=timeout)


def fetch(url: str, sql: str, timezone: str = "UTC") -> tuple[list[str], list[tuple]]:
    with psycopg2.connect(url, options=f"-c TimeZone={timezone}") as connection, connection.cursor() as cur:
        cur.execute(sql)
        return [d.name for d in cur.description], cur.fetchall()


def fingerprint(url: str) -> dict[str, object]:
    """Everything an analyst could notice: relations, OIDs, row counts and hashes, grants, view SQL."""
    _, relations = fetch(url, """
        select c.relname, c.relkind, c.oid::bigint, coalesce(pg_get_viewdef(c.oid), '')
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'v') order by c.relname""")
    result: dict[str, object] = {"relations": relations}
    for name, _, _, _ in relations:
        _, rows = fetch(url, f"""
            select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))
            from public."{name}" t""")
        result[name] = rows[0]
    _, grants = fetch(url, """
        select table_name, grantee, privilege_type from information_schema.role_table_grants
        where table_schema = 'public' order by 1, 2, 3""")
    result["grants"] = grants
    return result


def dbt_environment(url: str) -> dict[str, str]:
    """profiles.yml's variables for a postgresql:// URL (socket directory as host)."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    return {
        "DATAFLOW_DB_HOST": host, "DATAFLOW_DB_PORT": str(parts.port or 5432),
        "DATAFLOW_DB_USER": parts.username or "postgres", "DATAFLOW_DB_NAME": parts.path.lstrip("/"),
        "DBT_ENV_SECRET_DATAFLOW_DB_PASSWORD": parts.password or "", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def project_copy(tmp_path: Path) -> Path:
    """A copy of the project whose models a test may change."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".data", ".git", "__pycache__", "bench"))
    return copy
