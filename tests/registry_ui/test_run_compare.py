"""Several runs side by side: charts and a table that marks differences."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import Run
from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

URL = "/runs/compare/"


@pytest.fixture
def runs(db: None) -> list[Run]:
    exp = mirror_data.experiment()
    first = mirror_data.run(exp, "a<b>", {"accuracy": 0.8}, {"optimizer": "adam", "seed": "1"})
    second = mirror_data.run(exp, "b", {"accuracy": 0.9}, {"optimizer": "sgd", "seed": "1"})
    mirror_data.history(first, "accuracy", [0.1, 0.8])
    mirror_data.history(second, "accuracy", [0.2, 0.9])
    return [first, second]


def test_it_compares_runs_with_charts_and_differences(reader: Client, runs: list[Run]) -> None:
    response = reader.get(URL, {"run": [r.pk for r in runs]})

    assert response.status_code == 200
    rows = {row.key: row for row in response.context["rows"]}
    assert rows["optimizer"].differs is True
    assert rows["seed"].differs is False
    assert rows["accuracy"].values == ["0.8", "0.9"]
    parallel = response.context["parallel_figure"]["data"][0]
    labels = [axis["label"] for axis in parallel["dimensions"]]
    assert labels == ["optimizer", "accuracy"]
    history = response.context["history_figure"]["data"]
    assert [line["name"] for line in history] == ["a&lt;b&gt;", "b"]
    assert 'class="differs"' in response.content.decode()


def test_it_escapes_names_and_values_in_the_table(reader: Client) -> None:
    exp = mirror_data.experiment()
    sly = mirror_data.run(exp, "<i>sly</i>", {"f1": float("nan")}, {"note": "<b>x</b> & 'y'"})
    plain = mirror_data.run(exp, "plain", {"f1": 0.5}, {"note": "z"})

    body = reader.get(URL, {"run": [sly.pk, plain.pk]}).content.decode()

    assert f'<a href="/runs/{sly.pk}/">&lt;i&gt;sly&lt;/i&gt;</a>' in body
    assert "<td>&lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;</td><td>z</td>" in body
    assert '<td class="num">NaN</td><td class="num">0.5</td>' in body
    assert "<b>x</b>" not in body


@pytest.mark.parametrize("count", [1, 51])
def test_it_rejects_too_few_or_too_many_runs(reader: Client, count: int) -> None:
    exp = mirror_data.experiment()
    pks = [mirror_data.run(exp).pk for _ in range(count)]

    response = reader.get(URL, {"run": pks})

    assert response.status_code == 400
    assert f"Choose between 2 and 50 runs to compare; you chose {count}." in (
        response.content.decode()
    )


def test_it_rejects_unknown_runs_and_metrics(reader: Client, runs: list[Run]) -> None:
    unknown = reader.get(URL, {"run": [str(runs[0].pk), "999999"]})
    not_a_number = reader.get(URL, {"run": [str(runs[0].pk), "x"]})
    bad_metric = reader.get(URL, [("run", runs[0].pk), ("run", runs[1].pk), ("metric", "nope")])

    assert unknown.status_code == 400
    assert "No run has the number 999999." in unknown.content.decode()
    assert not_a_number.status_code == 400
    assert bad_metric.status_code == 400


def test_it_sends_anonymous_visitors_to_login(client: Client, runs: list[Run]) -> None:
    response = client.get(URL, {"run": [r.pk for r in runs]})

    assert response.status_code == 302


def test_it_refuses_a_user_without_role(nobody: User, runs: list[Run]) -> None:
    response = client_for(nobody).get(URL, {"run": [r.pk for r in runs]})

    assert response.status_code == 403
