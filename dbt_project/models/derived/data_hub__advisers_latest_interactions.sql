with

participations as (

    {{ interactions_by_person('adviser_id', 'adviser_ids') }}

)

select
    advisers.id as adviser_id,
    participations.interaction_id as last_interaction_id
from {{ ref('data_hub__advisers') }} as advisers
left join participations
    on advisers.id = participations.adviser_id and participations.latest_rank = 1
