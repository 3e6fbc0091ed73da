"""The commands of docs/dbt.md ("Running dbt by hand") work, as written, on a published warehouse.

The commands are read from the page itself, so the test fails when they stop working.
They run after a real run of the job (stand-in, real PostgreSQL); `dbt docs serve` is
started and asked for its page.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import HAWK_ID, ROOT
from runner import dbt_environment, fingerprint, orchestrate_command, run_orchestrate

PAGE = (ROOT / "docs" / "dbt.md").read_text()
COUNTS = {"omis_dataset": 120, "investment_projects_dataset": 80, "contacts": 60}


def section_commands(kind: str) -> list[str]:
    """The command lines of the page's code blocks that start with `kind`."""
    lines = [line.strip() for block in re.findall(r"```sh\n(.*?)```", PAGE, re.S) for line in block.splitlines()]
    return [line for line in lines if line.startswith(kind)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def published(server_url, tmp_path_factory) -> dict[str, str]:
    """A warehouse the job published ds 2019-08-01 into; the job's environment for it."""
    from conftest import new_database

    from standin.server import StandIn

    key = "dbt-by-hand-key"
    standin = StandIn(hawk_id=HAWK_ID, hawk_key=key, counts=COUNTS, page_size=40)
    standin.start()
    with new_database(server_url) as url:
        env = {"DATABASE_URL": url, "DATAHUB_BASE_URL": standin.base_url, "HAWK_ID": HAWK_ID, "HAWK_KEY": key}
        result = run_orchestrate(["--ds", "2019-08-01"], env, tmp_path_factory.mktemp("work"))
        standin.stop()
        assert result.returncode == 0, result.stderr
        yield env


def test_the_section_has_the_commands_it_promises():
    via_job = section_commands(".venv/bin/python orchestrate.py dbt ")
    assert [shlex.split(line)[3] for line in via_job] == ["test", "ls", "compile", "docs", "docs"]
    assert section_commands(".venv/bin/dbt "), "a plain dbt command"


def test_orchestrate_dbt_commands_work_on_the_published_warehouse(published, tmp_path):
    before = fingerprint(published["DATABASE_URL"])
    for line in section_commands(".venv/bin/python orchestrate.py dbt "):
        args = shlex.split(line)[2:]
        if args[1:3] == ["docs", "serve"]:
            continue  # below
        result = run_orchestrate(args, {"DATABASE_URL": published["DATABASE_URL"]}, tmp_path / "work")
        assert result.returncode == 0, line + "\n" + result.stdout[-3000:] + result.stderr
        if args[1] == "test":
            assert re.search(r"PASS=\d+ WARN=\d+ ERROR=0", result.stdout), result.stdout[-2000:]
            # The only warnings: ids naming no record (this stand-in serves no company, adviser or team).
            warned = re.findall(r"Warning in test (\w+)", result.stdout)
            assert warned and all(name.startswith("names_records_") for name in warned), warned
        if args[1] == "ls":
            assert "source:data_flow.datahub.omis_dataset" in result.stdout
            assert "data_flow.views.completed_omis_orders" in result.stdout
    manifest = json.loads((tmp_path / "work" / "dbt" / "manual" / "manifest.json").read_text())
    # Lineage: raw source -> dataset model -> every period view that reads it.
    children = manifest["child_map"]
    assert "model.data_flow.omis_dataset" in children["source.data_flow.datahub.omis_dataset"]
    assert {"model.data_flow.completed_omis_orders", "model.data_flow.cancelled_omis_orders",
            "model.data_flow.omis_client_survey"} <= set(children["model.data_flow.omis_dataset"])
    assert "model.data_flow.investment_projects" in children["model.data_flow.investment_projects_dataset"]
    assert (tmp_path / "work" / "dbt" / "manual" / "catalog.json").exists()
    assert fingerprint(published["DATABASE_URL"]) == before  # dbt by hand changed nothing


def test_docs_serve_serves_the_generated_site(published, tmp_path):
    (serve,) = [line for line in section_commands(".venv/bin/python orchestrate.py dbt ") if "docs serve" in line]
    generate = run_orchestrate(["dbt", "docs", "generate"], {"DATABASE_URL": published["DATABASE_URL"]},
                               tmp_path / "work")
    assert generate.returncode == 0, generate.stdout[-2000:] + generate.stderr
    port = free_port()
    args = shlex.split(serve)[2:]
    args[args.index("--port") + 1] = str(port)
    args.append("--no-browser")
    command, env = orchestrate_command(args, {"DATABASE_URL": published["DATABASE_URL"]}, tmp_path / "work")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = None
        for _ in range(300):  # a hang guard, not a speed claim: up to a minute to start serving
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        assert page is not None and "dbt" in page.lower(), "dbt docs serve did not serve its site"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_plain_dbt_with_the_documented_variables(published, tmp_path):
    """Plain dbt, from the project root, with profiles.yml's variables set as the page says."""
    variables = set(re.findall(r"\b(DATAFLOW_DB_[A-Z]+|DBT_ENV_SECRET_DATAFLOW_DB_PASSWORD)\b", PAGE))
    env = {**dbt_environment(published["DATABASE_URL"]), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "PATH": str(Path(sys.executable).parent)}
    assert {name for name in env if name.startswith(("DATAFLOW_DB_", "DBT_ENV_SECRET_"))} <= variables
    for line in section_commands(".venv/bin/dbt "):
        args = shlex.split(line)
        args[0] = str(Path(sys.executable).with_name("dbt"))
        result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, line + "\n" + result.stdout[-3000:] + result.stderr


def test_building_a_dataset_by_hand_is_refused_and_changes_nothing(published, tmp_path):
    before = fingerprint(published["DATABASE_URL"])
    result = run_orchestrate(["dbt", "run", "--select", "contacts"], {"DATABASE_URL": published["DATABASE_URL"]},
                             tmp_path / "work")
    assert result.returncode != 0
    assert "published by orchestrate.py" in result.stdout
    assert fingerprint(published["DATABASE_URL"]) == before
