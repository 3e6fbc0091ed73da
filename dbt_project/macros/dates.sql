{#-
    Period arithmetic for the report views, done at compile time from the run's ds
    (Airflow's logical date: the first day of the period a run reports on). Keeping it
    here, and nowhere in the view SQL, means every view agrees on what a period is.
    Every macro returns an ISO date string (YYYY-MM-DD).
-#}

{% macro ds_date(ds=none) -%}
    {#-
        The run's ds as a date; `--vars '{ds: 2019-08-01}'` arrives as a date, hence |string.
        Without the var (dbt run by hand), the latest completed month, as the job's default.
    -#}
    {%- set raw = (var('ds') if ds is none else ds) -%}
    {%- if raw is none -%}
        {%- set today = modules.datetime.datetime.now(modules.pytz.utc).date() -%}
        {{ return((today.replace(day=1) - modules.datetime.timedelta(days=1)).replace(day=1)) }}
    {%- endif -%}
    {%- set text = raw | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("ds must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {%- set parts = text.split('-') -%}
    {{ return(modules.datetime.date(parts[0] | int, parts[1] | int, parts[2] | int)) }}
{%- endmacro %}


{% macro month_start(ds=none) -%}
    {{ return(ds_date(ds).replace(day=1).isoformat()) }}
{%- endmacro %}


{% macro next_month_start(ds=none) -%}
    {%- set first = ds_date(ds).replace(day=1) -%}
    {#- 32 days after the 1st always lands in the next month. -#}
    {{ return((first + modules.datetime.timedelta(days=32)).replace(day=1).isoformat()) }}
{%- endmacro %}


{% macro month_end(ds=none) -%}
    {%- set next_first = modules.datetime.date.fromisoformat(next_month_start(ds)) -%}
    {{ return((next_first - modules.datetime.timedelta(days=1)).isoformat()) }}
{%- endmacro %}


{% macro period_suffix(ds=none) -%}
    {#- The view-name suffix: the period's last day, e.g. 2019_08_31 (the day before the
        var next_ds when the run's schedule gives one, else the end of ds's month). -#}
    {%- if ds is none and var('next_ds', none) is not none -%}
        {%- set last = modules.datetime.date.fromisoformat(var('next_ds') | string)
            - modules.datetime.timedelta(days=1) -%}
        {{ return(last.isoformat() | replace('-', '_')) }}
    {%- endif -%}
    {{ return(month_end(ds) | replace('-', '_')) }}
{%- endmacro %}


{% macro financial_year_start(ds=none, first_month_day=none) -%}
    {#-
        Start of the financial year that ds falls in. The year starts on
        FINANCIAL_YEAR_FIRST_MONTH_DAY (MM-DD, default 04-01); as in the old system, a ds
        on or before that day of its year belongs to the year that began the year before.
    -#}
    {%- set month_day = first_month_day or env_var('FINANCIAL_YEAR_FIRST_MONTH_DAY', '04-01') -%}
    {%- if not modules.re.fullmatch('[0-9]{2}-[0-9]{2}', month_day) -%}
        {{ exceptions.raise_compiler_error("FINANCIAL_YEAR_FIRST_MONTH_DAY must be MM-DD, got '" ~ month_day ~ "'") }}
    {%- endif -%}
    {%- set day = ds_date(ds) -%}
    {%- set parts = month_day.split('-') -%}
    {%- set start = modules.datetime.date(day.year, parts[0] | int, parts[1] | int) -%}
    {%- if day <= start -%}
        {%- set start = start.replace(year=day.year - 1) -%}
    {%- endif -%}
    {{ return(start.isoformat()) }}
{%- endmacro %}


{% macro utc_timestamp(iso_date) -%}
    {#- Midnight UTC of a date, as a literal that does not depend on the session's TimeZone. -#}
    cast('{{ iso_date }} 00:00:00+00' as timestamp with time zone)
{%- endmacro %}


{% macro in_utc_month(column, ds=none) -%}
    {#- True when a timestamptz falls in ds's month, the month taken in UTC. -#}
    ({{ column }} >= {{ utc_timestamp(month_start(ds)) }} and {{ column }} < {{ utc_timestamp(next_month_start(ds)) }})
{%- endmacro %}


{% macro next_ds() -%}
    {#- The first day after the run's period: the var next_ds (from the view's schedule),
        else the first day of the next month. -#}
    {%- set value = var('next_ds', none) -%}
    {{ return((value | string) if value is not none else next_month_start()) }}
{%- endmacro %}


{% macro in_utc_period(column) -%}
    {#- True when a timestamptz falls in the run's scheduled period [ds, next_ds), in UTC. -#}
    ({{ column }} >= {{ utc_timestamp(ds_date().isoformat()) }} and {{ column }} < {{ utc_timestamp(next_ds()) }})
{%- endmacro %}
