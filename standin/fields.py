"""The source fields each stand-in dataset emits.

Copied (not read at runtime) from the project's field mappings so the stand-in
stays self-contained: if the mappings drift from what the stand-in sends, the
extract tests notice, instead of both sides silently agreeing on a shared file.
Names are Data Hub's *source* names (flat keys with double underscores).
"""

from __future__ import annotations

from typing import NamedTuple

STR = "str"
INT = "int"
BOOL = "bool"
DECIMAL = "decimal"
DATE = "date"
TIMESTAMP = "timestamp"
#: Data Hub sends these as JSON arrays of strings; the warehouse column is text.
LIST = "list"


class Field(NamedTuple):
    """One source field: its name, the kind of JSON value, and a length cap.

    ``max_length`` mirrors the target ``character varying(n)``; ``None`` means
    the target is ``text`` (or not a string at all).
    """

    name: str
    kind: str
    max_length: int | None
    not_null: bool = False


OMIS_FIELDS: tuple[Field, ...] = (
    Field("reference", STR, 100),
    Field("company__name", STR, 255),
    Field("status", STR, 100),
    Field("contact__first_name", STR, 255),
    Field("contact__last_name", STR, 255),
    Field("contact__email", STR, 255),
    Field("contact__telephone_number", STR, 255),
    Field("invoice__subtotal_cost", INT, None),
    Field("subtotal_cost", INT, None),
    Field("sector_name", STR, 255),
    Field("primary_market__name", STR, None),
    Field("created_by__dit_team__name", STR, None),
    Field("uk_region__name", STR, None),
    Field("created_on", TIMESTAMP, None),
    Field("cancelled_on", TIMESTAMP, None),
    Field("cancellation_reason__name", STR, None),
    Field("completed_on", TIMESTAMP, None),
    Field("delivery_date", DATE, None),
    Field("paid_on", TIMESTAMP, None),
    Field("company__address_1", STR, 255),
    Field("company__address_2", STR, 255),
    Field("company__address_town", STR, 255),
    Field("company__address_county", STR, 255),
    Field("company__address_country__name", STR, 255),
    Field("company__address_postcode", STR, 255),
    Field("company__registered_address_1", STR, 255),
    Field("company__registered_address_2", STR, 255),
    Field("company__registered_address_town", STR, 255),
    Field("company__registered_address_county", STR, 255),
    Field("company__registered_address_country__name", STR, 255),
    Field("company__registered_address_postcode", STR, 255),
    Field("services", STR, None),
)

INVESTMENT_PROJECT_FIELDS: tuple[Field, ...] = (
    Field("account_manager_name", STR, None),
    Field("account_manager_team", STR, None),
    Field("actual_land_date", DATE, None),
    Field("actual_uk_region_names", LIST, None),
    Field("allow_blank_possible_uk_regions", BOOL, None),
    Field("anonymous_description", STR, None),
    Field("archived", BOOL, None),
    Field("archived_by_name", STR, 255),
    Field("archived_by__dit_team__name", STR, None),
    Field("archived_on", TIMESTAMP, None),
    Field("associated_non_fdi_r_and_d_project__id", STR, 100),
    Field("average_salary__name", STR, None),
    Field("business_activity_names", LIST, None),
    Field("client_relationship_manager_name", STR, 255),
    Field("client_relationship_manager__dit_team__name", STR, None),
    Field("clint_requirements", STR, None),
    Field("competing_countries", LIST, None),
    Field("country_lost_to__name", STR, None),
    Field("created_by_name", STR, 255),
    Field("created_by__dit_team__name", STR, None),
    Field("created_on", TIMESTAMP, None),
    Field("date_abandoned", DATE, None),
    Field("date_lost", DATE, None),
    Field("date_of_latest_interaction", DATE, None),
    Field("delivery_partner_names", LIST, None),
    Field("description", STR, None),
    Field("estimated_land_date", DATE, None),
    Field("export_revenue", BOOL, None),
    Field("fdi_type__name", STR, None),
    Field("fdi_value__name", STR, None),
    Field("foreign_equity_investment", DECIMAL, None),
    Field("government_assistance", BOOL, None),
    Field("gross_value_added", DECIMAL, None),
    Field("gva_multiplier__multiplier", DECIMAL, None),
    Field("id", STR, 100),
    Field("investment_type__name", STR, None),
    Field("investor_company__headquarter_type__name", STR, None),
    Field("investor_company__id", STR, 100),
    Field("investor_company__one_list_tier__name", STR, None),
    Field("investor_company_sector", STR, 255),
    Field("investor_company__uk_region__name", STR, None),
    Field("investor_type__name", STR, None),
    Field("level_of_involvement_name", STR, None),
    Field("likelihood_to_land__name", STR, None),
    Field("modified_by_name", STR, 255),
    Field("modified_by__dit_team__name", STR, None),
    Field("modified_on", TIMESTAMP, None),
    Field("name", STR, 255, not_null=True),
    Field("new_tech_to_uk", BOOL, None),
    Field("non_fdi_r_and_d_budget", BOOL, None),
    Field("number_new_jobs", INT, None),
    Field("number_safeguarded_jobs", INT, None),
    Field("project_arrived_in_triage_on", DATE, None),
    Field("project_assurance_adviser_name", STR, 255),
    Field("project_assurance_adviser__dit_team__name", STR, None),
    Field("project_manager_name", STR, 255),
    Field("project_manager__dit_team__name", STR, None),
    Field("project_reference", STR, None),
    Field("proposal_deadline", DATE, None),
    Field("quotable_as_public_case_study", BOOL, None),
    Field("r_and_d_budget", BOOL, None),
    Field("referral_source_activity__name", STR, None),
    Field("referral_source_activity_marketing__name", STR, None),
    Field("referral_source_activity_website__name", STR, None),
    Field("sector_name", STR, 255),
    Field("some_new_jobs", BOOL, None),
    Field("specific_programme__name", STR, None),
    Field("stage__name", STR, None, not_null=True),
    Field("status", STR, 255),
    Field("strategic_driver_names", LIST, None),
    Field("team_member_names", LIST, None),
    Field("total_investment", DECIMAL, None),
    Field("uk_company__id", STR, 100),
    Field("uk_company__uk_region__name", STR, None),
    Field("uk_company_decided", BOOL, None),
    Field("uk_company_sector", STR, 255),
)

CONTACT_FIELDS: tuple[Field, ...] = (
    Field("accepts_dit_email_marketing", BOOL, None),
    Field("address_country__name", STR, None),
    Field("company__company_number", STR, 255),
    Field("company__name", STR, 255),
    Field("company__uk_region__name", STR, None),
    Field("company_sector", STR, None),
    Field("created_on", TIMESTAMP, None),  # a timestamp; the target column is a date
    Field("email", STR, 255),
    Field("email_alternative", STR, 255),
    Field("job_title", STR, 255),
    Field("name", STR, None),
    Field("notes", STR, None),
    Field("telephone_alternative", STR, 255),
    Field("telephone_number", STR, 255),
)
#: Fields per dataset, in the mapping's order.
FIELDS: dict[str, tuple[Field, ...]] = {
    "omis_dataset": OMIS_FIELDS,
    "investment_projects_dataset": INVESTMENT_PROJECT_FIELDS,
    "contacts": CONTACT_FIELDS,
}

#: Fields Data Hub sends that the mapping ignores; the client must cope with them.
UNMAPPED_EXTRA_FIELDS: dict[str, tuple[Field, ...]] = {
    "omis_dataset": (Field("id", STR, 100),),
    "investment_projects_dataset": (),
    "contacts": (Field("id", STR, 100),),
}
