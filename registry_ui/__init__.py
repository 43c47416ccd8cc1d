"""The reviewer pages: Django templates over the mirror, the workflow and the ledger.

How a page is put together:

* A view function in ``registry_ui/views/<family>.py`` decorated with
  ``access.role_required(...)`` (login, then 403 without one of the roles; the roles
  come from ``governance.permissions``). It loads what the page shows into lists and
  small dataclasses: templates run no queries.
* A template ``templates/registry_ui/<view name>.html`` extending ``base.html``
  (blocks ``title``, ``breadcrumbs``, ``content``, ``scripts``); fragments live in
  ``templates/registry_ui/includes/``. Autoescaping stays on; links built from MLflow
  strings go through the ``safe_url`` filter (http and https only).
* A menu entry, if the page is a section of its own, in ``navigation.ITEMS``.
* Charts: a function in ``charts.py`` returns a Plotly figure dict with labels passed
  through ``charts.plain_text``; the template places it with
  ``{% chart figure "element-id" "description" %}`` and includes
  ``registry_ui/includes/chart_scripts.html`` in its ``scripts`` block. The data
  travels as a ``json_script`` block and ``static/registry_ui/charts.js`` draws it,
  so the Content-Security-Policy needs no inline script.
* CSV downloads go through ``csv_export.csv_response``, which neutralises cells a
  spreadsheet would run as formulas.
* Tests: ``tests/registry_ui/test_<view name>.py`` covering the happy path, an
  anonymous visitor, a user without the role and bad input.
"""
