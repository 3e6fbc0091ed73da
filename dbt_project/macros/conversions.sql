{#- Conversions from the raw columns (as Data Hub sent them) to the published types. -#}

{% macro iso_8601(column, form) -%}
    {#-
        The text of a Data Hub date or timestamp, checked to be what Data Hub sends:
        `YYYY-MM-DD` (form 'date' also takes a timestamp, for the date of one) or
        `YYYY-MM-DDThh:mm:ss[.fraction]` with `Z` or an offset (form 'timestamp').
        PostgreSQL's own casts are lenient ('today', 'epoch', 'infinity', '03/04/2019',
        '20190101' all cast): anything else fails the build with an error naming the
        column and the value, which `dataflow/unfit_values.py` turns into the field and a
        record's key. (The error cast depends on the column, so it cannot be folded away.)
    -#}
    {%- set day = '[0-9]{4}-[0-9]{2}-[0-9]{2}' -%}
    {%- set timestamp = day ~ 'T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)' -%}
    {%- set pattern = timestamp if form == 'timestamp' else day ~ '|' ~ timestamp -%}
    case
        when {{ column }} ~ '^({{ pattern }})$' then {{ column }}
        else cast(cast('{{ column }} is not an ISO 8601 {{ form }}: ' || {{ column }} as integer) as text)
    end
{%- endmacro %}


{% macro to_date(column) -%}
    {#- A Data Hub date (or a timestamp's date, as written) into a `date` column. -#}
    cast({{ iso_8601(column, 'date') }} as date)
{%- endmacro %}


{% macro to_timestamptz(column) -%}
    {#- A Data Hub timestamp (ISO 8601, with Z or an offset) into a `timestamp with time zone`. -#}
    cast({{ iso_8601(column, 'timestamp') }} as timestamp with time zone)
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


{% macro joined_list(column) -%}
    {#-
        A JSON list of names into the text the 2019 view sent: its elements joined with ', ',
        in the list's order (null elements skipped); JSON null stays null.
    -#}
    array_to_string({{ to_text_array(column) }}, ', ')
{%- endmacro %}


{% macro full_name(first_name, last_name) -%}
    {#- Data Hub's own full name of an adviser or contact: first and last name, blank parts skipped. -#}
    concat_ws(' ', nullif({{ first_name }}, ''), nullif({{ last_name }}, ''))
{%- endmacro %}
