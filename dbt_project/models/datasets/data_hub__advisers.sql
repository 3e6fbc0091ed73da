with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__advisers')) }}

),

renamed as (

    select

        ---------- ids
        cast(id as uuid) as id,
        cast(dit_team_id as uuid) as team_id,

        ---------- text
        cast(first_name as varchar) as first_name,
        cast(last_name as varchar) as last_name,
        cast(telephone_number as varchar) as telephone_number,
        cast(contact_email as varchar) as contact_email,
        cast(sso_email_user_id as varchar) as sso_email_user_id,

        ---------- booleans
        is_active,

        ---------- dates
        {{ to_date('date_joined') }} as date_joined,

        ---------- timestamps
        {{ to_utc_timestamp('last_login') }} as last_login

    from source

)

select * from renamed
