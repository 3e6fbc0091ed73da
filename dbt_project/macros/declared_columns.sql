{% macro declared_columns(source_name, table_name) -%}
{#-
    The columns a raw table declares today (the dbt source's columns), for a model that
    joins other tables to it: a raw table keeps every column an earlier declaration gave
    it (dlt never drops one; a warehouse of the previous version has the 2019 fields,
    e.g. `company__name`), and such a stale column would shadow the joined column of the
    same name. Before execution (parsing), `*`.
-#}
{%- if execute -%}
{%- set found = [] -%}
{%- for node in graph.sources.values() if node.source_name == source_name and node.name == table_name -%}
{%- do found.append(node) -%}
{%- endfor -%}
{%- if not found or not found[0].columns -%}
{{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " declares no columns") }}
{%- endif -%}
{%- for column in found[0].columns -%}
{{ adapter.quote(column) }}{{ ", " if not loop.last }}
{%- endfor -%}
{%- else -%}
*
{%- endif -%}
{%- endmacro %}
