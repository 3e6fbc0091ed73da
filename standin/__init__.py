"""Local stand-in for the Data Hub dataset API (Hawk auth, cursor pagination).

Shares no code with the project's HTTP client on purpose: the demo, the
tests and the benchmark talk to this server, and an independent
implementation means a bug on one side cannot be mirrored on the other.
"""

from standin.data import DATASET_PATHS, record, records
from standin.faults import Fault
from standin.related import Universe
from standin.server import StandIn

__all__ = ["DATASET_PATHS", "Fault", "StandIn", "Universe", "record", "records"]
