"""Constants of the Data Hub source.

The datasets themselves (endpoint, raw columns) are declared once, in the dbt source
file below, so that endpoint -> resource -> raw table -> dbt source -> dataset model
share one name and one list of fields.
"""

from pathlib import Path

from dataflow.settings import PROJECT_ROOT

SOURCE_NAME = "datahub"
RAW_SCHEMA = "raw"
SOURCES_YML: Path = PROJECT_ROOT / "dbt_project" / "models" / "datasets" / "_datahub__sources.yml"

# dbt source column data_type -> dlt data type for the raw table. Raw keeps what the
# API sent: timestamps, dates and decimals stay text (cast exactly in dbt), lists stay
# JSON in their row.
RAW_TYPES = {"character varying": "text", "boolean": "bool", "bigint": "bigint", "jsonb": "json"}
# How often a dataset fetched incrementally is fetched whole (`meta.full_refresh`).
FULL_REFRESH_EVERY = ("daily", "weekly", "monthly")

# Records per conversion batch (one job for the converter's worker process). Measured at
# 350k records: the run's peak (PSS) 355 MiB with 2,000, 326 with 1,000, for (c)/(c0)
# 0.98-1.06 (three pairs); 5,000 held 75-90 MiB more than 2,000.
BATCH_ROWS = 1_000
# Batches appended to one CSV file, so one COPY job of dlt's load (10,000 rows): 175 jobs
# of 2,000 rows loaded 350k records in 3.0-4.6 s, 70 of 5,000 in 2.0-2.5 s.
FILE_BATCHES = 10
# Batches of one dataset submitted for conversion and not yet converted.
MAX_BATCHES_IN_FLIGHT = 2

# HTTP behaviour.
MAX_CONNECTIONS = 8
MAX_ATTEMPTS = 6  # with DATAHUB_RETRY_SECONDS, bounds the time spent on one page
RETRY_BACKOFF_FACTOR = 1.0  # waits 1, 2, 4, 8 ... seconds (or what Retry-After asks)
MAX_RETRY_DELAY = 30.0
USER_AGENT = "data-flow"  # names the client in Data Hub's logs
