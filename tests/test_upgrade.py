"""A warehouse built by the previous version (the 2019 fields declared, its stand-in
serving the 2019 shape) upgrades with one ordinary run of this version against today's
Data Hub: no manual step, the published tables keep their OIDs and grants, and the raw
tables whose declaration changed are fetched whole.

The previous version is the repository's own history (`git archive`), run as a user ran
it: its `orchestrate.py --demo` into the test's database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import uuid
from io import BytesIO
from pathlib import Path

import psycopg2
from conftest import ROOT, new_database
from runner import CONFIG_VARIABLES, fetch

#: The last commit that declared the 2019 fields (before the sources declared today's API).
PREVIOUS = "252e238ed85d0b6fac36a02c80a3067baee38c8d"
SEED = ("omis_dataset", "investment_projects_dataset", "contacts")
VIEWS = ("cancelled_omis_orders", "completed_omis_orders", "investment_projects", "omis_client_survey")


def demo(root: Path, url: str, work: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update({"DATABASE_URL": url, "DATAFLOW_WORK_DIR": str(work), "PYTHONPATH": str(root)})
    return subprocess.run([sys.executable, str(root / "orchestrate.py"), "--demo", "--ds", "2019-08-01"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def test_a_warehouse_of_the_previous_version_upgrades_with_one_run(server_url, tmp_path):
    reader = f"report_reader_{uuid.uuid4().hex[:8]}"  # roles are the server's, not the database's
    try:
        upgrade(server_url, tmp_path, reader)
    finally:
        with psycopg2.connect(server_url) as connection, connection.cursor() as cursor:
            cursor.execute(f"drop role if exists {reader}")


def upgrade(server_url: str, tmp_path: Path, reader: str) -> None:
    previous = tmp_path / "previous"
    archive = subprocess.run(["git", "archive", PREVIOUS], cwd=ROOT, capture_output=True, timeout=120, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(previous, filter="data")
    with new_database(server_url) as url:
        old = demo(previous, url, tmp_path / "old-work")
        assert old.returncode == 0, old.stderr[-3000:]
        assert "contacts_latest_interactions" in old.stdout  # every dataset published, in the 2019 shape
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(f"create role {reader}")
            cursor.execute(f"grant select on {', '.join(f'public.{t}' for t in SEED)} to {reader}")
        oids = dict(fetch(url, "select relname, oid::bigint from pg_class where relnamespace = 'public'::regnamespace "
                               "and relkind = 'r'")[1])

        new = demo(ROOT, url, tmp_path / "new-work")
        assert new.returncode == 0, new.stderr[-3000:]
        # Today's fields are all declared: the only new field is the one the demo adds on purpose.
        assert set(re.findall(r"new field `(\w+)`", new.stderr)) <= {"priority"}, new.stderr
        for dataset in SEED:  # its raw table's declaration changed: fetched whole
            assert re.search(rf"extract  {dataset} +[\d,]+ rows +[\d,]+ pages, full \(", new.stdout), dataset
        after = dict(fetch(url, "select relname, oid::bigint from pg_class where relnamespace = 'public'::regnamespace "
                                "and relkind = 'r'")[1])
        assert {t: after[t] for t in oids} == oids  # every table the previous version published, kept
        assert len(after) == 14
        grants = fetch(url, "select table_name from information_schema.role_table_grants "
                            f"where grantee = '{reader}' order by 1")[1]
        assert [g for (g,) in grants] == sorted(SEED)
        views = {v for (v,) in fetch(url, "select viewname from pg_views where schemaname = 'public'")[1]}
        assert {f"{v}_2019_08_31" for v in VIEWS} <= views
        for table in SEED:  # rows from today's shape: the joined names are filled in
            assert fetch(url, f"select count(*) from public.{table}")[1][0][0] > 0
        assert fetch(url, "select count(company_name) from public.omis_dataset")[1][0][0] > 0
