{#-
    `audit_view`: the dataset models' materialization. A dataset is audited as a view over
    its raw table, in the run's audit schema: the contract (column names and types) is
    checked when it is created, the dbt tests and the quality gate query it, and
    orchestrate.py then publishes every audited dataset together, in one transaction, by
    inserting the view's rows into the published table (whose NOT NULL and varchar
    lengths are enforced on that insert). A view costs nothing to build: the conversions
    run once, while publishing, instead of once into an audit table and again out of it.

    It refuses to build anywhere but an audit schema: building a dataset over its
    published table would replace the table, taking every period view with it.
-#}
{% materialization audit_view, adapter='postgres' %}
    {%- if not target.schema.endswith('_audit') -%}
        {{ exceptions.raise_compiler_error(
            "dataset models are built in an audit schema and published by orchestrate.py; "
            ~ "run `python orchestrate.py` instead of building " ~ this ~ " directly") }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='view') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% do adapter.drop_relation(target_relation) %}
    {% call statement('main') -%}
        {{ get_create_view_as_sql(target_relation, sql) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
