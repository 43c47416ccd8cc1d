"""Which model versions were trained on a dataset, as a page and as CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import Client

from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/reports/dataset-models/"


@pytest.fixture
def lineage(db: None) -> None:
    exp = mirror_data.experiment()
    trained = mirror_data.run(exp, "trained")
    mirror_data.dataset(trained, '=HYPERLINK("http://evil")', "d1g3st")
    other = mirror_data.run(exp, "other")
    mirror_data.dataset(other, "unrelated", "0ther")
    model = mirror_data.registered_model("-credit", aliases={"champion": 2})
    mirror_data.version(model, 2, trained, stage="Production")
    mirror_data.version(model, 3, other)


def csv_rows(response: StreamingHttpResponse) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


def test_it_finds_versions_by_digest(reader: Client, lineage: None) -> None:
    response = reader.get(URL, {"dataset": "d1g3st"})

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row.version.version, aliases) for row, aliases in rows] == [(2, "@champion")]


def test_it_finds_versions_by_name(reader: Client, lineage: None) -> None:
    response = reader.get(URL, {"dataset": "unrelated"})

    assert [row.version.version for row, _ in response.context["rows"]] == [3]


def test_it_downloads_csv_with_formulas_neutralised(reader: Client, lineage: None) -> None:
    response = reader.get(URL, {"dataset": "d1g3st", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, row = csv_rows(response)  # type: ignore[arg-type]
    assert header[0] == "model"
    assert row[0] == "'-credit"
    assert row[7] == '\'=HYPERLINK("http://evil")'
    assert row[1:5] == ["2", "Production", "'@champion", "medium"]


def test_it_shows_the_form_without_a_term(reader: Client) -> None:
    response = reader.get(URL)

    assert response.status_code == 200
    assert "rows" not in response.context


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dataset": "x" * 501}, "at most 500 characters"),
        ({"dataset": "x", "format": "xls"}, "HTML or CSV"),
    ],
)
def test_it_rejects_bad_input(reader: Client, params: dict[str, str], message: str) -> None:
    response = reader.get(URL, params)

    assert response.status_code == 400
    assert message in response.context["error"]


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    assert client.get(URL, {"dataset": "x"}).status_code == 302


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    assert client_for(nobody).get(URL, {"dataset": "x", "format": "csv"}).status_code == 403
