{#-
    `audit_table`: the dataset models' materialization. A dataset is built (contract
    enforced) into the run's audit schema, where the dbt tests and the quality gate look
    at it; orchestrate.py then publishes all audited datasets into the published tables
    together, in one transaction, and only if everything passed.

    It refuses to build anywhere but an audit schema: the stock `table` materialization
    would drop the published table with CASCADE, taking every period view with it.
-#}
{% materialization audit_table, adapter='postgres' %}
    {%- if not target.schema.endswith('_audit') -%}
        {{ exceptions.raise_compiler_error(
            "dataset models are built in an audit schema and published by orchestrate.py; "
            ~ "run `python orchestrate.py` instead of building " ~ this ~ " directly") }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='table') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% do adapter.drop_relation(target_relation) %}
    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, target_relation, sql) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
