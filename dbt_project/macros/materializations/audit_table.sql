{#-
    `audit_table`: the dataset models' materialization. A dataset is audited as an
    unlogged table in the run's audit schema, converted from its raw table: the contract
    (column names, types, NOT NULL) is enforced as it is filled, the dbt tests and the
    quality gate query it, and orchestrate.py then publishes every audited dataset
    together, in one transaction, by copying its rows into the published table.

    Why a table, and unlogged: the conversions run once, in parallel for the datasets
    (one dbt thread each), and the tests read plain columns instead of converting again;
    unlogged because it is dropped after publishing and needs no WAL (measured against
    audit views: see docs/performance.md).

    It refuses to build anywhere but an audit schema: building a dataset over its
    published table would replace the table, taking every period view with it. dbt's
    other commands (test, ls, compile, docs, and run or build of the views) work on the
    published schema by hand.
-#}
{% materialization audit_table, adapter='postgres' %}
    {%- if not target.schema.endswith('_audit') -%}
        {{ exceptions.raise_compiler_error(
            "dataset models are built in an audit schema and published by orchestrate.py; "
            ~ "run `python orchestrate.py` to refresh " ~ this
            ~ " (by hand, build only the views: --select views)") }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% if existing is not none %}{% do adapter.drop_relation(existing) %}{% endif %}
    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, target_relation, sql) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
