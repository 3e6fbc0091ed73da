{#- Conversions from the raw columns (as Data Hub sent them) to the published types. -#}

{% macro to_timestamptz(column) -%}
    {#-
        Data Hub timestamps are ISO 8601 strings, normally with an offset. One without an
        offset is taken as UTC, never as the session's TimeZone.
    -#}
    case
        when {{ column }} ~ '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast({{ column }} as timestamp with time zone)
        else cast({{ column }} as timestamp) at time zone 'UTC'
    end
{%- endmacro %}


{% macro pg_array_text(column) -%}
    {#-
        A list-valued field mapped to a text column, written the way the old system
        wrote it (psycopg2 sent a Python list as an ARRAY): PostgreSQL's array text form,
        e.g. {London,"North West"}; an empty list is {} and a null element is NULL.
        A scalar JSON value is kept as its text.
    -#}
    case jsonb_typeof({{ column }})
        when 'array' then cast(array(
            select element.value
            from jsonb_array_elements_text({{ column }}) with ordinality as element (value, position)
            order by element.position
        ) as text)
        when 'string' then {{ column }} #>> '{}'
        when 'null' then null
        else cast({{ column }} as text)
    end
{%- endmacro %}


{% macro to_varchar(column, length) -%}
    {#-
        A text field into a character varying(length) column. A plain cast would cut an
        overlong value silently; instead the row fails the run with a message naming the
        column. (The error cast depends on the column so PostgreSQL cannot fold it away.)
    -#}
    case
        when length({{ column }}) > {{ length }}
            then cast(
                cast(left({{ column }}, 0) || '{{ column }} is longer than {{ length }} characters' as integer)
                as varchar({{ length }})
            )
        else cast({{ column }} as varchar({{ length }}))
    end
{%- endmacro %}


{% macro to_utc_timestamp(column) -%}
    {#-
        A Data Hub timestamp into a `timestamp` (without time zone) column, as the later
        data-flow declared them: the UTC wall time (Data Hub sends UTC, ending in Z).
    -#}
    ({{ to_timestamptz(column) }}) at time zone 'UTC'
{%- endmacro %}


{% macro to_text_array(column) -%}
    {#-
        A JSON list into a `text[]` column, in its order; JSON null is NULL and a null
        element stays a NULL element (Data Hub sends `[null]` for a list with no rows).
    -#}
    case jsonb_typeof({{ column }})
        when 'array' then array(
            select element.value
            from jsonb_array_elements_text({{ column }}) with ordinality as element (value, position)
            order by element.position
        )
    end
{%- endmacro %}
