"""The audit reports as queries, for the pages and the API alike.

Models trained on a dataset (by name or digest), runs that used production data (a
dataset used in the ``production`` context, or the configured tag set to a true
value), and who held a stage or alias of every model at a moment.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower

from governance import point_in_time
from governance.models import DatasetInput, ModelVersion, RegisteredModel, Run

PRODUCTION_CONTEXT = "production"
# Tag values that say "no" although the tag is present.
FALSE_TAG_VALUES = ("", "false", "0", "no", "off")


def versions_trained_on(term: str) -> QuerySet[ModelVersion]:
    """Return the versions whose training run used a dataset named ``term`` or with that digest."""
    return (
        ModelVersion.objects.filter(
            Q(training_run__dataset_inputs__name=term)
            | Q(training_run__dataset_inputs__digest=term)
        )
        .select_related("registered_model__source", "training_run")
        .distinct()
        .order_by("registered_model__name", "version", "pk")
    )


def matching_datasets(version: ModelVersion, term: str) -> list[DatasetInput]:
    """Return the inputs of ``version``'s training run that match ``term``."""
    if version.training_run is None:
        return []
    inputs = version.training_run.dataset_inputs.filter(Q(name=term) | Q(digest=term))
    return list(inputs.order_by("name", "digest"))


def runs_on_production_data() -> QuerySet[Run]:
    """Return the runs that used production data, newest first."""
    tag = settings.PRODUCTION_DATA_TAG
    tagged = Q(tags__has_key=tag) & ~Q(tag_value__in=FALSE_TAG_VALUES)
    production = Run.objects.filter(dataset_inputs__context__iexact=PRODUCTION_CONTEXT)
    return (
        Run.objects.alias(tag_value=Lower(KeyTextTransform(tag, "tags")))
        .filter(tagged | Q(pk__in=production.values("pk")))
        .select_related("experiment")
        .order_by("-start_time", "pk")
    )


def production_reasons(run: Run) -> list[str]:
    """Say why ``run`` counts as having used production data."""
    tag = settings.PRODUCTION_DATA_TAG
    reasons = [
        f"dataset {d.name} ({d.digest}) used as {d.context}"
        for d in run.dataset_inputs.filter(context__iexact=PRODUCTION_CONTEXT).order_by("name")
    ]
    value = (run.tags or {}).get(tag)
    if value is not None and str(value).lower() not in FALSE_TAG_VALUES:
        reasons.append(f"tag {tag} = {value}")
    return reasons


@dataclass(frozen=True)
class ModelHolding:
    model: RegisteredModel
    holding: point_in_time.Holding


def holders_across_models(moment: datetime, target_kind: str, target: str) -> list[ModelHolding]:
    """Return, for every model, which version held ``target`` at ``moment`` (if any)."""
    models = list(RegisteredModel.objects.select_related("source").order_by("name", "pk"))
    holdings = point_in_time.holder_at_each(
        [(model.source.name, model.name) for model in models], target_kind, target, moment
    )
    return [
        ModelHolding(model, holding)
        for model in models
        if (holding := holdings[(model.source.name, model.name)]) is not None
    ]
