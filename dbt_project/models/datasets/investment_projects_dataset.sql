with

source as (

    select * from {{ rows_to_audit(source('datahub', 'investment_projects_dataset')) }}

),

renamed as (

    select

        ---------- ids
        {{ to_varchar('associated_non_fdi_r_and_d_project__id', 100) }} as associated_non_fdi_r_and_d_project_id,
        {{ to_varchar('id', 100) }} as dh_fdi_project_id,
        {{ to_varchar('investor_company__id', 100) }} as investor_company_id,
        cast(project_reference as text) as project_reference,
        {{ to_varchar('uk_company__id', 100) }} as uk_company_id,

        ---------- text
        cast(account_manager_name as text) as account_manager_name,
        cast(account_manager_team as text) as account_manager_team,
        cast(anonymous_description as text) as anonymous_description,
        {{ to_varchar('archived_by_name', 255) }} as archived_by_name,
        cast(archived_by__dit_team__name as text) as archived_by_team,
        cast(average_salary__name as text) as average_salary,
        {{ to_varchar('client_relationship_manager_name', 255) }} as client_relationship_manager_name,
        cast(client_relationship_manager__dit_team__name as text) as client_relationship_manager_team,
        cast(clint_requirements as text) as client_requirements,
        cast(country_lost_to__name as text) as country_lost_to,
        {{ to_varchar('created_by_name', 255) }} as created_by_name,
        cast(created_by__dit_team__name as text) as created_by_team,
        cast(description as text) as description,
        cast(fdi_type__name as text) as fdi_type,
        cast(fdi_value__name as text) as fdi_value,
        cast(investment_type__name as text) as investment_type,
        cast(investor_company__headquarter_type__name as text) as investor_company_headquarter_type,
        cast(investor_company__one_list_tier__name as text) as investor_company_company_tier,
        {{ to_varchar('investor_company_sector', 255) }} as investor_company_sector,
        cast(investor_company__uk_region__name as text) as investor_company_uk_region,
        cast(investor_type__name as text) as investor_type,
        cast(level_of_involvement_name as text) as level_of_involvement,
        cast(likelihood_to_land__name as text) as likelihood_to_land,
        {{ to_varchar('modified_by_name', 255) }} as modified_by_name,
        cast(modified_by__dit_team__name as text) as modified_by_team,
        {{ to_varchar('name', 255) }} as name,
        {{ to_varchar('project_assurance_adviser_name', 255) }} as project_assurance_adviser_name,
        cast(project_assurance_adviser__dit_team__name as text) as project_assurance_adviser_team,
        {{ to_varchar('project_manager_name', 255) }} as project_manager_name,
        cast(project_manager__dit_team__name as text) as project_manager_team,
        cast(referral_source_activity__name as text) as referral_source_activity,
        cast(referral_source_activity_marketing__name as text) as referral_source_activity_marketing,
        cast(referral_source_activity_website__name as text) as referral_source_activity_website,
        {{ to_varchar('sector_name', 255) }} as sector,
        cast(specific_programme__name as text) as specific_programme,
        cast(stage__name as text) as stage,
        {{ to_varchar('status', 255) }} as status,
        cast(uk_company__uk_region__name as text) as uk_company_uk_region,
        {{ to_varchar('uk_company_sector', 255) }} as uk_company_sector,

        ---------- numerics
        cast(foreign_equity_investment as numeric) as foreign_equity_investment,
        cast(gross_value_added as numeric) as gross_value_added,
        cast(gva_multiplier__multiplier as numeric) as gva_multiplier,
        cast(number_new_jobs as integer) as number_new_jobs,
        cast(number_safeguarded_jobs as integer) as number_safeguarded_jobs,
        cast(total_investment as numeric) as total_investment,

        ---------- booleans
        allow_blank_possible_uk_regions as possible_uk_regions,
        archived,
        export_revenue,
        government_assistance,
        new_tech_to_uk,
        non_fdi_r_and_d_budget,
        quotable_as_public_case_study,
        r_and_d_budget,
        some_new_jobs,
        uk_company_decided,

        ---------- lists
        {{ pg_array_text('actual_uk_region_names') }} as actual_uk_regions,
        {{ pg_array_text('business_activity_names') }} as business_activities,
        {{ pg_array_text('competing_countries') }} as competing_countries,
        {{ pg_array_text('delivery_partner_names') }} as delivery_partners,
        {{ pg_array_text('strategic_driver_names') }} as strategic_drivers,
        {{ pg_array_text('team_member_names') }} as team_members,

        ---------- dates
        {{ to_date('actual_land_date') }} as actual_land_date,
        {{ to_date('date_abandoned') }} as date_abandoned,
        {{ to_date('date_lost') }} as date_lost,
        {{ to_date('date_of_latest_interaction') }} as date_of_latest_interaction,
        {{ to_date('estimated_land_date') }} as estimated_land_date,
        {{ to_date('project_arrived_in_triage_on') }} as project_arrived_in_triage_on,
        {{ to_date('proposal_deadline') }} as proposal_deadline,

        ---------- timestamps
        {{ to_timestamptz('archived_on') }} as archived_on,
        {{ to_timestamptz('created_on') }} as created_on,
        {{ to_timestamptz('modified_on') }} as modified_on

    from source

)

select * from renamed
