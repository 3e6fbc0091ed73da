with

source as (

    select * from {{ rows_to_audit(source('datahub', 'omis_dataset')) }}

),

renamed as (

    select

        ---------- ids
        {{ to_varchar('reference', 100) }} as omis_order_reference,

        ---------- text
        {{ to_varchar('company__name', 255) }} as company_name,
        {{ to_varchar('status', 100) }} as order_status,
        {{ to_varchar('contact__first_name', 255) }} as contact_first_name,
        {{ to_varchar('contact__last_name', 255) }} as contact_last_name,
        {{ to_varchar('contact__email', 255) }} as contact_email,
        {{ to_varchar('contact__telephone_number', 255) }} as contact_phone_number,
        {{ to_varchar('sector_name', 255) }} as sector,
        cast(primary_market__name as text) as market,
        cast(created_by__dit_team__name as text) as dit_team,
        cast(uk_region__name as text) as uk_region,
        cast(cancellation_reason__name as text) as cancellation_reason,
        {{ to_varchar('company__address_1', 255) }} as company_trading_address_line_1,
        {{ to_varchar('company__address_2', 255) }} as company_trading_address_line_2,
        {{ to_varchar('company__address_town', 255) }} as company_trading_address_town,
        {{ to_varchar('company__address_county', 255) }} as company_trading_address_county,
        {{ to_varchar('company__address_country__name', 255) }} as company_trading_address_country,
        {{ to_varchar('company__address_postcode', 255) }} as company_trading_address_postcode,
        {{ to_varchar('company__registered_address_1', 255) }} as company_registered_address_1,
        {{ to_varchar('company__registered_address_2', 255) }} as company_registered_address_2,
        {{ to_varchar('company__registered_address_town', 255) }} as company_registered_address_town,
        {{ to_varchar('company__registered_address_county', 255) }} as company_registered_address_county,
        {{ to_varchar('company__registered_address_country__name', 255) }} as company_registered_address_country,
        {{ to_varchar('company__registered_address_postcode', 255) }} as company_registered_address_postcode,
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

    from source

)

select * from renamed
