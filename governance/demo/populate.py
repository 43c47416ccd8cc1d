"""Fill an MLflow server with realistic demo work: experiments, runs and registered models.

Demo code: this module imports ``mlflow`` and scikit-learn directly (see the package
docstring). It trains real, small models on datasets shipped with scikit-learn, so
nothing is downloaded, and it works in two phases so that a sync in between sees the
registry move. ``initial`` creates the experiments and runs and registers the first
versions with their first stages and aliases; ``later`` registers newer versions,
moves aliases, transitions stages, edits descriptions and tags, and deletes a
version registered by mistake. Each phase leaves a marker tag and is skipped when
the marker is already there.
"""

import contextlib
import hashlib
import io
import logging
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# Keep the demo from reporting usage to MLflow's telemetry service.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import sklearn
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas
from mlflow.entities import Metric
from mlflow.models import infer_signature
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from governance.demo.data import (
    Split,
    bundled,
    classification_metrics,
    credit_data,
    regression_metrics,
)
from governance.demo.names import CREDIT_MODEL, DIABETES_MODEL, TUMOUR_MODEL, WINE_MODEL

logger = logging.getLogger(__name__)

PHASES = ("initial", "later")
# The phase markers live on the first experiment the demo creates.
MARKER_EXPERIMENT = "credit-risk-scoring"
MARKER_TAG = "demo.populated.{phase}"


# Tree models serialise a node table that skops will not load unless told to trust it.
_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
_PIP_REQUIREMENTS = [f"scikit-learn=={sklearn.__version__}"]
_CREDIT_REPO = "https://git.example.com/risk/credit-scoring.git"
_CLINICAL_REPO = "https://git.example.com/clinical-ml/diagnostics.git"
_WINE_REPO = "https://git.example.com/analytics/wine.git"
_DAY_MS = 86_400_000


class PhaseOrderError(Exception):
    """A phase was asked for before the phase it builds on."""


@dataclass
class PopulateSummary:
    """What one phase created or changed in MLflow."""

    phase: str
    skipped: bool = False
    experiments: int = 0
    runs: int = 0
    versions: int = 0
    registry_changes: int = 0
    seconds: float = 0.0


@dataclass
class _RunHandle:
    run_id: str
    failure: str = ""


def is_populated(tracking_uri: str, phase: str) -> bool:
    """Say whether ``phase`` has already been written to the server at ``tracking_uri``."""
    experiment = MlflowClient(tracking_uri=tracking_uri).get_experiment_by_name(MARKER_EXPERIMENT)
    return experiment is not None and MARKER_TAG.format(phase=phase) in experiment.tags


def populate(
    tracking_uri: str, phase: str, *, production_tag: str = "data.production"
) -> PopulateSummary:
    """Write one phase of demo work to MLflow, unless it is already there."""
    if phase not in PHASES:
        raise ValueError(f"unknown demo phase {phase!r}; expected one of {', '.join(PHASES)}")
    if is_populated(tracking_uri, phase):
        logger.info("Demo phase %s already present at %s; skipped", phase, tracking_uri)
        return PopulateSummary(phase=phase, skipped=True)
    if phase == "later" and not is_populated(tracking_uri, "initial"):
        raise PhaseOrderError("demo phase 'later' needs phase 'initial' first")

    started = time.monotonic()
    writer = _DemoWriter(tracking_uri, production_tag)
    with _quiet_mlflow(), _tracking_uri(tracking_uri):
        if phase == "initial":
            writer.initial()
        else:
            writer.later()
        writer.client.set_experiment_tag(
            writer.experiment_ids[MARKER_EXPERIMENT],
            MARKER_TAG.format(phase=phase),
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
    writer.summary.phase = phase
    writer.summary.seconds = time.monotonic() - started
    logger.info(
        "Demo phase %s written to %s: %d experiments, %d runs, %d versions, "
        "%d registry changes in %.1f s",
        phase,
        tracking_uri,
        writer.summary.experiments,
        writer.summary.runs,
        writer.summary.versions,
        writer.summary.registry_changes,
        writer.summary.seconds,
    )
    return writer.summary


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    # MLflow prints a line per run and per registration and warns about deprecated
    # stages; the demo command prints its own short progress instead.
    mlflow_logger = logging.getLogger("mlflow")
    level = mlflow_logger.level
    mlflow_logger.setLevel(logging.ERROR)
    sink = io.StringIO()
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        mlflow_logger.setLevel(level)


@contextlib.contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    # The fluent API logs inputs and models; its registry follows the tracking URI.
    # Setting the URI also exports MLFLOW_TRACKING_URI, so an unset one is unset again.
    explicit = mlflow.is_tracking_uri_set()  # type: ignore[no-untyped-call]
    previous = mlflow.get_tracking_uri() if explicit else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


def _commit(label: str) -> str:
    """Return a stable, realistic-looking git commit hash for ``label``."""
    return hashlib.sha1(label.encode(), usedforsecurity=False).hexdigest()


class _DemoWriter:
    """Write the demo's experiments, runs and registry changes through MLflow's API."""

    def __init__(self, tracking_uri: str, production_tag: str) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self.production_tag = production_tag
        self.now_ms = int(time.time() * 1000)
        self.summary = PopulateSummary(phase="")
        self.experiment_ids: dict[str, str] = {}

    # Building blocks ---------------------------------------------------------

    def _at(self, days_ago: float) -> int:
        return self.now_ms - int(days_ago * _DAY_MS)

    def experiment(self, name: str, description: str, tags: dict[str, str]) -> str:
        existing = self.client.get_experiment_by_name(name)
        if existing is not None:
            experiment_id = str(existing.experiment_id)
        else:
            experiment_id = str(
                self.client.create_experiment(
                    name, tags={"mlflow.note.content": description, **tags}
                )
            )
            self.summary.experiments += 1
        self.experiment_ids[name] = experiment_id
        return experiment_id

    @contextlib.contextmanager
    def run(
        self,
        experiment: str,
        name: str,
        *,
        user: str,
        days_ago: float,
        minutes: float,
        script: str,
        repo: str,
        parent: _RunHandle | None = None,
        tags: dict[str, str] | None = None,
    ) -> Iterator[_RunHandle]:
        """Open a run that started ``days_ago`` and lasted ``minutes``, as ``user``."""
        start_ms = self._at(days_ago)
        run_tags = {
            "mlflow.user": user,
            "mlflow.source.type": "JOB",
            "mlflow.source.name": script,
            "mlflow.source.git.commit": _commit(f"{repo}:{script}:{name}"),
            "mlflow.source.git.repoURL": repo,
            **(tags or {}),
        }
        if parent is not None:
            run_tags["mlflow.parentRunId"] = parent.run_id
        created = self.client.create_run(
            self.experiment_ids[experiment], start_time=start_ms, tags=run_tags, run_name=name
        )
        handle = _RunHandle(created.info.run_id)
        with mlflow.start_run(run_id=handle.run_id, nested=parent is not None):
            yield handle
        if handle.failure:
            self.client.set_tag(handle.run_id, "error", handle.failure)
        # Ending the fluent run stamped "now"; put the real duration back.
        self.client.set_terminated(
            handle.run_id,
            "FAILED" if handle.failure else "FINISHED",
            end_time=start_ms + int(minutes * 60_000),
        )
        self.summary.runs += 1

    def history(
        self, run: _RunHandle, days_ago: float, minutes: float, series: dict[str, Sequence[float]]
    ) -> None:
        """Log every step of each metric series, spread over the run's duration."""
        start_ms = self._at(days_ago)
        metrics: list[Metric] = []
        for key, values in series.items():
            step_ms = int(minutes * 60_000 / max(len(values), 1))
            metrics.extend(
                Metric(key, float(value), start_ms + (step + 1) * step_ms, step)
                for step, value in enumerate(values)
            )
        for offset in range(0, len(metrics), 900):
            self.client.log_batch(run.run_id, metrics=metrics[offset : offset + 900])

    def dataset(
        self,
        frame: Any,
        *,
        name: str,
        source: str,
        target: str,
        context: str,
        production: bool = False,
    ) -> None:
        """Log ``frame`` as a dataset input of the active run."""
        dataset = from_pandas(frame, source=source, name=name, targets=target)
        tags = {self.production_tag: "true"} if production else None
        mlflow.log_input(dataset, context=context, tags=tags)

    def log_model(
        self, model: Any, features: Any, registered_name: str, params: dict[str, Any]
    ) -> int:
        """Log ``model`` with its signature to the active run and register a version."""
        # A sample is enough to infer the schema; checking every row costs seconds.
        sample = features.head(100)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(sample, model.predict(sample)),
            registered_model_name=registered_name,
            pip_requirements=_PIP_REQUIREMENTS,
            skops_trusted_types=_TRUSTED_TYPES,
            params={key: str(value) for key, value in params.items()},
            await_registration_for=60,
        )
        self.summary.versions += 1
        return int(info.registered_model_version)

    def stage(self, model: str, version: int, stage: str, *, archive: bool = False) -> None:
        self.client.transition_model_version_stage(
            model, str(version), stage, archive_existing_versions=archive
        )
        self.summary.registry_changes += 1

    def alias(self, model: str, alias: str, version: int) -> None:
        self.client.set_registered_model_alias(model, alias, str(version))
        self.summary.registry_changes += 1

    def describe_model(self, model: str, description: str, tags: dict[str, str]) -> None:
        self.client.update_registered_model(model, description=description)
        for key, value in tags.items():
            self.client.set_registered_model_tag(model, key, value)
        self.summary.registry_changes += 1 + len(tags)

    def describe_version(
        self, model: str, version: int, description: str, tags: dict[str, str]
    ) -> None:
        self.client.update_model_version(model, str(version), description=description)
        for key, value in tags.items():
            self.client.set_model_version_tag(model, str(version), key, value)
        self.summary.registry_changes += 1 + len(tags)

    def version_of(self, model: str, run_prefix: str) -> int:
        """Find the version registered from the run whose name starts with ``run_prefix``."""
        for version in self.client.search_model_versions(f"name = '{model}'"):
            run_name = self.client.get_run(version.run_id).info.run_name if version.run_id else ""
            if run_name and run_name.startswith(run_prefix):
                return int(version.version)
        raise LookupError(f"no version of {model} comes from a run named {run_prefix}*")

    # Phase one ---------------------------------------------------------------

    def initial(self) -> None:
        self.experiment(
            "credit-risk-scoring",
            "Probability of default for retail loan applications.",
            {"team": "credit-risk", "business_unit": "retail-lending"},
        )
        self.experiment(
            "tumour-classification",
            "Benign/malignant triage from digitised biopsy features (WDBC).",
            {"team": "clinical-ml", "regulated": "true"},
        )
        self.experiment(
            "wine-cultivar-classification",
            "Cultivar of origin from the chemical analysis of a wine.",
            {"team": "analytics"},
        )
        self.experiment(
            "diabetes-progression",
            "One-year disease progression from baseline measurements.",
            {"team": "clinical-ml", "regulated": "true"},
        )
        self.credit_baseline()
        self.credit_sweep()
        self.credit_leaky_run()
        tumour_v1 = self.tumour_sgd(
            "sgd-logistic-v1", user="dana", days_ago=30, alpha=1e-4, register=True
        )
        self.tumour_deleted_run()
        wine_v1 = self.wine_forest("rf-60-trees", n_estimators=60, min_samples_leaf=1, days_ago=26)
        self.diabetes_sweep()
        self.diabetes_boosting("gbr-80-stages", days_ago=12, n_estimators=80)
        self.diabetes_failed_run()
        # Registered from a run that predicted the wrong column; deleted in phase later.
        self.diabetes_boosting(
            "gbr-on-bmi", days_ago=9, n_estimators=40, user="derek", target="bmi"
        )
        self.scratch_experiment()

        credit_v1 = self.version_of(CREDIT_MODEL, "logreg-baseline")
        credit_v2 = self.version_of(CREDIT_MODEL, "gbm-lr")
        self.describe_model(
            CREDIT_MODEL,
            "Scores retail loan applications for probability of default within 12 months.",
            {"owner": "credit-risk", "use_case": "loan approval", "regulation": "SR 11-7"},
        )
        self.stage(CREDIT_MODEL, credit_v1, "Production")
        self.alias(CREDIT_MODEL, "champion", credit_v1)
        self.stage(CREDIT_MODEL, credit_v2, "Staging")
        self.alias(CREDIT_MODEL, "challenger", credit_v2)

        self.describe_model(
            TUMOUR_MODEL,
            "Flags biopsies for priority pathologist review. Decision support only.",
            {"owner": "clinical-ml", "use_case": "triage", "regulation": "21 CFR Part 11"},
        )
        self.stage(TUMOUR_MODEL, tumour_v1, "Production")
        self.alias(TUMOUR_MODEL, "champion", tumour_v1)

        self.describe_model(
            WINE_MODEL, "Predicts the cultivar of a wine sample.", {"owner": "analytics"}
        )
        self.stage(WINE_MODEL, wine_v1, "Staging")

        diabetes_v1 = self.version_of(DIABETES_MODEL, "ridge-alpha-1.0")
        diabetes_v2 = self.version_of(DIABETES_MODEL, "gbr-80-stages")
        self.describe_model(
            DIABETES_MODEL,
            "Predicts disease progression one year after baseline.",
            {"owner": "clinical-ml", "use_case": "care planning"},
        )
        self.stage(DIABETES_MODEL, diabetes_v1, "Production")
        self.alias(DIABETES_MODEL, "champion", diabetes_v1)
        self.stage(DIABETES_MODEL, diabetes_v2, "Staging")
        self.alias(DIABETES_MODEL, "challenger", diabetes_v2)

    def credit_baseline(self) -> None:
        data, _ = credit_data()
        params = {"model": "logistic_regression", "C": 1.0, "penalty": "l2", "max_iter": 300}
        model = Pipeline(
            [("scale", StandardScaler()), ("clf", LogisticRegression(C=1.0, max_iter=300))]
        )
        model.fit(data.x_train, data.y_train)
        with self.run(
            "credit-risk-scoring",
            "logreg-baseline",
            user="dana",
            days_ago=38,
            minutes=3,
            script="train_baseline.py",
            repo=_CREDIT_REPO,
        ):
            self.credit_inputs(data)
            mlflow.log_params(params)
            mlflow.log_metrics(classification_metrics(model, data))
            self.log_model(model, data.x_train, CREDIT_MODEL, params)

    def credit_inputs(self, data: Split) -> None:
        self.dataset(
            data.train,
            name="loan-applications-2025q2",
            source="s3://risk-data/credit/loan_applications/2025q2/train.parquet",
            target="defaulted",
            context="training",
        )
        self.dataset(
            data.test,
            name="loan-applications-2025q2-holdout",
            source="s3://risk-data/credit/loan_applications/2025q2/holdout.parquet",
            target="defaulted",
            context="evaluation",
        )

    def credit_sweep(self) -> None:
        data, _ = credit_data()
        grid = [(rate, depth) for rate in (0.05, 0.1) for depth in (2, 3)]
        trained = []
        for rate, depth in grid:
            model = GradientBoostingClassifier(
                n_estimators=60, learning_rate=rate, max_depth=depth, subsample=0.8, random_state=0
            ).fit(data.x_train, data.y_train)
            val_auc = [
                roc_auc_score(data.y_test, proba[:, 1])
                for proba in model.staged_predict_proba(data.x_test)
            ]
            trained.append((rate, depth, model, val_auc))
        best = max(trained, key=lambda item: item[3][-1])

        with self.run(
            "credit-risk-scoring",
            "gbm-sweep",
            user="derek",
            days_ago=33,
            minutes=24,
            script="sweep_gbm.py",
            repo=_CREDIT_REPO,
            tags={"sweep": "grid"},
        ) as parent:
            mlflow.log_params({"search": "grid", "candidates": len(grid), "metric": "val_auc"})
            for index, (rate, depth, model, val_auc) in enumerate(trained):
                name = f"gbm-lr{rate}-depth{depth}"
                days_ago = 33 - (index + 1) * 0.004
                params = {
                    "model": "gradient_boosting",
                    "n_estimators": 60,
                    "learning_rate": rate,
                    "max_depth": depth,
                    "subsample": 0.8,
                }
                with self.run(
                    "credit-risk-scoring",
                    name,
                    user="derek",
                    days_ago=days_ago,
                    minutes=5,
                    script="sweep_gbm.py",
                    repo=_CREDIT_REPO,
                    parent=parent,
                ) as child:
                    self.credit_inputs(data)
                    mlflow.log_params(params)
                    mlflow.log_metrics(classification_metrics(model, data))
                    self.history(
                        child,
                        days_ago,
                        5,
                        {"train_loss": list(model.train_score_), "val_auc_by_stage": val_auc},
                    )
                    if model is best[2]:
                        self.log_model(model, data.x_train, CREDIT_MODEL, params)
            mlflow.log_metric("best_val_auc", best[3][-1])
            mlflow.set_tag("best_candidate", f"gbm-lr{best[0]}-depth{best[1]}")

    def credit_leaky_run(self) -> None:
        # A run that used the outcome column as a feature, deleted once noticed.
        data, _ = credit_data()
        leaky = data.train.assign(days_past_due_at_label=data.train["defaulted"] * 90)
        with self.run(
            "credit-risk-scoring",
            "logreg-with-dpd",
            user="derek",
            days_ago=31,
            minutes=2,
            script="train_baseline.py",
            repo=_CREDIT_REPO,
        ) as run:
            model = LogisticRegression(max_iter=300).fit(
                leaky.drop(columns=["defaulted"]), leaky["defaulted"]
            )
            mlflow.log_params({"model": "logistic_regression", "features": "all+dpd"})
            mlflow.log_metric(
                "train_auc",
                roc_auc_score(
                    leaky["defaulted"], model.predict_proba(leaky.drop(columns=["defaulted"]))[:, 1]
                ),
            )
        self.client.delete_run(run.run_id)

    def tumour_sgd(
        self,
        name: str,
        *,
        user: str,
        days_ago: float,
        alpha: float,
        register: bool,
        penalty: str = "l2",
        tags: dict[str, str] | None = None,
    ) -> int:
        data = bundled("breast_cancer")
        scaler = StandardScaler().fit(data.x_train)
        x_train, x_test = scaler.transform(data.x_train), scaler.transform(data.x_test)
        classifier = SGDClassifier(loss="log_loss", alpha=alpha, penalty=penalty, random_state=3)
        losses, accuracy, auc = [], [], []
        for _ in range(40):
            classifier.partial_fit(x_train, data.y_train, classes=[0, 1])
            losses.append(log_loss(data.y_train, classifier.predict_proba(x_train)))
            accuracy.append(accuracy_score(data.y_test, classifier.predict(x_test)))
            auc.append(roc_auc_score(data.y_test, classifier.predict_proba(x_test)[:, 1]))
        model = Pipeline([("scale", scaler), ("clf", classifier)])
        params = {
            "model": "sgd_logistic",
            "alpha": alpha,
            "penalty": penalty,
            "epochs": 40,
            "scaling": "standard",
        }
        with self.run(
            "tumour-classification",
            name,
            user=user,
            days_ago=days_ago,
            minutes=2,
            script="train_triage.py",
            repo=_CLINICAL_REPO,
            tags=tags,
        ) as run:
            self.dataset(
                data.train,
                name="wdbc-diagnostic-train",
                source="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
                target="target",
                context="training",
            )
            self.dataset(
                data.test,
                name="wdbc-diagnostic-validation",
                source="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
                target="target",
                context="evaluation",
            )
            mlflow.log_params(params)
            self.history(
                run,
                days_ago,
                2,
                {"train_log_loss": losses, "val_accuracy": accuracy, "val_auc": auc},
            )
            mlflow.log_metrics(classification_metrics(model, data))
            if not register:
                return 0
            return self.log_model(model, data.x_train, TUMOUR_MODEL, params)

    def tumour_deleted_run(self) -> None:
        with self.run(
            "tumour-classification",
            "smoke-test",
            user="dana",
            days_ago=29,
            minutes=0.5,
            script="train_triage.py",
            repo=_CLINICAL_REPO,
        ) as run:
            mlflow.log_params({"model": "sgd_logistic", "epochs": 1})
        self.client.delete_run(run.run_id)

    def wine_forest(
        self, name: str, *, n_estimators: int, min_samples_leaf: int, days_ago: float
    ) -> int:
        data = bundled("wine")
        model = RandomForestClassifier(
            n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, random_state=11
        )
        folds = cross_val_score(model, data.x_train, data.y_train, cv=3)
        model.fit(data.x_train, data.y_train)
        params = {
            "model": "random_forest",
            "n_estimators": n_estimators,
            "min_samples_leaf": min_samples_leaf,
            "max_features": "sqrt",
        }
        with self.run(
            "wine-cultivar-classification",
            name,
            user="derek",
            days_ago=days_ago,
            minutes=1,
            script="cultivar.py",
            repo=_WINE_REPO,
        ) as run:
            self.dataset(
                data.train,
                name="wine-chemistry",
                source="s3://analytics-data/wine/chemistry.csv",
                target="target",
                context="training",
            )
            mlflow.log_params(params)
            self.history(run, days_ago, 1, {"cv_accuracy": list(folds)})
            predictions = model.predict(data.x_test)
            mlflow.log_metrics(
                {
                    "accuracy": accuracy_score(data.y_test, predictions),
                    "macro_f1": f1_score(data.y_test, predictions, average="macro"),
                    "cv_accuracy_mean": float(np.mean(folds)),
                }
            )
            return self.log_model(model, data.x_train, WINE_MODEL, params)

    def diabetes_inputs(self, data: Split) -> None:
        self.dataset(
            data.train,
            name="diabetes-baseline-visits",
            source="s3://clinical-data/diabetes/baseline_visits.parquet",
            target="target",
            context="training",
        )
        self.dataset(
            data.test,
            name="diabetes-baseline-visits-holdout",
            source="s3://clinical-data/diabetes/baseline_visits_holdout.parquet",
            target="target",
            context="evaluation",
        )

    def diabetes_sweep(self) -> None:
        data = bundled("diabetes")
        with self.run(
            "diabetes-progression",
            "ridge-alpha-sweep",
            user="dana",
            days_ago=20,
            minutes=4,
            script="progression.py",
            repo=_CLINICAL_REPO,
            tags={"sweep": "grid"},
        ) as parent:
            mlflow.log_params({"search": "grid", "alphas": "0.1,1.0,10.0"})
            best_rmse = float("inf")
            for index, alpha in enumerate((0.1, 1.0, 10.0)):
                model = Ridge(alpha=alpha).fit(data.x_train, data.y_train)
                metrics = regression_metrics(model, data)
                best_rmse = min(best_rmse, metrics["rmse"])
                params = {"model": "ridge", "alpha": alpha}
                with self.run(
                    "diabetes-progression",
                    f"ridge-alpha-{alpha}",
                    user="dana",
                    days_ago=20 - (index + 1) * 0.001,
                    minutes=1,
                    script="progression.py",
                    repo=_CLINICAL_REPO,
                    parent=parent,
                ):
                    self.diabetes_inputs(data)
                    mlflow.log_params(params)
                    mlflow.log_metrics(metrics)
                    # The clinical lead picked alpha=1.0 for stability, not the lowest error.
                    if alpha == 1.0:
                        self.log_model(model, data.x_train, DIABETES_MODEL, params)
            mlflow.log_metric("best_rmse", best_rmse)

    def diabetes_boosting(
        self,
        name: str,
        *,
        days_ago: float,
        n_estimators: int,
        user: str = "derek",
        target: str = "target",
    ) -> int:
        data = bundled("diabetes")
        y_train = data.train[target]
        model = GradientBoostingRegressor(
            n_estimators=n_estimators, learning_rate=0.05, max_depth=2, random_state=5
        ).fit(data.x_train, y_train)
        val_rmse = [
            float(np.sqrt(np.mean((data.y_test - prediction) ** 2)))
            for prediction in model.staged_predict(data.x_test)
        ]
        params = {
            "model": "gradient_boosting_regressor",
            "n_estimators": n_estimators,
            "learning_rate": 0.05,
            "max_depth": 2,
            "target": target,
        }
        with self.run(
            "diabetes-progression",
            name,
            user=user,
            days_ago=days_ago,
            minutes=3,
            script="progression.py",
            repo=_CLINICAL_REPO,
        ) as run:
            self.diabetes_inputs(data)
            mlflow.log_params(params)
            self.history(
                run, days_ago, 3, {"train_loss": list(model.train_score_), "val_rmse": val_rmse}
            )
            mlflow.log_metrics(regression_metrics(model, data))
            return self.log_model(model, data.x_train, DIABETES_MODEL, params)

    def diabetes_failed_run(self) -> None:
        # A raw export with missing lab values: scikit-learn refuses it and the run fails.
        data = bundled("diabetes")
        raw = data.train.copy()
        raw.loc[raw.index[::17], "s3"] = np.nan
        with self.run(
            "diabetes-progression",
            "ridge-raw-export",
            user="derek",
            days_ago=16,
            minutes=0.3,
            script="progression.py",
            repo=_CLINICAL_REPO,
        ) as run:
            self.dataset(
                raw,
                name="diabetes-raw-export",
                source="s3://clinical-data/diabetes/raw_export_2025-06.csv",
                target="target",
                context="training",
            )
            mlflow.log_params({"model": "ridge", "alpha": 1.0})
            try:
                Ridge(alpha=1.0).fit(raw.drop(columns=["target"]), raw["target"])
            except ValueError as exc:
                run.failure = f"{type(exc).__name__}: {exc}"

    def scratch_experiment(self) -> None:
        experiment_id = self.experiment(
            "scratch-derek", "Notebook experiments.", {"team": "analytics"}
        )
        with self.run(
            "scratch-derek",
            "try-pca",
            user="derek",
            days_ago=35,
            minutes=1,
            script="notebook.ipynb",
            repo=_WINE_REPO,
        ):
            mlflow.log_params({"components": 3})
        self.client.delete_experiment(experiment_id)

    # Phase two ---------------------------------------------------------------

    def later(self) -> None:
        for name in (
            "credit-risk-scoring",
            "tumour-classification",
            "wine-cultivar-classification",
            "diabetes-progression",
        ):
            existing = self.client.get_experiment_by_name(name)
            if existing is None:
                raise PhaseOrderError(f"experiment {name} from phase 'initial' is missing")
            self.experiment_ids[name] = str(existing.experiment_id)

        credit_v1 = self.version_of(CREDIT_MODEL, "logreg-baseline")
        credit_v2 = self.version_of(CREDIT_MODEL, "gbm-lr")
        credit_v3 = self.credit_retrain()
        self.describe_version(
            CREDIT_MODEL,
            credit_v2,
            "Gradient boosting, best of the 2025Q2 sweep.",
            {"validation_status": "passed", "validated_by": "oscar"},
        )
        self.stage(CREDIT_MODEL, credit_v2, "Production", archive=True)
        self.alias(CREDIT_MODEL, "champion", credit_v2)
        self.stage(CREDIT_MODEL, credit_v3, "Staging")
        self.alias(CREDIT_MODEL, "challenger", credit_v3)
        self.describe_version(
            CREDIT_MODEL, credit_v1, "Logistic baseline, retired.", {"retired": "true"}
        )

        tumour_v2 = self.tumour_sgd(
            "sgd-elasticnet-validation",
            user="oscar",
            days_ago=2,
            alpha=1e-3,
            penalty="elasticnet",
            register=True,
            tags={"purpose": "independent validation rebuild"},
        )
        self.alias(TUMOUR_MODEL, "challenger", tumour_v2)

        wine_v2 = self.wine_forest("rf-120-trees", n_estimators=120, min_samples_leaf=2, days_ago=3)
        self.stage(WINE_MODEL, wine_v2, "Staging", archive=True)
        self.alias(WINE_MODEL, "champion", wine_v2)

        diabetes_v1 = self.version_of(DIABETES_MODEL, "ridge-alpha-1.0")
        diabetes_v2 = self.version_of(DIABETES_MODEL, "gbr-80-stages")
        mistaken = self.version_of(DIABETES_MODEL, "gbr-on-bmi")
        self.client.delete_model_version(DIABETES_MODEL, str(mistaken))
        self.summary.registry_changes += 1
        self.stage(DIABETES_MODEL, diabetes_v2, "Production", archive=True)
        self.alias(DIABETES_MODEL, "champion", diabetes_v2)
        self.client.delete_registered_model_alias(DIABETES_MODEL, "challenger")
        self.summary.registry_changes += 1
        self.describe_model(
            DIABETES_MODEL,
            "Predicts disease progression one year after baseline. Boosted trees since "
            "the last review.",
            {"use_case": "care planning and follow-up scheduling"},
        )
        self.describe_version(
            DIABETES_MODEL, diabetes_v1, "Ridge baseline, archived.", {"retired": "true"}
        )

    def credit_retrain(self) -> int:
        data, production = credit_data()
        # Retrained on the 2025Q2 training split plus the first production quarter.
        train = pd.concat([data.train, production], ignore_index=True)
        model = GradientBoostingClassifier(
            n_estimators=80, learning_rate=0.1, max_depth=3, subsample=0.8, random_state=0
        ).fit(train.drop(columns=["defaulted"]), train["defaulted"])
        val_auc = [
            roc_auc_score(data.y_test, proba[:, 1])
            for proba in model.staged_predict_proba(data.x_test)
        ]
        params = {
            "model": "gradient_boosting",
            "n_estimators": 80,
            "learning_rate": 0.1,
            "max_depth": 3,
            "subsample": 0.8,
        }
        with self.run(
            "credit-risk-scoring",
            "gbm-retrain-2025q3",
            user="dana",
            days_ago=2.5,
            minutes=6,
            script="retrain.py",
            repo=_CREDIT_REPO,
            tags={self.production_tag: "true"},
        ) as run:
            self.dataset(
                production,
                name="loan-applications-2025q3-production",
                source="s3://risk-data/credit/loan_applications/2025q3/production.parquet",
                target="defaulted",
                context="training",
                production=True,
            )
            self.credit_inputs(data)
            mlflow.log_params(params)
            self.history(
                run,
                2.5,
                6,
                {"train_loss": list(model.train_score_), "val_auc_by_stage": val_auc},
            )
            mlflow.log_metrics(classification_metrics(model, data))
            return self.log_model(model, data.x_train, CREDIT_MODEL, params)
