# One entry point: `make demo`, `make test`, `make lint`, `make bench`, `make docs`,
# `make airflow`, `make registry`. Every target installs what it needs into .venv first
# (once; again only when pyproject.toml or requirements.lock change); Airflow only for
# `test`, `airflow` and `bench`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_AIRFLOW := $(VENV)/.installed-airflow

.PHONY: demo test lint bench docs clean airflow registry

# What the DAGs are built from (dataflow/registry.py): rewrite it when the dbt project
# changes (`make airflow` does; the tests fail on a stale one).
REGISTRY := dags/registry.json
$(REGISTRY): $(INSTALLED) $(shell find dbt_project -type f) dbt_project.yml profiles.yml dataflow/dbt_project.py
	$(BIN)/python -m dataflow.registry
	@touch $@

registry: $(REGISTRY)

$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

$(INSTALLED_AIRFLOW): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,airflow,sso]'
	@touch $@

demo: $(INSTALLED)
	$(BIN)/python orchestrate.py --ds 2019-08-01

test: $(INSTALLED_AIRFLOW)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project

docs: $(INSTALLED)
	$(BIN)/python orchestrate.py docs

airflow: $(INSTALLED_AIRFLOW) $(REGISTRY)
	$(BIN)/python -m dataflow.airflow_local

clean:
	rm -rf .data/dlt .data/dbt

bench: $(INSTALLED_AIRFLOW)
	$(BIN)/python bench/dag_parse.py
	$(BIN)/python bench/run.py --scaling
	$(BIN)/python bench/catchup.py
