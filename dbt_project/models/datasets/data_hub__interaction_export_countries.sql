with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__interaction_export_countries')) }}

),

renamed as (

    select

        ---------- ids
        cast(id as uuid) as id,
        cast(interaction__company_id as uuid) as company_id,
        cast(interaction__id as uuid) as interaction_id,

        ---------- text
        cast(country__name as text) as country_name,
        cast(country__iso_alpha2_code as text) as country_iso_alpha2_code,
        cast(status as text) as status,

        ---------- timestamps
        {{ to_utc_timestamp('created_on') }} as created_on

    from source

)

select * from renamed
