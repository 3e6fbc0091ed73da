"""Views: the period views of one ds, built over the published tables.

Each view model becomes `<view>_<last day of the period>` in the published schema, with
CREATE OR REPLACE VIEW (the `period_view` materialization): views are never dropped, so
every earlier period's view stays and reads the refreshed data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataflow.dbt_project import DbtProject


def build_views(project: DbtProject, views: list[str], held_back: Iterable[str] = ()) -> list[str]:
    """Create or replace `views` for the project's ds; the relation names built.

    `project` is the dbt project parsed for that ds (a view's name depends on it). A view
    that reads a table in `held_back` (a publish unit that was not published) is left
    out: it keeps reading the data it read before. Only then are the models' dependencies
    needed (a stage that has not parsed the project parses it)."""
    held = set(held_back)
    if held:
        models = project.models or project.parse()
        views = [view for view in views if not held & set(models[view].depends_on)]
    if not views:
        return []
    return project.publish_views(views)
