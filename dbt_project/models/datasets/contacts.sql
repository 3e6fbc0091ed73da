with

source as (

    select * from {{ rows_to_audit(source('datahub', 'contacts')) }}

),

renamed as (

    select

        ---------- ids
        {{ to_varchar('company__company_number', 255) }} as companies_house_id,

        ---------- text
        cast(address_country__name as text) as address_country,
        {{ to_varchar('company__name', 255) }} as company_name,
        cast(company__uk_region__name as text) as uk_region,
        cast(company_sector as text) as company_sector,
        {{ to_varchar('email', 255) }} as email,
        {{ to_varchar('email_alternative', 255) }} as email_alternative,
        {{ to_varchar('job_title', 255) }} as job_title,
        cast(name as text) as contact_name,
        cast(notes as text) as notes,
        {{ to_varchar('telephone_alternative', 255) }} as telephone_alternative,
        {{ to_varchar('telephone_number', 255) }} as phone,

        ---------- booleans
        accepts_dit_email_marketing,

        ---------- dates
        {{ to_date('created_on') }} as date_added_to_datahub

    from source

)

select * from renamed
