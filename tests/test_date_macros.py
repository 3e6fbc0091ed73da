"""The period macros, rendered by real dbt (one `dbt compile --inline` for all cases).

Expected dates are written out by hand here, not computed by a second implementation.
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from runner import dbt_environment

# (macro call, expected rendering)
CASES = [
    ("month_start('2019-08-17')", "2019-08-01"),
    ("month_end('2019-08-01')", "2019-08-31"),
    ("month_end('2019-09-01')", "2019-09-30"),
    ("month_end('2019-12-01')", "2019-12-31"),
    ("next_month_start('2019-12-15')", "2020-01-01"),
    ("month_end('2019-02-01')", "2019-02-28"),
    ("month_end('2020-02-01')", "2020-02-29"),  # leap year
    ("month_end('2000-02-01')", "2000-02-29"),  # divisible by 400: leap
    ("month_end('2100-02-01')", "2100-02-28"),  # divisible by 100: not leap
    ("period_suffix('2019-08-01')", "2019_08_31"),
    ("period_suffix('2020-02-10')", "2020_02_29"),
    # Financial year starting 04-01: a ds on or before 1 April belongs to the year before.
    ("financial_year_start('2019-03-31', '04-01')", "2018-04-01"),
    ("financial_year_start('2019-04-01', '04-01')", "2018-04-01"),
    ("financial_year_start('2019-04-02', '04-01')", "2019-04-01"),
    ("financial_year_start('2019-08-01', '04-01')", "2019-04-01"),
    ("financial_year_start('2020-01-01', '04-01')", "2019-04-01"),
    # The production setting of the old system, 04-25.
    ("financial_year_start('2019-04-24', '04-25')", "2018-04-25"),
    ("financial_year_start('2019-04-25', '04-25')", "2018-04-25"),
    ("financial_year_start('2019-04-26', '04-25')", "2019-04-25"),
    ("financial_year_start('2019-05-01', '04-25')", "2019-04-25"),
    # The environment default is used when no month-day is given.
    ("financial_year_start('2019-08-01')", "2019-04-01"),
    # The run's ds var itself.
    ("month_end()", "2019-08-31"),
]


@pytest.fixture(scope="module")
def rendered(server_url: str, tmp_path_factory) -> dict[str, str]:
    from dbt.cli.main import dbtRunner

    sql = "\n".join(f"-- case {i}: {{{{ {call} }}}}" for i, (call, _) in enumerate(CASES))
    work = tmp_path_factory.mktemp("dbt")
    # dbt runs in this process and reads its environment: set it for the call only.
    with pytest.MonkeyPatch.context() as environment:
        for name, value in dbt_environment(server_url).items():
            environment.setenv(name, value)
        environment.delenv("FINANCIAL_YEAR_FIRST_MONTH_DAY", raising=False)  # the macros' own default
        result = dbtRunner().invoke([
            "compile", "--inline", sql, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            "--vars", json.dumps({"ds": "2019-08-01"}), "--quiet",
        ])
    assert result.success, result.exception
    compiled = result.result.results[0].node.compiled_code
    out = {}
    for line in compiled.splitlines():
        if line.startswith("-- case "):
            index, value = line[len("-- case "):].split(": ", 1)
            out[CASES[int(index)][0]] = value.strip()
    return out


@pytest.mark.parametrize(("call", "want"), CASES, ids=[c for c, _ in CASES])
def test_date_macro(rendered: dict[str, str], call: str, want: str) -> None:
    assert rendered[call] == want
