"""The runs table: sorting, filtering, columns and pages, all on the server."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import JSONField, Value
from django.test import Client
from pytest_django.fixtures import Settings

from governance.models import Experiment, Run
from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for


def url(experiment: Experiment) -> str:
    return f"/experiments/{experiment.pk}/runs/"


@pytest.fixture
def experiment(db: None) -> Experiment:
    exp = mirror_data.experiment("churn")
    mirror_data.run(
        exp, "low", {"accuracy": 0.7, "loss": 0.5}, {"optimizer": "sgd"}, user_id="dana"
    )
    mirror_data.run(exp, "high", {"accuracy": 0.95}, {"optimizer": "adam"}, user_id="derek")
    mirror_data.run(exp, "mid", {"accuracy": 0.85}, {"optimizer": "adam"}, user_id="dana")
    mirror_data.run(exp, "nan", {"accuracy": float("nan")}, {"optimizer": "lbfgs"}, status="FAILED")
    mirror_data.run(exp, "none", {}, {})
    return exp


def names(response: object) -> list[str]:
    return [row.run.name for row in response.context["rows"]]  # type: ignore[attr-defined]


def test_it_sorts_by_a_metric_with_missing_values_last(
    reader: Client, experiment: Experiment
) -> None:
    response = reader.get(url(experiment), {"sort": "-metrics.accuracy"})

    assert response.status_code == 200
    assert names(response)[:3] == ["high", "mid", "low"]
    assert set(names(response)[3:]) == {"nan", "none"}
    first = response.context["rows"][0]
    assert first.url == f"/runs/{first.run.pk}/"
    assert f'<a href="/runs/{first.run.pk}/">high</a>' in response.content.decode()


def test_it_sorts_by_a_metric_ascending(reader: Client, experiment: Experiment) -> None:
    response = reader.get(url(experiment), {"sort": "metrics.accuracy"})

    assert names(response)[:3] == ["low", "mid", "high"]


def test_it_sorts_by_a_param(reader: Client, experiment: Experiment) -> None:
    response = reader.get(url(experiment), {"sort": "params.optimizer"})

    assert [row.run.params.get("optimizer") for row in response.context["rows"]] == [
        "adam",
        "adam",
        "lbfgs",
        "sgd",
        None,
    ]


def test_it_filters_by_metric_comparison_and_param(reader: Client, experiment: Experiment) -> None:
    response = reader.get(
        url(experiment), {"filter": "metrics.accuracy > 0.8 and params.optimizer = 'adam'"}
    )

    assert sorted(names(response)) == ["high", "mid"]


def test_it_filters_by_status_and_user(reader: Client, experiment: Experiment) -> None:
    assert names(reader.get(url(experiment), {"status": "FAILED"})) == ["nan"]
    assert sorted(names(reader.get(url(experiment), {"user": "dana"}))) == ["low", "mid"]


def test_it_filters_by_tag(reader: Client, experiment: Experiment) -> None:
    mirror_data.run(experiment, "tagged", tags={"team": "risk"})

    response = reader.get(url(experiment), {"filter": 'tags.team = "risk"'})

    assert names(response) == ["tagged"]


def test_it_shows_chosen_columns_and_nan(reader: Client, experiment: Experiment) -> None:
    response = reader.get(
        url(experiment), {"col": ["metrics.accuracy"], "sort": "-metrics.accuracy"}
    )

    assert [c.token for c in response.context["columns"]] == ["metrics.accuracy"]
    texts = [row.cells[0].text for row in response.context["rows"]]
    assert texts[:3] == ["0.95", "0.85", "0.7"]
    assert "NaN" in texts


def test_it_offers_the_keys_of_recent_runs_as_columns(
    reader: Client, experiment: Experiment
) -> None:
    mirror_data.run(experiment, "seeded", {"f1": 0.5}, {"seed": "3", "layers": "2"})
    # A JSON null document (never written by the sync, but allowed by the column).
    odd = mirror_data.run(experiment, "odd")
    Run.objects.filter(pk=odd.pk).update(params=Value(None, JSONField()))

    response = reader.get(url(experiment))

    assert response.context["metric_keys"] == ["accuracy", "f1", "loss"]
    assert response.context["param_keys"] == ["layers", "optimizer", "seed"]


def test_it_offers_tag_columns_without_mlflow_system_tags(
    reader: Client, experiment: Experiment
) -> None:
    mirror_data.run(
        experiment,
        "tagged",
        {"accuracy": 0.5},
        tags={"team": "risk", "mlflow.user": "dana", "mlflow.source.git.commit": "abc"},
    )
    mirror_data.run(experiment, "other", tags={"reviewed": "yes", "team": "<b>fraud</b>"})

    offered = reader.get(url(experiment))
    chosen = reader.get(url(experiment), {"col": ["tags.team"], "sort": "tags.team"})

    assert offered.context["tag_keys"] == ["reviewed", "team"]
    assert 'name="col" value="tags.reviewed"' in offered.content.decode()
    assert [h.label for h in chosen.context["headers"]] == ["team (tag)"]
    assert [row.cells[0].text for row in chosen.context["rows"]][:2] == ["<b>fraud</b>", "risk"]
    assert "<td>&lt;b&gt;fraud&lt;/b&gt;</td>" in chosen.content.decode()
    assert 'value="tags.team" checked' in chosen.content.decode()


def test_it_escapes_run_names_users_and_cells(reader: Client, experiment: Experiment) -> None:
    sly = mirror_data.run(
        experiment, '<i>"sly"</i>', params={"optimizer": "<b>adam</b> & 'sgd'"}, user_id="a<b"
    )

    response = reader.get(url(experiment), {"col": ["params.optimizer"], "sort": "-start_time"})

    page = response.content.decode()
    assert "<td>&lt;b&gt;adam&lt;/b&gt; &amp; &#x27;sgd&#x27;</td>" in page
    assert f'<a href="/runs/{sly.pk}/">&lt;i&gt;&quot;sly&quot;&lt;/i&gt;</a>' in page
    assert 'aria-label="Select run &lt;i&gt;&quot;sly&quot;&lt;/i&gt; for comparison"' in page
    assert "<td>a&lt;b</td>" in page
    assert "<b>" not in page and "<i>" not in page


def test_it_shows_start_times_in_the_site_time_zone(
    reader: Client, experiment: Experiment, settings: Settings
) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    started = mirror_data.T0.replace(hour=21, minute=30)
    mirror_data.run(experiment, "late", start_time=started)

    response = reader.get(url(experiment), {"sort": "-start_time"})

    late = response.context["rows"][0]
    assert (late.run.name, late.started) == ("late", "2026-01-05 22:30")
    assert "<td>2026-01-05 22:30</td>" in response.content.decode()


def test_it_pages_without_counting(reader: Client, experiment: Experiment) -> None:
    first = reader.get(url(experiment), {"size": "2", "sort": "-metrics.accuracy"})
    second = reader.get(url(experiment), {"size": "2", "page": "2", "sort": "-metrics.accuracy"})

    assert names(first) == ["high", "mid"]
    assert first.context["has_next"] is True
    assert names(second)[0] == "low"


@pytest.mark.parametrize(
    ("sort", "pages"),
    [
        ("-metrics.accuracy", [["high", "mid"], ["low", "none"], ["nan"]]),
        ("metrics.accuracy", [["low", "mid"], ["high", "nan"], ["none"]]),
    ],
)
def test_it_pages_across_runs_without_a_value(
    reader: Client, experiment: Experiment, sort: str, pages: list[list[str]]
) -> None:
    for number, expected in enumerate(pages, start=1):
        response = reader.get(url(experiment), {"size": "2", "page": str(number), "sort": sort})

        assert names(response) == expected
        assert response.context["has_next"] is (number < len(pages))


def test_it_sorts_by_the_metric_it_filters_on(reader: Client, experiment: Experiment) -> None:
    response = reader.get(
        url(experiment), {"sort": "metrics.accuracy", "filter": "metrics.accuracy >= 0.7"}
    )

    assert names(response) == ["low", "mid", "high"]


def test_it_sorts_by_a_metric_within_filters(reader: Client, experiment: Experiment) -> None:
    response = reader.get(url(experiment), {"sort": "-metrics.accuracy", "user": "dana"})

    assert names(response) == ["mid", "low"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "password"}, "Unknown column"),
        ({"sort": "metrics."}, "Unknown column"),
        ({"filter": "metrics.accuracy > 'high'"}, "compared with a number"),
        ({"filter": "accuracy > 0.9"}, "Cannot read the filter"),
        ({"filter": "metrics.accuracy > 0.9; DROP TABLE governance_run"}, "Cannot read the filter"),
        ({"filter": "params.lr > 0.1"}, "is text"),
        ({"filter": "attributes.password = 'x'"}, "Unknown attribute"),
        ({"status": "EXPLODED"}, "Unknown status"),
        ({"page": "0"}, "between 1 and"),
        ({"page": "two"}, "whole number"),
    ],
)
def test_it_rejects_bad_input_with_400(
    reader: Client, experiment: Experiment, params: dict[str, str], message: str
) -> None:
    response = reader.get(url(experiment), params)

    assert response.status_code == 400
    assert message in response.context["error"]


def test_it_sends_anonymous_visitors_to_login(client: Client, experiment: Experiment) -> None:
    response = client.get(url(experiment))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_role(nobody: User, experiment: Experiment) -> None:
    assert client_for(nobody).get(url(experiment)).status_code == 403


def test_its_query_count_does_not_grow_with_the_page(
    reader: Client, experiment: Experiment, django_assert_max_num_queries: Any
) -> None:
    for number in range(40):
        mirror_data.run(experiment, f"extra-{number}", {"accuracy": number / 40}, {"seed": "1"})

    with django_assert_max_num_queries(12):
        response = reader.get(url(experiment), {"sort": "-metrics.accuracy"})

    assert len(response.context["rows"]) == 45
