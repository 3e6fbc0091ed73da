with

source as (

    select {{ declared_columns('datahub', 'omis_dataset') }}
    from {{ source('datahub', 'omis_dataset') }}

),

companies as (

    -- The order's company, by company_id (Data Hub sends the id since October 2019).
    select
        id as company__id,
        name as company__name,
        address_1 as company__address_1,
        address_2 as company__address_2,
        address_town as company__address_town,
        address_county as company__address_county,
        address_country as company__address_country,
        address_postcode as company__address_postcode,
        registered_address_1 as company__registered_address_1,
        registered_address_2 as company__registered_address_2,
        registered_address_town as company__registered_address_town,
        registered_address_county as company__registered_address_county,
        registered_address_country as company__registered_address_country,
        registered_address_postcode as company__registered_address_postcode
    from {{ ref('data_hub__companies') }}

),

contacts as (

    -- The order's contact, by contact_id: from the contacts' raw table, as the published
    -- contacts table has no id.
    select
        cast(id as uuid) as contact__id,
        first_name as contact__first_name,
        last_name as contact__last_name,
        email as contact__email,
        full_telephone_number as contact__full_telephone_number
    from {{ source('datahub', 'contacts') }}

),

teams as (

    select
        id as team__id,
        name as team__name
    from {{ ref('data_hub__teams') }}

),

joined as (

    select
        source.*,
        companies.*,
        contacts.*,
        teams.*
    from source
    left join companies on cast(source.company_id as uuid) = companies.company__id
    left join contacts on cast(source.contact_id as uuid) = contacts.contact__id
    left join teams on cast(source.created_by__dit_team_id as uuid) = teams.team__id

),

renamed as (

    select

        ---------- ids
        {{ to_varchar('reference', 100) }} as omis_order_reference,

        ---------- the order's company
        {{ to_varchar('company__name', 255) }} as company_name,
        {{ to_varchar('company__address_1', 255) }} as company_trading_address_line_1,
        {{ to_varchar('company__address_2', 255) }} as company_trading_address_line_2,
        {{ to_varchar('company__address_town', 255) }} as company_trading_address_town,
        {{ to_varchar('company__address_county', 255) }} as company_trading_address_county,
        {{ to_varchar('company__address_country', 255) }} as company_trading_address_country,
        {{ to_varchar('company__address_postcode', 255) }} as company_trading_address_postcode,
        {{ to_varchar('company__registered_address_1', 255) }} as company_registered_address_1,
        {{ to_varchar('company__registered_address_2', 255) }} as company_registered_address_2,
        {{ to_varchar('company__registered_address_town', 255) }} as company_registered_address_town,
        {{ to_varchar('company__registered_address_county', 255) }} as company_registered_address_county,
        {{ to_varchar('company__registered_address_country', 255) }} as company_registered_address_country,
        {{ to_varchar('company__registered_address_postcode', 255) }} as company_registered_address_postcode,

        ---------- the order's contact
        {{ to_varchar('contact__first_name', 255) }} as contact_first_name,
        {{ to_varchar('contact__last_name', 255) }} as contact_last_name,
        {{ to_varchar('contact__email', 255) }} as contact_email,
        {{ to_varchar('contact__full_telephone_number', 255) }} as contact_phone_number,

        ---------- the team of the adviser who created the order
        cast(team__name as text) as dit_team,

        ---------- text
        {{ to_varchar('status', 100) }} as order_status,
        {{ to_varchar('sector_name', 255) }} as sector,
        cast(primary_market__name as text) as market,
        cast(uk_region__name as text) as uk_region,
        cast(cancellation_reason__name as text) as cancellation_reason,
        cast(services as text) as services,

        ---------- numerics
        cast(invoice__subtotal_cost as integer) as subtotal,
        cast(subtotal_cost as integer) as net_price,

        ---------- dates
        {{ to_date('delivery_date') }} as delivery_date,

        ---------- timestamps
        {{ to_timestamptz('created_on') }} as created_date,
        {{ to_timestamptz('cancelled_on') }} as cancelled_date,
        {{ to_timestamptz('completed_on') }} as completion_date,
        {{ to_timestamptz('paid_on') }} as payment_received_date

    from joined

)

select * from renamed
