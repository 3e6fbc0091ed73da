{{ config(alias='cancelled_omis_orders_' ~ period_suffix()) }}

with

orders as (

    select * from {{ ref('omis_dataset') }}

)

select
    omis_order_reference as "OMIS Order Reference",
    company_name as "Company Name",
    cast(net_price as numeric) / 100 as "Net Price",
    dit_team as "DIT Team",
    market as "Market",
    sector as "Sector",
    created_date as "Created Date",
    cancelled_date as "Cancelled Date",
    cancellation_reason as "Cancellation Reason"

from orders

where
    order_status = 'cancelled'
    -- the cancellation's date, taken in UTC, is in this financial year or later
    and cancelled_date >= {{ utc_timestamp(financial_year_start()) }}
