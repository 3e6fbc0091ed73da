"""The fields each stand-in endpoint sends, in the view's order, with their wire types.

Copied (not read at runtime) from what Data Hub's dataset API sends today
(uktrade/data-hub-api at eac18b9c532591a1b3c83471bdf32ff071af8d17, 2025-05-28: each
``datahub/dataset/*/views.py`` ``.values(...)`` and its annotations), so the stand-in
stays self-contained: if the client's expectations drift from what the stand-in sends,
the extract tests notice, instead of both sides silently agreeing on a shared file.

A wire type is a base type (``uuid``, ``string`` for a CharField, ``text`` for a
TextField or a metadata ``*__name``, ``datetime``, ``date``, ``integer``, ``float`` for a
Decimal or FloatField, which DRF renders as a JSON float, ``boolean``, or
``array<uuid|string>``) and what an empty value looks like: ``|null`` (the field can be
null), ``|[null]`` (an ``ArrayAgg`` over no rows) or ``|[" "]`` (an ``ArrayAgg`` of
``first_name || ' ' || last_name`` over no rows); no suffix means never null. Blank text
is ``""``, not null; datetimes are ISO 8601 UTC with ``Z``.
"""

from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    """One field a record sends: its name and its wire type (see the module docstring)."""

    name: str
    wire: str

    @property
    def base(self) -> str:
        """The wire type without its empty form: ``uuid``, ``array<string>``, ..."""
        return self.wire.split("|", 1)[0]

    @property
    def empty(self) -> str | None:
        """What the field holds when empty: ``"null"``, ``"[null]"``, ``'[" "]'``; None if never empty."""
        parts = self.wire.split("|", 1)
        return parts[1] if len(parts) > 1 else None

    @property
    def nullable(self) -> bool:
        return self.empty == "null"


_WIRE: dict[str, tuple[tuple[str, str], ...]] = {
    "omis_dataset": (
        ("cancellation_reason__name", "text|null"),
        ("cancelled_on", "datetime|null"),
        ("company_id", "uuid"),
        ("completed_on", "datetime|null"),
        ("contact_id", "uuid"),
        ("created_by__dit_team_id", "uuid|null"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("delivery_date", "date|null"),
        ("id", "uuid"),
        ("invoice__subtotal_cost", "integer|null"),
        ("paid_on", "datetime|null"),
        ("primary_market__name", "text|null"),
        ("quote__accepted_on", "datetime|null"),
        ("quote__created_on", "datetime|null"),
        ("reference", "string"),
        ("refund_created", "datetime|null"),
        ("refund_total_amount", "integer|null"),
        ("sector_name", "string|null"),
        ("services", "text|null"),
        ("status", "string"),
        ("subtotal_cost", "integer"),
        ("total_cost", "integer"),
        ("uk_region__name", "text|null"),
        ("vat_cost", "integer"),
    ),
    "investment_projects_dataset": (
        ("actual_land_date", "date|null"),
        ("actual_uk_region_names", "array<string>|null"),
        ("address_1", "string|null"),
        ("address_2", "string|null"),
        ("address_town", "string|null"),
        ("address_postcode", "string|null"),
        ("anonymous_description", "text"),
        ("associated_non_fdi_r_and_d_project_id", "uuid|null"),
        ("average_salary__name", "text|null"),
        ("business_activity_names", "array<string>|null"),
        ("client_relationship_manager_id", "uuid|null"),
        ("client_requirements", "text|null"),
        ("client_contact_ids", "array<uuid>|[null]"),
        ("client_contact_names", 'array<string>|[" "]'),
        ("client_contact_emails", "array<string>|[null]"),
        ("competing_countries", "array<string>|[null]"),
        ("country_investment_originates_from_id", "uuid|null"),
        ("country_investment_originates_from__name", "text|null"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("delivery_partner_names", "array<string>|null"),
        ("description", "text"),
        ("estimated_land_date", "date|null"),
        ("export_revenue", "boolean|null"),
        ("fdi_type__name", "text|null"),
        ("fdi_value__name", "text|null"),
        ("foreign_equity_investment", "float|null"),
        ("government_assistance", "boolean|null"),
        ("gross_value_added", "float|null"),
        ("gva_multiplier__multiplier", "float|null"),
        ("id", "uuid"),
        ("investment_type__name", "text"),
        ("investor_company_id", "uuid|null"),
        ("investor_company_sector", "string|null"),
        ("investor_type__name", "text|null"),
        ("level_of_involvement_name", "string"),
        ("likelihood_to_land__name", "text|null"),
        ("modified_by_id", "uuid|null"),
        ("modified_on", "datetime|null"),
        ("name", "string"),
        ("new_tech_to_uk", "boolean|null"),
        ("non_fdi_r_and_d_budget", "boolean|null"),
        ("number_new_jobs", "integer|null"),
        ("number_safeguarded_jobs", "integer|null"),
        ("other_business_activity", "string|null"),
        ("project_arrived_in_triage_on", "date|null"),
        ("project_assurance_adviser_id", "uuid|null"),
        ("project_first_moved_to_won", "datetime|null"),
        ("project_manager_id", "uuid|null"),
        ("project_reference", "text|null"),
        ("proposal_deadline", "date|null"),
        ("r_and_d_budget", "boolean|null"),
        ("referral_source_activity__name", "text|null"),
        ("referral_source_activity_marketing__name", "text|null"),
        ("referral_source_activity_website__name", "text|null"),
        ("sector_name", "string|null"),
        ("specific_programme_names", "array<string>|null"),
        ("stage__name", "text"),
        ("status", "string"),
        ("strategic_driver_names", "array<string>|null"),
        ("team_member_ids", "array<uuid>|[null]"),
        ("total_investment", "float|null"),
        ("uk_company_id", "uuid|null"),
        ("uk_company_sector", "string|null"),
        ("uk_region_location_names", "array<string>|null"),
        ("eyb_lead_ids", "array<uuid>|null"),
    ),
    "contacts": (
        ("address_1", "string|null"),
        ("address_2", "string|null"),
        ("address_country__name", "text|null"),
        ("address_county", "string|null"),
        ("address_postcode", "string|null"),
        ("address_same_as_company", "boolean"),
        ("address_town", "string|null"),
        ("archived", "boolean"),
        ("archived_on", "datetime|null"),
        ("company_id", "uuid|null"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("email", "string"),
        ("first_name", "string"),
        ("id", "uuid"),
        ("job_title", "string|null"),
        ("last_name", "string"),
        ("modified_on", "datetime|null"),
        ("name", "string"),
        ("notes", "text|null"),
        ("primary", "boolean"),
        ("full_telephone_number", "string"),
        ("valid_email", "boolean|null"),
    ),
    "data_hub__companies": (
        ("address_1", "string"),
        ("address_2", "string"),
        ("address_county", "string"),
        ("address_country__name", "text|null"),
        ("address_postcode", "string"),
        ("address_area__name", "text|null"),
        ("address_town", "string"),
        ("archived", "boolean"),
        ("archived_on", "datetime|null"),
        ("archived_reason", "text|null"),
        ("business_type__name", "text|null"),
        ("company_number", "string|null"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("description", "text|null"),
        ("duns_number", "string|null"),
        ("export_experience_category__name", "text|null"),
        ("global_headquarters_id", "uuid|null"),
        ("global_ultimate_duns_number", "string"),
        ("headquarter_type__name", "text|null"),
        ("id", "uuid"),
        ("is_number_of_employees_estimated", "boolean|null"),
        ("is_turnover_estimated", "boolean|null"),
        ("modified_on", "datetime|null"),
        ("name", "string"),
        ("number_of_employees", "integer|null"),
        ("one_list_account_owner_id", "uuid|null"),
        ("one_list_tier__name", "text|null"),
        ("one_list_core_team_advisers", "array<uuid>|[null]"),
        ("reference_code", "string"),
        ("registered_address_1", "string"),
        ("registered_address_2", "string"),
        ("registered_address_country__name", "text|null"),
        ("registered_address_county", "string"),
        ("registered_address_postcode", "string"),
        ("registered_address_area__name", "text|null"),
        ("registered_address_town", "string"),
        ("sector_name", "string|null"),
        ("export_segment", "string"),
        ("export_sub_segment", "string"),
        ("trading_names", "array<string>"),
        ("turnover", "integer|null"),
        ("uk_region__name", "text|null"),
        ("vat_number", "string"),
        ("website", "string|null"),
        ("is_out_of_business", "boolean"),
        ("strategy", "text"),
        ("turnover_gbp", "float|null"),
    ),
    "data_hub__advisers": (
        ("id", "uuid"),
        ("date_joined", "datetime"),
        ("first_name", "string"),
        ("last_login", "datetime|null"),
        ("last_name", "string"),
        ("telephone_number", "string"),
        ("contact_email", "string"),
        ("dit_team_id", "uuid|null"),
        ("is_active", "boolean"),
        ("sso_email_user_id", "string|null"),
    ),
    "data_hub__teams": (
        ("country__name", "text|null"),
        ("disabled_on", "datetime|null"),
        ("id", "uuid"),
        ("name", "text"),
        ("role__name", "text|null"),
        ("uk_region__name", "text|null"),
    ),
    "data_hub__interactions": (
        ("adviser_ids", "array<uuid>|[null]"),
        ("communication_channel__name", "text|null"),
        ("company_id", "uuid|null"),
        ("contact_ids", "array<uuid>|[null]"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("date", "datetime"),
        ("event_id", "uuid|null"),
        ("grant_amount_offered", "float|null"),
        ("id", "uuid"),
        ("interaction_link", "string"),
        ("investment_project_id", "uuid|null"),
        ("company_export_id", "uuid|null"),
        ("kind", "string"),
        ("modified_on", "datetime|null"),
        ("net_company_receipt", "float|null"),
        ("notes", "text"),
        ("policy_area_names", "array<string>|null"),
        ("policy_feedback_notes", "text"),
        ("policy_issue_type_names", "array<string>|null"),
        ("related_trade_agreement_names", "array<string>|null"),
        ("sector", "string|null"),
        ("service_delivery_status__name", "text|null"),
        ("service_delivery", "string|null"),
        ("subject", "text"),
        ("theme", "string|null"),
        ("were_countries_discussed", "boolean|null"),
        ("export_barrier_type_names", "array<string>|null"),
        ("export_barrier_notes", "text"),
    ),
    "data_hub__interaction_export_countries": (
        ("country__name", "text"),
        ("country__iso_alpha2_code", "string"),
        ("created_on", "datetime|null"),
        ("id", "uuid"),
        ("interaction__company_id", "uuid|null"),
        ("interaction__id", "uuid"),
        ("status", "string"),
    ),
    "data_hub__company_export_countries": (
        ("id", "uuid"),
        ("company_id", "uuid"),
        ("country__name", "text"),
        ("country__iso_alpha2_code", "string"),
        ("created_on", "datetime|null"),
        ("modified_on", "datetime|null"),
        ("status", "string"),
    ),
    "data_hub__company_export_country_histories": (
        ("id", "uuid"),
        ("company_id", "uuid"),
        ("country__name", "text"),
        ("country__iso_alpha2_code", "string"),
        ("history_date", "datetime|null"),
        ("history_id", "uuid"),
        ("history_type", "string"),
        ("status", "string"),
    ),
    "data_hub__events": (
        ("address_1", "string"),
        ("address_2", "string"),
        ("address_country__name", "text"),
        ("address_county", "string"),
        ("address_postcode", "string"),
        ("address_town", "string"),
        ("created_by_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("disabled_on", "datetime|null"),
        ("end_date", "date|null"),
        ("event_type__name", "text"),
        ("id", "uuid"),
        ("lead_team_id", "uuid|null"),
        ("location_type__name", "text|null"),
        ("name", "string"),
        ("notes", "text"),
        ("organiser_id", "uuid|null"),
        ("service_name", "string|null"),
        ("start_date", "date|null"),
        ("team_ids", "array<uuid>|[null]"),
        ("uk_region__name", "text|null"),
        ("related_programme_names", "array<string>|null"),
    ),
    "data_hub__company_referrals": (
        ("company_id", "uuid"),
        ("completed_by_id", "uuid|null"),
        ("completed_on", "datetime|null"),
        ("contact_id", "uuid|null"),
        ("created_on", "datetime|null"),
        ("created_by_id", "uuid|null"),
        ("id", "uuid"),
        ("interaction_id", "uuid|null"),
        ("notes", "text"),
        ("recipient_id", "uuid"),
        ("status", "string"),
        ("subject", "string"),
    ),}

#: Every field of every dataset, in the view's order (the key of each JSON record).
FIELDS: dict[str, tuple[Field, ...]] = {
    dataset: tuple(Field(name, wire) for name, wire in fields) for dataset, fields in _WIRE.items()
}

#: Each dataset's key, the field that names a record (``history_id`` for the export-country history,
#: whose ``id`` is the export country the history row is about).
KEYS: dict[str, str] = {name: "id" for name in FIELDS} | {"data_hub__company_export_country_histories": "history_id"}


def field_names(dataset: str) -> tuple[str, ...]:
    """The keys a record of ``dataset`` has, in the view's order."""
    return tuple(f.name for f in FIELDS[dataset])
