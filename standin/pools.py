"""Vocabulary the demo data is drawn from.

Values look like Data Hub's reference data (sector paths with " : ", country
names with commas, team names with dashes) because those shapes are what break
naive CSV/COPY/array handling downstream. The ``AWKWARD_*`` pools exist purely
to stress the extract and load path and are mixed into ordinary fields.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Alice", "Bob", "Charlotte", "Dev", "Eilidh", "Femi", "Gwen", "Hiroshi", "Ioana",
    "Jamal", "Kate", "Liam", "Mei", "Niamh", "Oluwaseun", "Priya", "Quentin", "Rhys",
    "Siobhán", "Tomasz", "Uma", "Victor", "Wei", "Xavier", "Yusuf", "Zoë", "José",
    "Łukasz", "Søren", "Anne-Marie",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Jones", "O'Connor", "Patel", "Nguyễn", "Müller", "Smith-Jones", "van der Berg",
    "MacDonald", "Okafor", "Kowalski", "Williams", "Chen", "Brown", "Dubois", "Evans",
    "García", "Hughes", "Ivanova", "Johansson", "Khan", "Lee", "Murphy", "D'Arcy", "Taylor",
)  # fmt: skip

COMPANY_WORDS = (
    "Acme", "Northern", "Thames", "Albion", "Pennine", "Quantum", "Highland", "Severn",
    "Brontë", "Zhang", "Meridian", "Clyde", "Oak & Ash", "Blue Sky", "Mersey", "Kestrel",
)  # fmt: skip

COMPANY_NOUNS = (
    "Widgets", "Engineering", "Foods", "Robotics", "Pharma", "Analytics", "Textiles",
    "Energy", "Logistics", "Aerospace", "Software", "Brewing", "Ceramics", "Biotech",
)  # fmt: skip

COMPANY_SUFFIXES = (
    "Ltd", "Limited", "PLC", "LLP", "GmbH", "S.A.", "Inc.", "K.K.", "& Sons Ltd", "(UK) Ltd",
)  # fmt: skip

STREETS = (
    "High Street", "Station Road", "Church Lane", "Victoria Street", "King's Road",
    "Riverside Park", "Queen Street", "Mill Lane", "Byres Road", "Rue de Rivoli",
)  # fmt: skip

ADDRESS_2 = (
    "Unit 4", "Suite 200, Second Floor", "Riverside Business Park", "c/o Reception",
    "Building 7, Level 3", "Flat 2/1", "The Old Mill",
)  # fmt: skip

#: (town, county, postcode, country) so an address hangs together.
PLACES = (
    ("London", "Greater London", "SW1A 2AA", "United Kingdom"),
    ("Leeds", "West Yorkshire", "LS1 4AP", "United Kingdom"),
    ("Manchester", "Greater Manchester", "M1 1AE", "United Kingdom"),
    ("Stoke-on-Trent", "Staffordshire", "ST1 5DD", "United Kingdom"),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE1 4ST", "United Kingdom"),
    ("Bury St Edmunds", "Suffolk", "IP33 1XQ", "United Kingdom"),
    ("Edinburgh", "City of Edinburgh", "EH1 1YZ", "United Kingdom"),
    ("Cardiff", "South Glamorgan", "CF10 1EP", "United Kingdom"),
    ("Belfast", "County Antrim", "BT1 5GS", "United Kingdom"),
    ("Derry~Londonderry", "County Londonderry", "BT48 6DQ", "United Kingdom"),
    ("Llanfairpwllgwyngyll", "Anglesey", "LL61 5UJ", "United Kingdom"),
    ("Paris", "Île-de-France", "75008", "France"),
    ("Berlin", None, "10115", "Germany"),
    ("Tokyo", "東京都", "100-0005", "Japan"),
    ("New York", "NY", "10001", "United States"),
)

UK_REGIONS = (
    "North West", "London", "South East", "Yorkshire and The Humber", "West Midlands",
    "East Midlands", "North East", "South West", "East of England", "Scotland", "Wales",
    "Northern Ireland", "All", "FDI Hub",
)  # fmt: skip

COUNTRIES = (
    "France", "Germany", "United States", "China", "Japan", "India", "Brazil", "Ireland",
    "Netherlands", "Côte d'Ivoire", "Korea, Republic of", "Bonaire, Sint Eustatius and Saba",
    "Congo (Democratic Republic)", "Hong Kong (SAR)", "United Arab Emirates", "Saudi Arabia",
)  # fmt: skip

SECTORS = (
    "Advanced Engineering",
    "Aerospace : Manufacturing and Assembly : Aircraft",
    "Agriculture, Horticulture and Fisheries",
    "Automotive : Automotive Maintenance",
    "Creative and Media : Media : Publishing",
    "Energy : Renewable Energy : Wind : Offshore",
    "Financial Services (including Professional Services) : Asset Management",
    "Food and Drink : Bakery Products",
    "ICT : Software",
    "Life Sciences : Biotechnology and Pharmaceuticals",
    "Retail",
    "Defence and Security",
)

TEAMS = (
    "Investment Services Team",
    "DIT Education",
    "Healthcare UK",
    "TiG - Yorkshire & the Humber",
    "Trade and Investment Team — Leeds",
    "IST - Sector Advisory Services",
    "UKTI Japan – Tokyo (Post)",
    "Dept for Int'l Trade (DIT)",
    "North West International Trade Team",
)

JOB_TITLES = (
    "Managing Director", "Head of International Sales", "CEO", "Export Manager",
    "Finance Director", "Operations Lead", "Directeur général", "R&D Manager", "Founder",
)  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.co.uk", "mail.example.org", "exporter.example")

OMIS_STATUSES = (
    ("draft", 12),
    ("quote_awaiting_acceptance", 10),
    ("quote_accepted", 10),
    ("paid", 13),
    ("complete", 40),
    ("cancelled", 15),
)

OMIS_SERVICES = (
    "Market Research", "Trade Missions", "Partner Identification", "Event Support",
    "Market Entry Strategy", "Bespoke Support", "Overseas Company Report",
)  # fmt: skip

CANCELLATION_REASONS = (
    "Client no longer requires the service",
    "Unable to find suitable supplier",
    "Order raised in error",
    "Client has not paid, no longer required",
    "Other",
)

STAGES = (("Prospect", 30), ("Assign PM", 15), ("Active", 25), ("Verify win", 10), ("Won", 20))

PROJECT_STATUSES = (("ongoing", 55), ("delayed", 12), ("dormant", 10), ("lost", 12), ("abandoned", 11))

INVESTMENT_TYPES = ("FDI", "Non-FDI", "Commitment to invest")

FDI_TYPES = (
    "Creation of new site or activity",
    "Expansion of existing site or activity",
    "Merger and acquisition",
    "Retention",
    "Joint venture",
    "Capital only",
)

FDI_VALUES = ("Higher", "Good", "Standard")
LIKELIHOODS = ("Low", "Medium", "High")
INVOLVEMENT = ("No Involvement", "HQ Only", "Post Only", "HQ and Post", "FDI Hub and Post")
AVERAGE_SALARIES = ("Below £25,000", "£25,000 – £29,999", "£30,000 or above")
SPECIFIC_PROGRAMMES = ("Space", "Advanced Engineering Supply Chain", "Innovation Gateway", "IIGB")
REFERRAL_SOURCES = ("Cold call", "Direct enquiry", "Event", "Marketing", "Website", "Personal reference")
REFERRAL_MARKETING = ("Social media", "Press release", "Print advert", "Email campaign")
REFERRAL_WEBSITE = ("Invest in GREAT Britain", "Department for International Trade", "Other")
INVESTOR_TYPES = ("New Investor", "Existing Investor")
HQ_TYPES = ("European HQ", "Global HQ", "UK HQ")
ONE_LIST_TIERS = ("Tier A - Strategic Account", "Tier B - Global Accounts", "Tier D - Overseas Post Accounts")

BUSINESS_ACTIVITIES = (
    "Manufacturing", "Research and development", "Sales", "Retail", "European headquarters",
    "Logistics", "Other",
)  # fmt: skip

DELIVERY_PARTNERS = (
    "Leeds City Region LEP", "Greater Manchester LEP", "Invest Northern Ireland",
    "Scottish Development International", "Business Wales", "London & Partners",
)  # fmt: skip

STRATEGIC_DRIVERS = (
    "Access to market", "Access to talent", "Government support", "R&D", "Cost",
    "Quality of life", "Access to supply chain",
)  # fmt: skip

PROJECT_WORDS = (
    "Aurora", "Falcon", "Gigafactory", "Data Centre", "Offshore Wind Farm", "Innovation Hub",
    "Battery Plant", "Regional HQ", "Distribution Centre", "Lab Expansion",
)  # fmt: skip

SENTENCES = (
    "Expansion of existing manufacturing site.",
    "Client is considering three locations in the North.",
    "Follow-up meeting arranged with the LEP; awaiting figures.",
    "Investor wants a site close to a deep-water port.",
    "Project on hold pending board approval (Q3).",
    "Confidential — do not share outside DIT.",
    "Jobs figures are estimates provided by the client, not verified.",
)

#: Awkward text that must survive extract → COPY/INSERT → SQL → report untouched.
AWKWARD_TEXT = (
    "O'Brien & Sons",
    'The "Best" Company',
    "C:\\Users\\exporter\\path\\",
    "line one\nline two",
    "carriage\r\nreturn",
    "tab\tseparated\tvalue",
    "Rocket 🚀 Exports 🇬🇧 Ltd",
    "日本貿易振興機構",
    "'); drop table omis_dataset; --",
    "",
    "  leading and trailing spaces  ",
    "NULL",
    "\\N",
    "comma, separated, text",
    "{braces}, [brackets] and (parens)",
    "Ünïcödé façade — naïve café",
    "mixed 'single' \"double\" \\ backslash\tand tab",
    "semi;colon|pipe",
    "percent %s %d {0} $1",
)

#: Awkward list elements for the JSON-array fields (Postgres array-literal traps).
AWKWARD_LIST_ITEMS = (
    "North West",
    "Korea, Republic of",
    'say "hello"',
    "back\\slash",
    "{braces}",
    "NULL",
    "",
    " padded ",
    "ünïcödé",
)
