"""Run the extract stage of one dataset in a fresh Python process, for a scheduler's task.

An Airflow task runs inside a process whose `__main__` is Airflow's own command, and the
extract starts a spawned worker process (the batch converter, `extract/convert.py`): a
spawned process re-runs its parent's `__main__`, which under Airflow starts Airflow
again and fails. Run here, as `python -m dataflow.stage_process`, the extract also gets
the allocator settings every `orchestrate.py` run has (`extract.memory`), set before
pyarrow is imported, and dlt's settings (environment variables) stay in this process.

The child reads its settings from the environment it is given, prints the same progress
lines as the CLI (the task log shows them), writes its result as JSON to `--result`,
and on failure ends with the CLI's one-line `error: ...` and exit code.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from extract.memory import limit_allocators


class StageFailed(Exception):
    """The child failed; `usage` when retrying cannot help (exit code 2)."""

    def __init__(self, message: str, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


def run_extract_process(dataset: str, env: dict[str, str], full_refresh: bool = False) -> dict[str, object]:
    """Extract `dataset` in a child process with environment `env`; what `extract_dataset` returns.

    The child's output goes to this process's stdout and stderr (the task log)."""
    from dataflow.settings import PROJECT_ROOT

    with tempfile.TemporaryDirectory(prefix="dataflow-stage-") as scratch:
        result = Path(scratch) / "result.json"
        done = subprocess.run(
            [sys.executable, "-m", "dataflow.stage_process", "extract", dataset, "--result", str(result),
             *(["--full-refresh"] if full_refresh else [])],
            cwd=PROJECT_ROOT, env=env, stdout=None, stderr=subprocess.PIPE, text=True, check=False,
        )
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
            message = errors[-1][len("error: "):] if errors else f"the extract ended with exit code {done.returncode}"
            raise StageFailed(message, usage=done.returncode == 2)
        return json.loads(result.read_text())


def main(argv: list[str] | None = None) -> int:
    limit_allocators()  # before anything imports pyarrow
    from dataflow import redact
    from dataflow.failures import describe
    from dataflow.report import Reporter
    from dataflow.settings import from_environment
    from dataflow.tasks import extract_dataset

    parser = argparse.ArgumentParser(prog="python -m dataflow.stage_process")
    parser.add_argument("stage", choices=["extract"])
    parser.add_argument("dataset")
    parser.add_argument("--result", required=True, type=Path)
    parser.add_argument("--full-refresh", action="store_true")
    args = parser.parse_args(argv)
    try:
        settings = from_environment()
        settings.require_configured()
        redact.register_settings(settings)
        rows = extract_dataset(settings, args.dataset, Reporter(), full_refresh=args.full_refresh)
    except Exception as exc:  # noqa: BLE001 - every failure ends as one line
        message, code = describe(exc)
        print(f"error: {redact.text(message)}", file=sys.stderr, flush=True)
        return code
    args.result.write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
