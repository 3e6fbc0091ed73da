with

contacts as (

    -- Every contact: the published contacts table has no id column, so the ids come from
    -- its raw table (which holds every contact the published one does).
    select distinct cast(id as uuid) as contact_id
    from {{ source('datahub', 'contacts') }}
    where id is not null

),

participations as (

    {{ interactions_by_person('contact_id', 'contact_ids') }}

)

select
    contacts.contact_id,
    participations.interaction_id as last_interaction_id
from contacts
left join participations
    on contacts.contact_id = participations.contact_id and participations.latest_rank = 1
