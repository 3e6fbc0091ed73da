"""`exit_now` skips only the interpreter's teardown: a process's exit duties still run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import atexit, sys, threading, time
    from pathlib import Path
    from extract.process_exit import exit_now

    log = Path(sys.argv[1])

    def late_thread():
        time.sleep(0.3)
        with log.open("a") as handle:
            handle.write("thread\\n")

    atexit.register(lambda: log.open("a").write("atexit\\n"))
    threading.Thread(target=late_thread).start()
    print("unflushed output", end="")
    exit_now(7)
    """
)


def test_exit_now_waits_for_threads_runs_atexit_flushes_and_keeps_the_code(tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 7, result.stderr
    assert result.stdout == "unflushed output"
    assert log.read_text().splitlines() == ["thread", "atexit"]
