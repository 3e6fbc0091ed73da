with

source as (

    select * from {{ rows_to_audit(source('datahub', 'data_hub__interactions')) }}

),

renamed as (

    select

        ---------- ids
        cast(company_id as uuid) as company_id,
        cast(company_export_id as uuid) as company_export_id,
        cast(created_by_id as uuid) as created_by_id,
        cast(event_id as uuid) as event_id,
        cast(id as uuid) as id,
        cast(investment_project_id as uuid) as investment_project_id,

        ---------- text
        cast(communication_channel__name as varchar) as communication_channel,
        cast(interaction_link as varchar) as interaction_link,
        cast(kind as varchar) as interaction_kind,
        cast(notes as text) as interaction_notes,
        cast(sector as varchar) as sector,
        cast(service_delivery_status__name as varchar) as service_delivery_status,
        cast(service_delivery as varchar) as service_delivery,
        cast(subject as text) as interaction_subject,
        cast(theme as varchar) as theme,
        cast(policy_feedback_notes as text) as policy_feedback_notes,

        ---------- numerics
        cast(grant_amount_offered as numeric) as grant_amount_offered,
        cast(net_company_receipt as numeric) as net_company_receipt,

        ---------- booleans
        were_countries_discussed,

        ---------- dates
        {{ to_date('date') }} as interaction_date,

        ---------- timestamps
        {{ to_utc_timestamp('created_on') }} as created_on,
        {{ to_utc_timestamp('modified_on') }} as modified_on,

        ---------- lists
        {{ to_text_array('adviser_ids') }} as adviser_ids,
        {{ to_text_array('contact_ids') }} as contact_ids,
        {{ to_text_array('policy_area_names') }} as policy_areas,
        {{ to_text_array('policy_issue_type_names') }} as policy_issue_types,
        {{ to_text_array('related_trade_agreement_names') }} as related_trade_agreements,
        {{ to_text_array('export_barrier_type_names') }} as export_barrier_types,

        ---------- text
        cast(export_barrier_notes as text) as export_barrier_notes

    from source

)

select * from renamed
