{% macro interactions_by_person(person, list_column) -%}
    {#-
        One row per person named in each interaction's `list_column` (a text[] of Data Hub
        ids), with the interaction's place among that person's interactions, latest first
        (`latest_rank` 1): by interaction_date, undated ones last; on the same date (dates
        are days) the latest created_on, then the greatest id, so every run chooses the same.
    -#}
    select
        cast(named.{{ person }} as uuid) as {{ person }},
        interactions.id as interaction_id,
        row_number() over (
            partition by named.{{ person }}
            order by
                interactions.interaction_date desc nulls last,
                interactions.created_on desc nulls last,
                interactions.id desc
        ) as latest_rank
    from {{ ref('data_hub__interactions') }} as interactions
    cross join lateral unnest(interactions.{{ list_column }}) as named ({{ person }})
    where named.{{ person }} is not null
{%- endmacro %}
