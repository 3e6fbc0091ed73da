with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__company_export_country_histories')) }}

),

renamed as (

    select

        ---------- ids
        cast(company_id as uuid) as company_id,
        cast(history_id as uuid) as id,
        cast(id as uuid) as company_export_country_id,

        ---------- text
        cast(country__name as varchar) as country,
        cast(country__iso_alpha2_code as varchar) as country_iso_alpha2_code,
        cast(history_type as varchar) as history_type,
        cast(status as varchar) as status,

        ---------- timestamps
        {{ to_utc_timestamp('history_date') }} as history_date

    from source

)

select * from renamed
