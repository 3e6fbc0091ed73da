{% macro latest_first(person, interactions) -%}
    {#-
        An interaction's place among one person's interactions, latest first (1 is the
        latest): by interaction_date, nulls last, and on equal dates (dates are days) by the
        latest created_on, then the greatest id, so that every run chooses the same one.
    -#}
    row_number() over (
        partition by {{ person }}
        order by
            {{ interactions }}.interaction_date desc nulls last,
            {{ interactions }}.created_on desc nulls last,
            {{ interactions }}.id desc
    )
{%- endmacro %}
