{#-
    `period_view`: CREATE OR REPLACE VIEW, nothing else. The stock `view`
    materialization renames the old view and drops it with CASCADE, which would take
    anything built on it along; this one never drops. A change that removes or retypes
    a column fails loudly in PostgreSQL instead of silently rebuilding.
-#}
{% materialization period_view, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        create or replace view {{ target_relation }} as (
            {{ sql }}
        );
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config, should_revoke=True) %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
