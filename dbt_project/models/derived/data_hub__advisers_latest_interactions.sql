with

participations as (

    select
        cast(named.adviser_id as uuid) as adviser_id,
        interactions.id as interaction_id,
        {{ latest_first('named.adviser_id', 'interactions') }} as latest_rank
    from {{ ref('data_hub__interactions') }} as interactions
    cross join lateral unnest(interactions.adviser_ids) as named (adviser_id)
    where named.adviser_id is not null

)

select
    advisers.id as adviser_id,
    participations.interaction_id as last_interaction_id
from {{ ref('data_hub__advisers') }} as advisers
left join participations
    on advisers.id = participations.adviser_id and participations.latest_rank = 1
