with

source as (

    select {{ declared_columns('datahub', 'contacts') }}
    from {{ source('datahub', 'contacts') }}

),

companies as (

    -- The contact's company, by company_id (Data Hub sends the id since October 2019).
    select
        id as company__id,
        company_number as company__company_number,
        name as company__name,
        uk_region as company__uk_region,
        sector as company__sector
    from {{ ref('data_hub__companies') }}

),

joined as (

    select
        source.*,
        companies.*
    from source
    left join companies on cast(source.company_id as uuid) = companies.company__id

),

renamed as (

    select

        ---------- the contact's company
        {{ to_varchar('company__company_number', 255) }} as companies_house_id,
        {{ to_varchar('company__name', 255) }} as company_name,
        cast(company__uk_region as text) as uk_region,
        cast(company__sector as text) as company_sector,

        ---------- text
        cast(address_country__name as text) as address_country,
        {{ to_varchar('email', 255) }} as email,
        {{ to_varchar('job_title', 255) }} as job_title,
        cast(name as text) as contact_name,
        cast(notes as text) as notes,
        {{ to_varchar('full_telephone_number', 255) }} as phone,

        ---------- retired: Data Hub no longer sends these (see the model's description)
        cast(null as boolean) as accepts_dit_email_marketing,
        cast(null as varchar(255)) as email_alternative,
        cast(null as varchar(255)) as telephone_alternative,

        ---------- dates
        cast({{ to_timestamptz('created_on') }} at time zone 'UTC' as date) as date_added_to_datahub

    from joined

)

select * from renamed
