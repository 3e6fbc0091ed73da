with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__teams')) }}

),

renamed as (

    select

        ---------- ids
        cast(id as uuid) as id,

        ---------- text
        cast(name as varchar) as name,
        cast(role__name as varchar) as role,
        cast(uk_region__name as varchar) as uk_region,
        cast(country__name as varchar) as country,

        ---------- timestamps
        {{ to_utc_timestamp('disabled_on') }} as disabled_on

    from source

)

select * from renamed
