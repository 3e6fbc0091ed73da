"""data-flow's Apache Airflow DAGs: one per view schedule, generated from the dbt project (dataflow/dags.py).

Adding a dataset or a view in the dbt project adds its tasks here with no edit.
"""

from dataflow.dags import build

globals().update(build())
