{% macro rows_to_audit(relation) -%}
    {#-
        A dataset model's raw rows: in the audit schema, the ones this audit converts. That
        is every row, or after an incremental extract only the rows loaded since the last
        publish (dlt's `_dlt_load_id` after the published one); the run decides which and
        says so in the audit schema's `_dataflow_scope` table (dataflow/delta.py), which the
        `audit_table` materialization updates before it runs the model. Anywhere else (dbt
        by hand: compile, docs) it is the raw table itself.
    -#}
    {%- if target.schema.endswith('_audit') -%}
        (
            select * from {{ relation }}
            where _dlt_load_id::numeric > coalesce((
                select scope.after_load_id from {{ target.schema }}._dataflow_scope as scope
                where scope.dataset = '{{ model.name }}' and scope.mode = 'delta'
            ), -1)
        ) as rows_to_audit
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
