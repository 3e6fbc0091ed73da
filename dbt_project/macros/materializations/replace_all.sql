{#-
    Incremental strategy `replace_all`: every run replaces all rows of the published
    dataset table inside dbt's transaction (delete, then insert from the freshly built
    temp relation). Unlike the stock `table` materialization, which renames the old
    table and drops it with CASCADE, this keeps the table itself: its OID, grants,
    indexes and every view built on it (all earlier period views) survive, and readers
    see either the old rows or the new ones, never an empty table.
-#}
{% macro get_incremental_replace_all_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    delete from {{ target }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }};
{%- endmacro %}
