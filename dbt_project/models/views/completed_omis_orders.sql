{{ config(alias='completed_omis_orders_' ~ period_suffix()) }}

with

orders as (

    select * from {{ ref('omis_dataset') }}

)

select
    company_name as "Company Name",
    dit_team as "DIT Team",
    cast(subtotal as numeric) / 100 as "Subtotal",
    uk_region as "UK Region",
    market as "Market",
    sector as "Sector",
    services as "Services",
    delivery_date as "Delivery Date",
    payment_received_date as "Payment Received Date",
    completion_date as "Completion Date"

from orders

where
    order_status = 'complete'
    and {{ in_utc_month('completion_date') }}
