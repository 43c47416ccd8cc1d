"""Hostile names written into a real MLflow server, synced, and opened in Chromium.

Every payload sets ``window.__xss`` and opens a dialog if it ever runs. The test
asserts that neither happened on any page, that no ``javascript:`` link exists,
that Plotly drew no link or markup from the data, and that the payloads show up
as the literal text they are.

MLflow refuses metric, parameter and tag *names* outside ``[/\\w.\\- :]``, so hostile
names are written there as values, run, experiment, model and dataset names, and
descriptions; hostile metric and parameter keys are then added to the mirror rows
directly, as a server with laxer validation could send them.
"""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from pytest_django.live_server_helper import LiveServer

from governance.models import (
    LedgerEntry,
    MetricHistory,
    MlflowSource,
    ModelVersion,
    Run,
    RunMetric,
)
from governance.sync import sync_source
from tests.browser.conftest import Session, sign_in
from tests.support import personas
from tests.support.mlflow_server import MlflowServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>window.__xss=1;alert('script')</script>"
IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
JS_LINK = "javascript:window.__xss=1;alert(1)"
PLOTLY = '<a href="javascript:window.__xss=1;alert(1)">plotly-link</a>'
TEMPLATE = "{{ 7*7 }}{% csrf_token %}"
MLMODEL = {
    "artifact_path": "model",
    "flavors": {"python_function": {"loader_module": "demo", "python_version": "3.11"}},
    "signature": {
        "inputs": json.dumps([{"type": "double", "name": IMG, "required": True}]),
        "outputs": json.dumps([{"type": "long", "name": SCRIPT, "required": True}]),
        "params": None,
    },
}


def _log_run(client: MlflowClient, experiment_id: str, name: str, optimizer: str) -> str:
    run_id: str = client.create_run(experiment_id, run_name=name).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("accuracy", 0.6 + step / 10, 0, step) for step in range(4)],
        params=[Param("optimizer", optimizer), Param("note", SCRIPT)],
        tags=[
            RunTag("team", IMG),
            RunTag("mlflow.source.git.repoURL", JS_LINK),
            RunTag("data.production", "true"),
        ],
    )
    dataset = Dataset(
        name=f"ds {IMG}", digest="x55d1g", source_type="local", source=f"file:///{SCRIPT}"
    )
    client.log_inputs(
        run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "production")])]
    )
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(json.dumps(MLMODEL))
        client.log_artifact(run_id, str(Path(folder) / "MLmodel"), "model")
    client.set_terminated(run_id)
    return run_id


def _write_corpus(server: MlflowServer, tag: str) -> str:
    client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
    experiment_id: str = client.create_experiment(f"{tag} {SCRIPT}")
    first = _log_run(client, experiment_id, f"A {IMG}", PLOTLY)
    second = _log_run(client, experiment_id, f"B {PLOTLY}", TEMPLATE)
    model_name = f"{tag} {IMG} {TEMPLATE}"
    client.create_registered_model(model_name, description=PLOTLY)
    for run_id in (first, second):
        client.create_model_version(
            model_name, source=f"runs:/{run_id}/model", run_id=run_id, description=SCRIPT
        )
    client.transition_model_version_stage(model_name, "1", "Production")
    client.set_registered_model_alias(model_name, "champion", "2")
    return model_name


def _add_hostile_keys(runs: list[Run]) -> None:
    for run in runs:
        RunMetric.objects.create(run=run, key=PLOTLY, value=0.5)
        MetricHistory.objects.bulk_create(
            MetricHistory(run=run, key=PLOTLY, step=step, timestamp_ms=step, value=step / 3)
            for step in range(3)
        )
        run.params = {**run.params, SCRIPT: IMG}
        run.save(update_fields=["params"])


def _assert_harmless(session: Session, expected_texts: list[str]) -> None:
    session.wait_for_charts()
    page = session.page
    assert page.evaluate("typeof window.__xss") == "undefined", page.url
    assert session.dialogs == [], page.url
    assert page.locator("a[href^='javascript:' i]").count() == 0, page.url
    # Plotly turns <a href> in labels into SVG links; none may exist.
    assert page.locator(".js-plotly-plot svg a").count() == 0, page.url
    body = page.inner_text("body")
    for text in expected_texts:
        assert text in body, f"{text!r} not shown as text on {page.url}"


def _svg_texts(session: Session, selector: str) -> list[str]:
    texts: list[str] = session.page.eval_on_selector_all(
        selector, "nodes => nodes.map(node => node.textContent)"
    )
    return texts


def test_hostile_names_from_mlflow_show_as_text_and_never_run(
    browser: Any, live_server: LiveServer, mlflow_server: MlflowServer
) -> None:
    tag = f"xss-{uuid.uuid4().hex[:8]}"
    model_name = _write_corpus(mlflow_server, tag)
    source = MlflowSource.objects.create(name=tag, tracking_uri=mlflow_server.uri)
    sync_source(source.pk, full=True)
    # The MLflow server is shared by the session: keep to this test's experiment.
    runs = list(
        Run.objects.filter(source=source, experiment__name__startswith=tag).order_by("name")
    )
    assert len(runs) == 2
    _add_hostile_keys(runs)
    experiment_pk = runs[0].experiment_id
    versions = list(
        ModelVersion.objects.filter(
            registered_model__source=source, registered_model__name=model_name
        )
    )
    assert len(versions) == 2
    registered = versions[0].registered_model
    # The sync's own entries carry the hostile model name into the ledger pages.
    observed = LedgerEntry.objects.filter(source_name=tag, model_name=model_name).first()
    assert observed is not None

    session = sign_in(browser, live_server, personas.make_user(personas.OLIVIA))
    pages: list[tuple[str, list[str]]] = [
        ("/", []),
        ("/experiments/", [SCRIPT]),
        (
            f"/experiments/{experiment_pk}/runs/?sort=-metrics.accuracy&col=params.optimizer"
            "&col=metrics.accuracy&col=params.note",
            [SCRIPT, IMG, PLOTLY, TEMPLATE],
        ),
        (f"/runs/{runs[0].pk}/", [IMG, SCRIPT, PLOTLY, JS_LINK]),
        (f"/runs/{runs[1].pk}/", [PLOTLY, TEMPLATE]),
        (f"/runs/compare/?run={runs[0].pk}&run={runs[1].pk}", [PLOTLY, TEMPLATE, IMG]),
        (
            f"/runs/compare/?run={runs[0].pk}&run={runs[1].pk}&" + urlencode({"metric": PLOTLY}),
            [PLOTLY],
        ),
        ("/models/", [model_name]),
        *[(f"/models/versions/{v.pk}/", [model_name, SCRIPT, IMG]) for v in versions],
        ("/reports/dataset-models/?dataset=x55d1g", [f"ds {IMG}", model_name]),
        ("/reports/production-data/", [IMG, f"ds {IMG}"]),
        (f"/models/{registered.pk}/timeline/?as_of=2100-01-01T00:00", [model_name]),
        (f"/ledger/{observed.seq}/correct/", [model_name]),
        # The sync saw the stage and alias set in MLflow directly: unapproved changes.
        ("/reports/unapproved-changes/", [model_name]),
    ]
    for path, texts in pages:
        session.open(path)
        _assert_harmless(session, texts)

    # The overlaid history names each line after its run; the hostile run name is
    # a legend entry shown as text, and a hostile parameter value an axis tick.
    session.open(f"/runs/compare/?run={runs[0].pk}&run={runs[1].pk}")
    session.wait_for_charts()
    legend = _svg_texts(session, ".legendtext")
    assert f"B {PLOTLY}" in legend
    ticks = _svg_texts(session, ".parcoords .tick text")
    assert any(tick.startswith('<a href="javascript:') for tick in ticks), ticks
    axis_titles = _svg_texts(session, ".parcoords .axis-title")
    assert PLOTLY[:39] + "…" in axis_titles
    session.screenshot("xss-compare")
    session.open(f"/runs/{runs[1].pk}/")
    session.screenshot("xss-run-detail")
    session.page.context.close()
