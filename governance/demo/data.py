"""The demo's training data: scikit-learn's bundled data sets and a synthetic loan book.

Demo code (see the package docstring); nothing here is downloaded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_classification
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split

# Realistic scales for the synthetic credit features: (name, mean, spread).
CREDIT_FEATURES = (
    ("annual_income", 54_000.0, 19_000.0),
    ("debt_to_income", 0.31, 0.12),
    ("credit_utilisation", 0.42, 0.21),
    ("months_employed", 61.0, 38.0),
    ("open_accounts", 7.0, 3.0),
    ("delinquencies_2y", 0.4, 0.7),
    ("loan_amount", 14_500.0, 7_800.0),
    ("loan_term_months", 42.0, 14.0),
    ("oldest_account_months", 118.0, 64.0),
    ("recent_inquiries", 1.2, 1.1),
    ("savings_balance", 6_200.0, 5_400.0),
    ("region_risk_index", 0.5, 0.18),
)


@dataclass(frozen=True)
class Split:
    """Features and target for training and evaluation, as data frames."""

    train: Any
    test: Any
    target: str

    @property
    def x_train(self) -> Any:
        return self.train.drop(columns=[self.target])

    @property
    def y_train(self) -> Any:
        return self.train[self.target]

    @property
    def x_test(self) -> Any:
        return self.test.drop(columns=[self.target])

    @property
    def y_test(self) -> Any:
        return self.test[self.target]


@cache
def credit_data() -> tuple[Split, Any]:
    """Synthetic loan applications: a training quarter, its holdout, a production quarter."""
    x, y = make_classification(
        n_samples=3_600,
        n_features=len(CREDIT_FEATURES),
        n_informative=7,
        n_redundant=2,
        weights=[0.82],
        flip_y=0.03,
        class_sep=1.3,
        random_state=2025,
    )
    frame = pd.DataFrame(
        {
            name: np.round(mean + spread * x[:, i], 4)
            for i, (name, mean, spread) in enumerate(CREDIT_FEATURES)
        }
    )
    frame["defaulted"] = y
    q2, production = frame.iloc[:2_700], frame.iloc[2_700:].reset_index(drop=True)
    train, test = train_test_split(q2, test_size=0.25, random_state=7, stratify=q2["defaulted"])
    return Split(train, test, "defaulted"), production


@cache
def bundled(name: str) -> Split:
    """One of scikit-learn's bundled data sets, split 70/30 with a fixed seed."""
    loaders: dict[str, Callable[..., Any]] = {
        "breast_cancer": load_breast_cancer,
        "wine": load_wine,
        "diabetes": load_diabetes,
    }
    frame = loaders[name](as_frame=True).frame
    stratify = None if name == "diabetes" else frame["target"]
    train, test = train_test_split(frame, test_size=0.3, random_state=42, stratify=stratify)
    return Split(train, test, "target")


def classification_metrics(model: Any, data: Split) -> dict[str, float]:
    """Score a binary classifier on the evaluation split."""
    predictions = model.predict(data.x_test)
    probabilities = model.predict_proba(data.x_test)[:, 1]
    return {
        "val_auc": float(roc_auc_score(data.y_test, probabilities)),
        "val_accuracy": float(accuracy_score(data.y_test, predictions)),
        "val_f1": float(f1_score(data.y_test, predictions)),
        "val_precision": float(precision_score(data.y_test, predictions, zero_division=0)),
        "val_recall": float(recall_score(data.y_test, predictions)),
        "val_log_loss": float(log_loss(data.y_test, probabilities)),
    }


def regression_metrics(model: Any, data: Split) -> dict[str, float]:
    """Score a regressor on the evaluation split."""
    predictions = model.predict(data.x_test)
    return {
        "rmse": float(np.sqrt(np.mean((data.y_test - predictions) ** 2))),
        "mae": float(mean_absolute_error(data.y_test, predictions)),
        "r2": float(r2_score(data.y_test, predictions)),
    }
