with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__companies')) }}

),

renamed as (

    select

        ---------- ids
        cast(global_headquarters_id as uuid) as global_headquarters_id,
        cast(id as uuid) as id,
        cast(one_list_account_owner_id as uuid) as one_list_account_owner_id,
        cast(created_by_id as uuid) as created_by_id,

        ---------- text
        cast(address_1 as varchar) as address_1,
        cast(address_2 as varchar) as address_2,
        cast(address_county as varchar) as address_county,
        cast(address_country__name as varchar) as address_country,
        cast(address_postcode as varchar) as address_postcode,
        cast(address_town as varchar) as address_town,
        cast(business_type__name as varchar) as business_type,
        cast(company_number as varchar) as company_number,
        cast(description as text) as description,
        cast(duns_number as varchar) as duns_number,
        cast(export_experience_category__name as varchar) as export_experience,
        cast(global_ultimate_duns_number as varchar) as global_ultimate_duns_number,
        cast(headquarter_type__name as varchar) as headquarter_type,
        cast(name as varchar) as name,
        cast(one_list_tier__name as varchar) as one_list_tier,
        cast(reference_code as varchar) as cdms_reference_code,
        cast(registered_address_1 as varchar) as registered_address_1,
        cast(registered_address_2 as varchar) as registered_address_2,
        cast(registered_address_country__name as varchar) as registered_address_country,
        cast(registered_address_county as varchar) as registered_address_county,
        cast(registered_address_postcode as varchar) as registered_address_postcode,
        cast(registered_address_town as varchar) as registered_address_town,
        cast(sector_name as varchar) as sector,
        cast({{ pg_array_text('trading_names') }} as varchar) as trading_names,
        cast(uk_region__name as varchar) as uk_region,
        cast(vat_number as varchar) as vat_number,
        cast(website as varchar) as website,
        cast(archived_reason as text) as archived_reason,
        cast(address_area__name as varchar) as address_area,
        cast(registered_address_area__name as varchar) as registered_address_area,
        cast(export_segment as varchar) as export_segment,
        cast(export_sub_segment as varchar) as export_sub_segment,
        cast(strategy as text) as strategy,

        ---------- lists
        {{ to_text_array('one_list_core_team_advisers') }} as one_list_core_team_adviser_ids,

        ---------- numerics
        cast(number_of_employees as integer) as number_of_employees,
        cast(turnover as bigint) as turnover,
        cast(turnover_gbp as numeric) as turnover_gbp,

        ---------- booleans
        archived,
        is_number_of_employees_estimated,
        is_turnover_estimated,
        is_out_of_business,

        ---------- dates
        {{ to_date('created_on') }} as created_on,

        ---------- timestamps
        {{ to_utc_timestamp('archived_on') }} as archived_on,
        {{ to_utc_timestamp('modified_on') }} as modified_on

    from source

)

select * from renamed
