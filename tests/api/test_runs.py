"""GET /api/v1/runs/: filters, ordering by any metric or param, and the run detail."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from governance.models import Experiment
from tests.api import data
from tests.api.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = "/api/v1/runs/"


def _ids(response_json: dict[str, object]) -> list[str]:
    results = response_json["results"]
    assert isinstance(results, list)
    return [row["name"] for row in results]


@pytest.fixture
def runs() -> None:
    churn = data.experiment("churn")
    fraud = data.experiment("fraud")
    data.run(
        churn,
        name="a",
        metrics={"accuracy": 0.91},
        params={"lr": "0.1"},
        tags={"team": "risk"},
        user_id="dana",
        datasets=[("train", "d1gest", "training")],
        minutes=1,
    )
    data.run(
        churn,
        name="b",
        metrics={"accuracy": 0.75},
        params={"lr": "0.3"},
        tags={"team": "growth"},
        user_id="derek",
        status="FAILED",
        minutes=2,
    )
    data.run(fraud, name="c", metrics={"accuracy": float("nan")}, params={"lr": "0.2"}, minutes=3)
    data.run(fraud, name="d", minutes=4)


def test_it_lists_runs_newest_first(client_for: ClientFor, erin: User, runs: None) -> None:
    response = client_for(erin).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 4
    assert _ids(response.json()) == ["d", "c", "b", "a"]


def test_it_filters_by_experiment_status_user_tag_and_digest(
    client_for: ClientFor, dana: User, runs: None
) -> None:
    client = client_for(dana)
    churn = Experiment.objects.get(name="churn")

    assert _ids(client.get(URL, {"experiment": churn.pk}).json()) == ["b", "a"]
    assert _ids(client.get(URL, {"experiment_id": churn.experiment_id}).json()) == ["b", "a"]
    assert _ids(client.get(URL, {"status": "FAILED"}).json()) == ["b"]
    assert _ids(client.get(URL, {"user": "dana"}).json()) == ["a"]
    assert _ids(client.get(URL, {"tag": "team=growth"}).json()) == ["b"]
    assert _ids(client.get(URL, {"tag": "team"}).json()) == ["b", "a"]
    assert _ids(client.get(URL, {"dataset_digest": "d1gest"}).json()) == ["a"]


def test_it_orders_by_a_metric_with_missing_and_nan_values_last(
    client_for: ClientFor, dana: User, runs: None
) -> None:
    client = client_for(dana)

    ascending = client.get(URL, {"order_by": "metrics.accuracy"})
    descending = client.get(URL, {"order_by": "-metrics.accuracy"})

    assert _ids(ascending.json()) == ["b", "a", "d", "c"]
    assert _ids(descending.json()) == ["a", "b", "d", "c"]


def test_it_orders_by_a_param_as_text(client_for: ClientFor, dana: User, runs: None) -> None:
    response = client_for(dana).get(URL, {"order_by": "-params.lr,name"})

    assert _ids(response.json()) == ["b", "c", "a", "d"]


def test_it_returns_metrics_spelling_nan_as_a_string(
    client_for: ClientFor, dana: User, runs: None
) -> None:
    response = client_for(dana).get(URL, {"order_by": "name"})

    metrics = [row["metrics"] for row in response.json()["results"]]
    assert metrics == [{"accuracy": 0.91}, {"accuracy": 0.75}, {"accuracy": "NaN"}, {}]


def test_it_shows_a_run_with_datasets_children_and_versions(
    client_for: ClientFor, dana: User
) -> None:
    exp = data.experiment("lineage")
    parent = data.run(exp, name="parent", datasets=[("train", "abc", "training")])
    data.run(exp, name="child", parent_run_id=parent.run_id, run_id="child-run")
    data.logged_model(parent, "m-123", flavors={"sklearn": {}})
    model = data.registered_model("scorer")
    data.version(model, 1, trained_by=parent)

    response = client_for(dana).get(f"{URL}{parent.pk}/")

    body = response.json()
    assert response.status_code == 200
    assert body["datasets"][0]["digest"] == "abc"
    assert body["child_run_ids"] == ["child-run"]
    assert body["logged_models"][0]["model_id"] == "m-123"
    assert body["model_versions"] == [
        {
            "id": model.versions.get().pk,
            "registered_model": model.pk,
            "model": "scorer",
            "version": 1,
            "stage": "None",
        }
    ]


def test_it_returns_mlflow_strings_verbatim(client_for: ClientFor, dana: User) -> None:
    hostile = "<script>alert(1)</script>"
    data.run(data.experiment(hostile), name=hostile, params={hostile: hostile})

    row = client_for(dana).get(URL).json()["results"][0]

    assert row["name"] == hostile
    assert row["params"] == {hostile: hostile}


def test_it_refuses_anonymous_callers(anonymous: APIClient) -> None:
    response = anonymous.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_refuses_a_user_without_a_role(client_for: ClientFor, nobody: User) -> None:
    response = client_for(nobody).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You hold no governance role."


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"order_by": "accuracy"}, "order_by"),
        ({"order_by": "metrics."}, "order_by"),
        ({"order_by": "-"}, "order_by"),
        ({"order_by": "a,b,c,d,e,f"}, "order_by"),
        ({"status": "DONE"}, "status"),
        ({"experiment": "churn"}, "experiment"),
        ({"tag": "=value"}, "tag"),
    ],
)
def test_it_rejects_a_bad_ordering_or_filter(
    client_for: ClientFor, dana: User, query: dict[str, str], field: str
) -> None:
    response = client_for(dana).get(URL, query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]


def test_it_names_the_allowed_orderings(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get(URL, {"order_by": "accuracy"})

    assert response.json()["error"]["details"]["order_by"] == [
        "Unknown ordering 'accuracy'; use end_time, name, run_id, start_time, status, user, "
        "metrics.KEY or params.KEY."
    ]


def test_it_answers_404_for_an_unknown_run(client_for: ClientFor, dana: User) -> None:
    response = client_for(dana).get(f"{URL}999999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_orders_and_filters_by_keys_with_quotes_and_dots(
    client_for: ClientFor, dana: User
) -> None:
    # SQLite's JSON paths cannot hold a double quote; PostgreSQL takes any key.
    key = "it's <odd>.key"
    exp = data.experiment("odd")
    data.run(exp, name="low", params={key: "1"}, tags={key: "x"}, metrics={key: 1.0}, minutes=2)
    data.run(exp, name="high", params={key: "2"}, metrics={key: 2.0}, minutes=1)
    client = client_for(dana)

    by_param = client.get(URL, {"order_by": f"-params.{key}"})
    by_metric = client.get(URL, {"order_by": f"metrics.{key}"})
    by_tag = client.get(URL, {"tag": f"{key}=x"})

    assert _ids(by_param.json()) == ["high", "low"]
    assert _ids(by_metric.json()) == ["low", "high"]
    assert _ids(by_tag.json()) == ["low"]


def test_metric_order_pages_cross_from_valued_to_missing_runs(
    client_for: ClientFor, dana: User, runs: None
) -> None:
    client = client_for(dana)

    def page(number: int, order_by: str) -> list[str]:
        query = {"order_by": order_by, "page_size": "1", "page": str(number)}
        return _ids(client.get(URL, query).json())

    one_by_one = [name for n in range(1, 5) for name in page(n, "-metrics.accuracy")]
    with_tie_breaker = _ids(client.get(URL, {"order_by": "-metrics.accuracy,-run_id"}).json())

    assert one_by_one == ["a", "b", "d", "c"]
    assert with_tie_breaker == one_by_one
    assert (
        client.get(
            URL, {"order_by": "-metrics.accuracy", "page": "5", "page_size": "1"}
        ).status_code
        == 404
    )
