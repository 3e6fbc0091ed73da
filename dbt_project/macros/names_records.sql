{% test names_records(model, raw, field, records, key='id', list=false) %}
    {#-
        The ids in `raw`.`field` (a dataset's raw table; with `list`, a JSON list of ids)
        that name no row of `records` (by its `key`): a record Data Hub no longer has, such
        as a deleted company. The model joining them keeps its row, with NULL in the joined
        columns; declared with severity warn, so the run counts them in its warnings.
    -#}
{%- if list %}
    select named.id
    from {{ raw }} as raw_rows
    cross join lateral jsonb_array_elements_text(
        case jsonb_typeof(raw_rows.{{ field }}) when 'array' then raw_rows.{{ field }} else '[]' end
    ) as named (id)
    {%- else %}
    select raw_rows.{{ field }} as id
    from {{ raw }} as raw_rows
    {%- endif %}
    where {{ 'named.id' if list else 'raw_rows.' ~ field }} is not null
        and not exists (
            select from {{ records }} as records
            where cast(records.{{ key }} as uuid) = cast({{ 'named.id' if list else 'raw_rows.' ~ field }} as uuid)
        )
{% endtest %}
