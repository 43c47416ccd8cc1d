"""GET /api/schema/ and /api/docs/: the OpenAPI schema and Swagger UI from our own files."""

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db


def test_the_schema_documents_every_endpoint_and_the_error_shape(
    client_for: ClientFor, erin: User
) -> None:
    response = client_for(erin).get("/api/schema/", {"format": "json"})

    schema = response.json()
    assert response.status_code == 200
    assert "/api/v1/runs/" in schema["paths"]
    assert "/api/v1/runs/{id}/metric-history/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    runs = schema["paths"]["/api/v1/runs/"]["get"]
    assert {"400", "401", "403", "429"} <= set(runs["responses"])
    assert "order_by" in [p["name"] for p in runs["parameters"]]
    assert "Error" in schema["components"]["schemas"]


def test_the_docs_page_loads_swagger_ui_from_our_static_files(dana: User) -> None:
    client = APIClient()
    client.force_login(dana)

    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert page.status_code == 200
    assert "<script>" not in html, "inline scripts would break the CSP"
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in [a for a in assets if a.startswith("/static/")]:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_the_schema_refuses_anonymous_callers(anonymous: APIClient) -> None:
    assert anonymous.get("/api/schema/").status_code == 401
    assert anonymous.get("/api/docs/").status_code == 401


def test_the_schema_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    assert client_for(nobody).get("/api/schema/").status_code == 403


def test_the_schema_rejects_an_unknown_format(client_for: ClientFor, erin: User) -> None:
    response = client_for(erin).get("/api/schema/", {"format": "xml"})

    assert response.status_code == 404
