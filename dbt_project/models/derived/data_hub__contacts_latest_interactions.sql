with

contacts as (

    -- Every contact: the published contacts table has no id column, so the ids come from
    -- its raw table (which holds every contact the published one does).
    select distinct cast(id as uuid) as contact_id
    from {{ source('datahub', 'contacts') }}
    where id is not null

),

participations as (

    select
        cast(named.contact_id as uuid) as contact_id,
        interactions.id as interaction_id,
        {{ latest_first('named.contact_id', 'interactions') }} as latest_rank
    from {{ ref('data_hub__interactions') }} as interactions
    cross join lateral unnest(interactions.contact_ids) as named (contact_id)
    where named.contact_id is not null

)

select
    contacts.contact_id,
    participations.interaction_id as last_interaction_id
from contacts
left join participations
    on contacts.contact_id = participations.contact_id and participations.latest_rank = 1
