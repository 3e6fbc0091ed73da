with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__company_export_countries')) }}

),

renamed as (

    select

        ---------- ids
        cast(company_id as uuid) as company_id,
        cast(id as uuid) as id,

        ---------- text
        cast(country__name as varchar) as country,
        cast(country__iso_alpha2_code as varchar) as country_iso_alpha2_code,
        cast(status as varchar) as status,

        ---------- timestamps
        {{ to_utc_timestamp('created_on') }} as created_on,
        {{ to_utc_timestamp('modified_on') }} as modified_on

    from source

)

select * from renamed
