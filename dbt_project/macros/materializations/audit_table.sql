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

    Delta: when the run's scope table (`_dataflow_scope`, dataflow/delta.py) asks for it
    and the model's compiled SQL is the one last published, the model converts only the
    raw rows loaded since the last publish (`rows_to_audit`) into the table
    `<model>__changes`, held to the contract, and the model is a view of the published rows
    whose key is not among the changes plus the changes: what publishing by key will make
    of the published table, so the tests, the views and the gate all judge that (a view:
    copying the unchanged rows cost more than the tests reading them twice). Otherwise the
    whole raw table is converted. The scope table is updated with what was done and the
    SQL's hash.
-#}
{% materialization audit_table, adapter='postgres' %}
    {%- if not (target.schema.endswith('_audit') and this.schema.endswith('_audit')) -%}
        {{ exceptions.raise_compiler_error(
            "dataset models are built in an audit schema and published by orchestrate.py; "
            ~ "run `python orchestrate.py` to refresh " ~ this
            ~ " (by hand, build only the views: --select views)") }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set scope_table = adapter.quote(this.schema) ~ '._dataflow_scope' -%}
    {%- set sql_hash = local_md5(sql) -%}
    {%- set has_scope = run_query("select to_regclass('" ~ scope_table ~ "') is not null").rows[0][0] -%}
    {%- set scope = run_query(
        "select mode, key, previous_sql_hash from " ~ scope_table ~ " where dataset = '" ~ this.identifier ~ "'"
    ) if has_scope else none -%}
    {%- set delta = scope is not none and scope.rows | length == 1 and scope.rows[0][0] == 'delta'
        and scope.rows[0][2] == sql_hash -%}
    {% if scope is not none %}
        {% call statement('scope') -%}
            update {{ scope_table }} set mode = '{{ "delta" if delta else "full" }}', sql_hash = '{{ sql_hash }}'
            where dataset = '{{ this.identifier }}'
        {%- endcall %}
    {% endif %}

    {% if existing is not none %}{% do adapter.drop_relation(existing) %}{% endif %}
    {% if delta %}
        {%- set key = adapter.quote(scope.rows[0][1]) -%}
        {%- set changes = api.Relation.create(database=this.database, schema=this.schema,
                                             identifier=this.identifier ~ '__changes', type='table') -%}
        {%- set published = api.Relation.create(database=this.database, schema=this.schema[:-6],
                                               identifier=this.identifier, type='table') -%}
        {%- set quoted = [] -%}
        {%- for name in model.columns -%}{%- do quoted.append(adapter.quote(name)) -%}{%- endfor -%}
        {%- set columns = quoted | join(', ') -%}
        {#- The changes are held to the contract here; the published rows already are. -#}
        {% call statement('changes') -%}
            {{ get_create_table_as_sql(False, changes, sql) }}
        {%- endcall %}
        {%- set target_relation = this.incorporate(type='view') -%}
        {% call statement('main') -%}
            create view {{ target_relation }} as
            select {{ columns }} from {{ published }} as published
            where not exists (select from {{ changes }} as changed where changed.{{ key }} = published.{{ key }})
            union all
            select {{ columns }} from {{ changes }}
        {%- endcall %}
    {% else %}
        {% call statement('main') -%}
            {{ get_create_table_as_sql(False, target_relation, sql) }}
        {%- endcall %}
    {% endif %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
