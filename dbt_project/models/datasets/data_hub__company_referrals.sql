with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__company_referrals')) }}

),

renamed as (

    select

        ---------- ids
        cast(company_id as uuid) as company_id,
        cast(completed_by_id as uuid) as completed_by_id,
        cast(contact_id as uuid) as contact_id,
        cast(created_by_id as uuid) as created_by_id,
        cast(id as uuid) as id,
        cast(interaction_id as uuid) as interaction_id,
        cast(recipient_id as uuid) as recipient_id,

        ---------- text
        cast(notes as text) as notes,
        cast(status as varchar) as status,
        cast(subject as varchar) as subject,

        ---------- timestamps
        {{ to_utc_timestamp('completed_on') }} as completed_on,
        {{ to_utc_timestamp('created_on') }} as created_on

    from source

)

select * from renamed
