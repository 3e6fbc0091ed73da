"""Airflow's FAB configuration with data-flow's single sign-on: set
AIRFLOW__FAB__CONFIG_FILE to this file's path and the AUTHBROKER_* variables
(docs/airflow.md). FAB reads the upper-case names defined here."""

from dataflow.sso import fab_settings

globals().update(fab_settings())
