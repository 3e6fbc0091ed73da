"""The two kinds of failure the command line tells apart.

A UsageError is the user's mistake (exit 2, one line, no traceback); a RunError is a
run that could not finish (exit 1, one line). Both carry messages that were written
for the user and never contain secrets.
"""


class DataFlowError(Exception):
    """Base for failures that end a run with a one-line message."""

    exit_code = 1


class UsageError(DataFlowError):
    """Bad input: arguments or settings the user can fix."""

    exit_code = 2


class RunError(DataFlowError):
    """The run started but could not complete; nothing was published."""

    exit_code = 1
