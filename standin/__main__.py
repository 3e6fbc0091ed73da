"""Run the Data Hub stand-in from the command line.

    HAWK_ID=... HAWK_KEY=... python -m standin --port 0 --records 100000

With ``--tls-cert FILE --tls-key FILE`` (PEM) it serves HTTPS instead.
Prints exactly one line, ``standin listening on http(s)://HOST:PORT``, once the
socket accepts connections (so a parent started with ``--port 0`` can read the
port), then serves until SIGTERM or SIGINT. Credentials come only from the
environment so they never appear in process listings; the key is never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
import threading
from collections.abc import Sequence

from standin.data import ALL_PATHS
from standin.faults import MODES, Fault
from standin.server import StandIn, server_context


def _count(text: str) -> tuple[str, int]:
    dataset, sep, number = text.partition("=")
    if not sep or dataset not in ALL_PATHS:
        raise argparse.ArgumentTypeError(f"expected DATASET=N with DATASET in {sorted(ALL_PATHS)}")
    try:
        value = int(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {number!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("counts must be >= 0")
    return dataset, value


def _fault(text: str) -> Fault:
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise argparse.ArgumentTypeError("expected DATASET:MODE[:PAGE[:TIMES]]")
    try:
        page = int(parts[2]) if len(parts) > 2 else 1
        times = int(parts[3]) if len(parts) > 3 else None
        return Fault(parts[0], parts[1], page=page, times=times)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m standin",
        description="Local stand-in for the Data Hub dataset API (Hawk auth, cursor pagination). "
        "Reads HAWK_ID, HAWK_KEY and optionally HAWK_ALGORITHM (default sha256) from the environment.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (default 8000)")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument(
        "--records", type=int, help="total records, split 30/30/40 over omis/investment/contacts"
    )
    sizes.add_argument(
        "--count",
        type=_count,
        action="append",
        metavar="DATASET=N",
        help="records for one dataset (repeatable; unnamed datasets get 0)",
    )
    parser.add_argument(
        "--related-records", type=int, default=0, metavar="N",
        help="with --records: N more records over the nine datasets whose records name each other "
        "(teams, advisers, companies, events, interactions, ...; default 0)",
    )
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="DATASET:MODE[:PAGE[:TIMES]]",
        help=f"inject a fault (repeatable); MODE is one of {', '.join(sorted(MODES))}",
    )
    parser.add_argument(
        "--edited-percent",
        type=float,
        default=0.0,
        metavar="P",
        help="edit every (100/P)th record of each dataset at start-up (modified now), for updated_since",
    )
    parser.add_argument(
        "--activity",
        action="store_true",
        help="at start-up, a day of Data Hub's activity (edits, new and deleted records, an undeclared "
        "field), different at every start: what the demo's incremental runs fetch",
    )
    parser.add_argument(
        "--prerender",
        action="store_true",
        help="render every page before serving (a fast server for benchmarks; holds every page in memory)",
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    hawk_id = os.environ.get("HAWK_ID")
    hawk_key = os.environ.get("HAWK_KEY")
    if not hawk_id or not hawk_key:
        print("standin: HAWK_ID and HAWK_KEY must be set in the environment", file=sys.stderr)
        return 2
    algorithm = os.environ.get("HAWK_ALGORITHM") or "sha256"
    if args.page_size < 1:
        print("standin: --page-size must be >= 1", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("standin: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    try:
        context = server_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    except (OSError, ssl.SSLError) as exc:
        print(f"standin: cannot load --tls-cert/--tls-key: {exc.strerror or exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    try:
        server = StandIn(
            counts=dict(args.count) if args.count else None,
            records=args.records,
            related_records=args.related_records,
            page_size=args.page_size,
            hawk_id=hawk_id,
            hawk_key=hawk_key,
            algorithm=algorithm,
            host=args.host,
            port=args.port,
            seed=args.seed,
            faults=args.fault,
            ssl_context=context,
            prerender=args.prerender,
        )
        if args.edited_percent > 0:
            step = max(round(100 / args.edited_percent), 1)
            for dataset, count in server.counts.items():
                server.edit(dataset, range(0, count, step))
        if args.activity:
            server.activity()
        if args.edited_percent > 0 or args.activity:
            server.changes.prepare()  # updated_since's index, built before serving
        server.start()
        if args.prerender:
            server.prerender()
    except ValueError as exc:
        print(f"standin: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"standin: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        print(f"standin listening on {server.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
