{{ config(alias='omis_client_survey_' ~ period_suffix()) }}

with

orders as (

    select * from {{ ref('omis_dataset') }}

)

select
    company_name as "Company Name",
    contact_first_name as "Contact First Name",
    contact_last_name as "Contact Last Name",
    contact_email as "Contact Email",
    company_trading_address_line_1 as "Company Trading Address Line 1",
    company_trading_address_line_2 as "Company Trading Address Line 2",
    company_trading_address_town as "Company Trading Address Town",
    company_trading_address_county as "Company Trading Address County",
    company_trading_address_postcode as "Company Trading Address Postcode",
    company_registered_address_1 as "Company Registered Address 1",
    company_registered_address_2 as "Company Registered Address 2",
    company_registered_address_town as "Company Registered Address Town",
    company_registered_address_county as "Company Registered Address County",
    company_registered_address_country as "Company Registered Address Country",
    company_registered_address_postcode as "Company Registered Address Postcode"

from orders

where
    order_status = 'complete'
    and {{ in_utc_month('completion_date') }}
