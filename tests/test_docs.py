"""The documentation keeps up with the code: every option, sub-command and environment
variable is in the user docs (README.md and docs/*.md), the README stays a user's length,
and the design notes exist."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from dataflow.settings import AIRFLOW_VARIABLES, CA_BUNDLE_VARIABLES, DBT_VARIABLES, VARIABLES

README_PATH = ROOT / "README.md"
# Characters: what the project is, the two commands, configuration, running it for real, the
# datasets, adding one; operations, troubleshooting, dbt by hand and Airflow are in docs/.
README_LIMIT = 12_000

# Environment variables product code reads that are not user settings, so not in VARIABLES.
NOT_SETTINGS = {
    # Set by orchestrate.py when --verbose is given, so extract/pipeline.py also shows the
    # libraries' logs; the option is the interface, not the variable.
    "DATAFLOW_VERBOSE": "orchestrate.py, from --verbose",
    # Allocator settings the code gives pyarrow and glibc (setdefault: an operator's own value wins).
    "ARROW_DEFAULT_MEMORY_POOL": "extract/memory.py, for pyarrow",
    "MALLOC_ARENA_MAX": "extract/memory.py, for glibc in the worker processes",
    # dlt's own setting, turned off (setdefault) for the Airflow tasks: dlt would look its
    # settings up among Airflow Variables, hundreds of times a task.
    "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "dataflow/dags.py, for dlt under Airflow",
    # Airflow's own setting: `make airflow` points the tasks at the API server's port.
    # Airflow's own settings and PATH: `make airflow` defaults them (an operator's value wins)
    # and reads them back to find the API server's port, Airflow's home and the DAGs.
    "AIRFLOW__API__PORT": "dataflow/airflow_local.py, Airflow's setting",
    "AIRFLOW_HOME": "dataflow/airflow_local.py, Airflow's setting",
    "AIRFLOW__CORE__DAGS_FOLDER": "dataflow/airflow_local.py, Airflow's setting",
    "PATH": "dataflow/airflow_local.py, where `airflow standalone` finds `airflow`",
}

NAME = r"""["']([A-Z][A-Z0-9_]*)["']"""
ENV_READS = [
    re.compile(rf"\b(?:os\.)?environ\.(?:get|setdefault)\(\s*{NAME}"),
    re.compile(rf"\bos\.getenv\(\s*{NAME}"),
    re.compile(rf"\benv\.get\(\s*{NAME}"),
    re.compile(rf"\b(?:os\.environ|env)\[\s*{NAME}\s*\](?!\s*=[^=])"),  # a read, not an assignment
]
DBT_ENV_READ = re.compile(rf"\benv_var\(\s*{NAME}")

DIARY = re.compile(r"\bissue #?\d+", re.IGNORECASE)
DIARY_PATHS = ["README.md", "docs", "dataflow", "extract", "orchestrate.py", "dbt_project", "standin", "bench",
               "tests", "Makefile", ".ci"]


def readme() -> str:
    return README_PATH.read_text(encoding="utf-8")


def user_docs() -> str:
    """The README and the pages of docs/ it links to."""
    return "\n".join([readme(), *(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))])


def code_in(markdown: str) -> list[str]:
    """The text of every fenced code block and inline code span."""
    fence = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)
    blocks = [match.group(2) for match in fence.finditer(markdown)]
    prose = fence.sub("", markdown)
    spans = [match.group(2) for match in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", prose, re.S)]
    return blocks + spans


def cli() -> tuple[list[str], list[str]]:
    """orchestrate.py's option strings and sub-commands, from its own argument parser.

    Read in a child process: importing orchestrate.py sets allocator variables in the
    environment, which must not leak into the rest of the test session."""
    script = """if True:
        import argparse, json, orchestrate
        parser = orchestrate.build_parser()
        options, commands = [], []
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            if action.option_strings:
                options += action.option_strings
            elif action.dest == "command":
                commands += list(action.choices)
        print(json.dumps([options, commands]))
    """
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    options, commands = json.loads(done.stdout)
    return options, commands


OPTIONS, COMMANDS = cli()


def test_the_parser_was_read():
    assert "--ds" in OPTIONS and "--help" not in OPTIONS
    assert {"history", "docs"} <= set(COMMANDS)


@pytest.mark.parametrize("option", OPTIONS)
def test_every_option_is_in_the_user_docs_as_code(option: str):
    pattern = re.compile(rf"(?<![\w-]){re.escape(option)}(?![\w-])")
    assert any(pattern.search(code) for code in code_in(user_docs())), f"the docs never show `{option}`"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_sub_command_is_in_the_user_docs_as_code(command: str):
    """As a command line (`python orchestrate.py history`) or a code span of its own (`history`)."""
    word = re.escape(command)
    command_line = re.compile(rf"orchestrate\.py(?:\s+--?[\w-]+(?:[ =][^\s-]\S*)?)*\s+{word}(?![\w./-])")
    shown = any(command_line.search(code) or code.strip() == command for code in code_in(user_docs()))
    assert shown, f"the docs never show the sub-command `{command}`"


@pytest.mark.parametrize("name", sorted({**VARIABLES, **DBT_VARIABLES}))
def test_every_environment_variable_is_in_the_user_docs_as_code(name: str):
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])")
    assert any(pattern.search(code) for code in code_in(user_docs())), f"the docs never show `{name}`"


@pytest.mark.parametrize("name", sorted(AIRFLOW_VARIABLES))
def test_every_airflow_variable_is_in_the_airflow_docs_as_code(name: str):
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])")
    docs = (ROOT / "docs" / "airflow.md").read_text(encoding="utf-8")
    assert any(pattern.search(code) for code in code_in(docs)), f"docs/airflow.md never shows `{name}`"


def product_env_reads() -> dict[str, set[str]]:
    """Upper-case environment variable names read by product code, with where."""
    found: dict[str, set[str]] = {}
    python = [ROOT / "orchestrate.py", *sorted((ROOT / "dataflow").rglob("*.py")),
              *sorted((ROOT / "extract").rglob("*.py"))]
    dbt = [ROOT / "profiles.yml", ROOT / "dbt_project.yml", *sorted((ROOT / "dbt_project").rglob("*.sql")),
           *sorted((ROOT / "dbt_project").rglob("*.yml"))]
    for path, patterns in [(p, ENV_READS) for p in python] + [(p, [DBT_ENV_READ]) for p in dbt]:
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            for name in pattern.findall(text):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_variable_product_code_reads_is_registered():
    reads = product_env_reads()
    assert "DATABASE_URL" in reads, "the scan finds nothing: has the way settings are read changed?"
    unregistered = {name: sorted(where) for name, where in reads.items()
                    if name not in {**VARIABLES, **AIRFLOW_VARIABLES, **DBT_VARIABLES, **NOT_SETTINGS}}
    assert not unregistered, f"add these to dataflow.settings.VARIABLES (and the README): {unregistered}"


def test_registry_and_allow_list_name_only_variables_that_are_read():
    read = set(product_env_reads()) | set(CA_BUNDLE_VARIABLES)  # the CA variables are read in a loop
    assert not set(VARIABLES) - read, "VARIABLES names a variable nothing reads"
    assert not set(AIRFLOW_VARIABLES) - read, "AIRFLOW_VARIABLES names a variable nothing reads"
    assert not set(DBT_VARIABLES) - read, "DBT_VARIABLES names a variable profiles.yml does not read"
    assert not set(NOT_SETTINGS) - read, "NOT_SETTINGS names a variable nothing reads any more"
    assert not set(NOT_SETTINGS) & (set(VARIABLES) | set(AIRFLOW_VARIABLES) | set(DBT_VARIABLES))


def test_every_docs_page_is_named_in_the_readme():
    pages = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert pages and not {page for page in pages if f"`{page}`" not in readme()}


def test_readme_is_a_users_length():
    length = len(readme())
    assert length <= README_LIMIT, f"README.md has {length} characters; at most {README_LIMIT}"


def test_no_development_diary_wording():
    listed = subprocess.run(["git", "ls-files", "-z", "--", *DIARY_PATHS], cwd=ROOT, capture_output=True,
                            check=True, timeout=60).stdout.decode().split("\0")
    offending = []
    for name in filter(None, listed):
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        for number, line in enumerate(text.splitlines(), 1):
            if DIARY.search(line):
                offending.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not offending, "say what the code does and why, not which work item it came from:\n" + "\n".join(
        offending)


def test_design_notes_exist():
    assert (ROOT / "docs" / "performance.md").is_file()
    architecture = ROOT / "docs" / "architecture.md"
    assert architecture.is_file()
    headings = re.findall(r"^#{1,6}[ \t]+(.*)$", architecture.read_text(encoding="utf-8"), re.M)
    assert any("seam" in heading.lower() for heading in headings), \
        "docs/architecture.md needs a section on the private-API seams"
