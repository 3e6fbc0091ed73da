{{ config(alias='investment_projects_' ~ period_suffix()) }}

with

projects as (

    select * from {{ ref('investment_projects_dataset') }}

)

-- every column of the dataset under its own name, by definition
select * from projects  -- noqa: AM04

where {{ in_utc_month('created_on') }}
