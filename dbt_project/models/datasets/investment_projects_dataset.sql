with

source as (

    select {{ declared_columns('datahub', 'investment_projects_dataset') }}
    from {{ source('datahub', 'investment_projects_dataset') }}

),

advisers as (

    -- Every adviser's full name and team: Data Hub's view sends the advisers' ids, not the
    -- names and teams the 2019 table holds.
    select
        advisers.id as adviser__id,
        {{ full_name('advisers.first_name', 'advisers.last_name') }} as adviser__name,
        advisers.first_name as adviser__first_name,
        advisers.last_name as adviser__last_name,
        teams.name as adviser__team
    from {{ ref('data_hub__advisers') }} as advisers
    left join {{ ref('data_hub__teams') }} as teams on advisers.team_id = teams.id

),

companies as (

    select
        id as company__id,
        headquarter_type as company__headquarter_type,
        one_list_tier as company__one_list_tier,
        uk_region as company__uk_region,
        one_list_account_owner_id as company__one_list_account_owner_id
    from {{ ref('data_hub__companies') }}

),

latest_interactions as (

    select
        investment_project_id as interaction__investment_project_id,
        max(interaction_date) as interaction__latest_date
    from {{ ref('data_hub__interactions') }}
    where investment_project_id is not null
    group by investment_project_id

),

team_member_ids as (

    -- One row per id in each project's team_member_ids (`[null]` when it has none). Read
    -- from the raw table itself: a second reference to `source` would make PostgreSQL
    -- materialize every column of it.
    select
        projects.id as member__project_id,
        jsonb_array_elements_text(
            case jsonb_typeof(projects.team_member_ids) when 'array' then projects.team_member_ids else '[]' end
        ) as member__adviser_id
    from {{ source('datahub', 'investment_projects_dataset') }} as projects

),

team_members as (

    -- The names of the advisers in each project's team, ', '-joined in name order (byte
    -- order, so every database sorts them alike); ids that name no adviser are skipped.
    select
        team_member_ids.member__project_id as team__project_id,
        string_agg(
            advisers.adviser__name, ', '
            order by
                convert_to(advisers.adviser__first_name, 'UTF8'),
                convert_to(advisers.adviser__last_name, 'UTF8')
        ) as team__members
    from team_member_ids
    inner join advisers on cast(team_member_ids.member__adviser_id as uuid) = advisers.adviser__id
    group by team_member_ids.member__project_id

),

joined as (

    select
        source.*,
        account_manager.adviser__name as account_manager__name,
        account_manager.adviser__team as account_manager__team,
        client_relationship_manager.adviser__name as client_relationship_manager__name,
        client_relationship_manager.adviser__team as client_relationship_manager__team,
        created_by.adviser__name as created_by__name,
        created_by.adviser__team as created_by__team,
        modified_by.adviser__name as modified_by__name,
        modified_by.adviser__team as modified_by__team,
        project_assurance_adviser.adviser__name as project_assurance_adviser__name,
        project_assurance_adviser.adviser__team as project_assurance_adviser__team,
        project_manager.adviser__name as project_manager__name,
        project_manager.adviser__team as project_manager__team,
        investor_company.company__headquarter_type as investor_company__headquarter_type,
        investor_company.company__one_list_tier as investor_company__one_list_tier,
        investor_company.company__uk_region as investor_company__uk_region,
        uk_company.company__uk_region as uk_company__uk_region,
        team_members.team__members,
        latest_interactions.interaction__latest_date
    from source
    left join companies as investor_company
        on cast(source.investor_company_id as uuid) = investor_company.company__id
    left join companies as uk_company
        on cast(source.uk_company_id as uuid) = uk_company.company__id
    left join advisers as account_manager
        on investor_company.company__one_list_account_owner_id = account_manager.adviser__id
    left join advisers as client_relationship_manager
        on cast(source.client_relationship_manager_id as uuid) = client_relationship_manager.adviser__id
    left join advisers as created_by
        on cast(source.created_by_id as uuid) = created_by.adviser__id
    left join advisers as modified_by
        on cast(source.modified_by_id as uuid) = modified_by.adviser__id
    left join advisers as project_assurance_adviser
        on cast(source.project_assurance_adviser_id as uuid) = project_assurance_adviser.adviser__id
    left join advisers as project_manager
        on cast(source.project_manager_id as uuid) = project_manager.adviser__id
    left join team_members on source.id = team_members.team__project_id
    left join latest_interactions
        on cast(source.id as uuid) = latest_interactions.interaction__investment_project_id

),

renamed as (

    select

        ---------- ids
        {{ to_varchar('associated_non_fdi_r_and_d_project_id', 100) }} as associated_non_fdi_r_and_d_project_id,
        {{ to_varchar('id', 100) }} as dh_fdi_project_id,
        {{ to_varchar('investor_company_id', 100) }} as investor_company_id,
        cast(project_reference as text) as project_reference,
        {{ to_varchar('uk_company_id', 100) }} as uk_company_id,

        ---------- advisers, by their ids: full name and team
        cast(account_manager__name as text) as account_manager_name,
        cast(account_manager__team as text) as account_manager_team,
        {{ to_varchar('client_relationship_manager__name', 255) }} as client_relationship_manager_name,
        cast(client_relationship_manager__team as text) as client_relationship_manager_team,
        {{ to_varchar('created_by__name', 255) }} as created_by_name,
        cast(created_by__team as text) as created_by_team,
        {{ to_varchar('modified_by__name', 255) }} as modified_by_name,
        cast(modified_by__team as text) as modified_by_team,
        {{ to_varchar('project_assurance_adviser__name', 255) }} as project_assurance_adviser_name,
        cast(project_assurance_adviser__team as text) as project_assurance_adviser_team,
        {{ to_varchar('project_manager__name', 255) }} as project_manager_name,
        cast(project_manager__team as text) as project_manager_team,
        cast(team__members as text) as team_members,

        ---------- the investor and UK companies, by their ids
        cast(investor_company__headquarter_type as text) as investor_company_headquarter_type,
        cast(investor_company__one_list_tier as text) as investor_company_company_tier,
        cast(investor_company__uk_region as text) as investor_company_uk_region,
        cast(uk_company__uk_region as text) as uk_company_uk_region,

        ---------- text
        cast(anonymous_description as text) as anonymous_description,
        cast(average_salary__name as text) as average_salary,
        cast(client_requirements as text) as client_requirements,
        cast(description as text) as description,
        cast(fdi_type__name as text) as fdi_type,
        cast(fdi_value__name as text) as fdi_value,
        cast(investment_type__name as text) as investment_type,
        {{ to_varchar('investor_company_sector', 255) }} as investor_company_sector,
        cast(investor_type__name as text) as investor_type,
        cast(level_of_involvement_name as text) as level_of_involvement,
        cast(likelihood_to_land__name as text) as likelihood_to_land,
        {{ to_varchar('name', 255) }} as name,
        cast(referral_source_activity__name as text) as referral_source_activity,
        cast(referral_source_activity_marketing__name as text) as referral_source_activity_marketing,
        cast(referral_source_activity_website__name as text) as referral_source_activity_website,
        {{ to_varchar('sector_name', 255) }} as sector,
        cast(stage__name as text) as stage,
        {{ to_varchar('status', 255) }} as status,
        {{ to_varchar('uk_company_sector', 255) }} as uk_company_sector,

        ---------- numerics
        cast(foreign_equity_investment as numeric) as foreign_equity_investment,
        cast(gross_value_added as numeric) as gross_value_added,
        cast(gva_multiplier__multiplier as numeric) as gva_multiplier,
        cast(number_new_jobs as integer) as number_new_jobs,
        cast(number_safeguarded_jobs as integer) as number_safeguarded_jobs,
        cast(total_investment as numeric) as total_investment,

        ---------- booleans
        export_revenue,
        government_assistance,
        new_tech_to_uk,
        non_fdi_r_and_d_budget,
        r_and_d_budget,

        ---------- lists
        {{ joined_list('actual_uk_region_names') }} as actual_uk_regions,
        {{ joined_list('business_activity_names') }} as business_activities,
        {{ pg_array_text('competing_countries') }} as competing_countries,
        {{ joined_list('delivery_partner_names') }} as delivery_partners,
        {{ joined_list('specific_programme_names') }} as specific_programme,
        {{ joined_list('strategic_driver_names') }} as strategic_drivers,

        ---------- dates
        {{ to_date('actual_land_date') }} as actual_land_date,
        interaction__latest_date as date_of_latest_interaction,
        {{ to_date('estimated_land_date') }} as estimated_land_date,
        {{ to_date('project_arrived_in_triage_on') }} as project_arrived_in_triage_on,
        {{ to_date('proposal_deadline') }} as proposal_deadline,

        ---------- timestamps
        {{ to_timestamptz('created_on') }} as created_on,
        {{ to_timestamptz('modified_on') }} as modified_on,

        ---------- retired: Data Hub no longer sends these (see the model's description)
        cast(null as boolean) as possible_uk_regions,
        cast(null as boolean) as archived,
        cast(null as timestamp with time zone) as archived_on,
        cast(null as varchar(255)) as archived_by_name,
        cast(null as text) as archived_by_team,
        cast(null as text) as country_lost_to,
        cast(null as date) as date_abandoned,
        cast(null as date) as date_lost,
        cast(null as boolean) as quotable_as_public_case_study,
        cast(null as boolean) as some_new_jobs,
        cast(null as boolean) as uk_company_decided

    from joined

)

select * from renamed
