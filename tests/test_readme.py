"""The README's commands are the ones that work: quickstart, CI and Makefile agree."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def make_recipe(target: str) -> list[str]:
    dry = subprocess.run(["make", "-n", "-W", "pyproject.toml", target], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return dry.stdout.splitlines()


def test_quickstart_is_two_make_commands():
    assert quickstart_commands() == ["make demo", "make test"]


def test_demo_runs_the_main_job_for_the_documented_ds():
    assert ".venv/bin/python orchestrate.py --ds 2019-08-01" in make_recipe("demo")


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()
    (command,) = [line for line in make_recipe("test") if line.startswith(".venv/bin/python -m pytest")]
    assert f"`{command}`" in README


def test_every_setting_is_in_the_env_example():
    from dataflow.settings import AIRFLOW_VARIABLES, CA_BUNDLE_VARIABLES, VARIABLES

    example = (ROOT / ".env.example").read_text()
    for name in {**VARIABLES, **AIRFLOW_VARIABLES}:
        if name in CA_BUNDLE_VARIABLES[1:]:  # the standard ones, named in the comment
            assert name in example, name
        else:
            assert f"\n{name}=" in example, name
