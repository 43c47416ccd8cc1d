"""The sync_mlflow command: one summary line per source, non-zero exit on failure."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pytest_django import Settings

from governance.models import MlflowSource
from tests.governance.sync_support import client_for, unique
from tests.support.mlflow_server import MlflowServer
from tests.support.services import free_port

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(
    r"^(?P<name>[\w-]+): created=(\d+) updated=(\d+) unchanged=(\d+) deleted=(\d+) "
    r"events=(\d+) elapsed_ms=(\d+)$"
)


def test_it_creates_the_source_and_prints_one_summary_line(
    mlflow_server: MlflowServer, settings: Settings
) -> None:
    client = client_for(mlflow_server)
    client.create_experiment(unique("command"))
    name = unique("cmd")
    settings.MLFLOW_SOURCES = {name: mlflow_server.uri}
    out = StringIO()

    call_command("sync_mlflow", "--source", name, "--full", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    match = SUMMARY.match(lines[0])
    assert match and match["name"] == name and int(match[2]) > 0
    assert MlflowSource.objects.get(name=name).tracking_uri == mlflow_server.uri

    out = StringIO()
    call_command("sync_mlflow", "--source", name, stdout=out)
    match = SUMMARY.match(out.getvalue().strip())
    assert match and (match[2], match[3], match[6]) == ("0", "0", "0")


def test_it_fails_with_a_clear_message_when_mlflow_is_unreachable(settings: Settings) -> None:
    name = unique("down")
    settings.MLFLOW_SOURCES = {name: f"http://127.0.0.1:{free_port()}"}
    err = StringIO()

    with pytest.raises(CommandError, match=r"^1 of 1 source\(s\) failed to sync$"):
        call_command("sync_mlflow", stdout=StringIO(), stderr=err)

    assert err.getvalue().startswith(f"sync of source {name} failed: MlflowUnavailable")


def test_it_rejects_an_unknown_source_name(settings: Settings) -> None:
    settings.MLFLOW_SOURCES = {"default": "http://127.0.0.1:5000"}

    with pytest.raises(CommandError, match="no MLflow source named 'nope' is configured"):
        call_command("sync_mlflow", "--source", "nope")


def test_it_leaves_a_disabled_source_alone_unless_it_is_named(settings: Settings) -> None:
    name = unique("off")
    settings.MLFLOW_SOURCES = {name: f"http://127.0.0.1:{free_port()}"}
    MlflowSource.objects.create(
        name=name, tracking_uri=settings.MLFLOW_SOURCES[name], enabled=False
    )
    out = StringIO()

    call_command("sync_mlflow", stdout=out)

    assert out.getvalue() == f"{name}: disabled, not synced\n"
    with pytest.raises(CommandError, match="failed to sync"):
        call_command("sync_mlflow", "--source", name, stdout=StringIO(), stderr=StringIO())
