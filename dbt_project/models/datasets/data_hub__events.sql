with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__events')) }}

),

renamed as (

    select

        ---------- ids
        cast(id as uuid) as id,
        cast(lead_team_id as uuid) as lead_team_id,
        cast(organiser_id as uuid) as organiser_id,
        cast(created_by_id as uuid) as created_by_id,

        ---------- text
        cast(address_1 as varchar) as address_1,
        cast(address_2 as varchar) as address_2,
        cast(address_country__name as varchar) as address_country,
        cast(address_county as varchar) as address_county,
        cast(address_postcode as varchar) as address_postcode,
        cast(address_town as varchar) as address_town,
        cast(event_type__name as varchar) as event_type,
        cast(location_type__name as varchar) as location_type,
        cast(name as varchar) as name,
        cast(notes as text) as notes,
        cast(service_name as varchar) as service_name,
        cast(uk_region__name as varchar) as uk_region,

        ---------- dates
        {{ to_date('end_date') }} as end_date,
        {{ to_date('start_date') }} as start_date,

        ---------- timestamps
        {{ to_utc_timestamp('created_on') }} as created_on,
        {{ to_utc_timestamp('disabled_on') }} as disabled_on,

        ---------- lists
        {{ to_text_array('team_ids') }} as team_ids,
        {{ to_text_array('related_programme_names') }} as related_programmes

    from source

)

select * from renamed
