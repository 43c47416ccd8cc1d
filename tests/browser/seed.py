"""Mirror rows that give the main pages something to show, and those pages' paths."""

from governance.models import ModelVersion, Run
from tests.registry_ui import mirror_data


def seed_pages() -> tuple[list[Run], ModelVersion]:
    exp = mirror_data.experiment("credit-scoring")
    runs = []
    for index, (accuracy, optimizer) in enumerate([(0.81, "adam"), (0.86, "sgd"), (0.9, "adam")]):
        run = mirror_data.run(
            exp,
            f"trial-{index}",
            {"accuracy": accuracy, "loss": 1 - accuracy},
            {"optimizer": optimizer, "learning_rate": str(0.01 * (index + 1))},
            user_id="dana",
            git_commit="4f2a9c1",
        )
        mirror_data.history(run, "accuracy", [accuracy - 0.2, accuracy - 0.1, accuracy])
        mirror_data.dataset(run, "loans-2025", "9e1f0c", context="training")
        runs.append(run)
    model = mirror_data.registered_model("credit-scorer", risk_tier="high", aliases={"champion": 2})
    mirror_data.version(model, 1, runs[0], stage="Archived")
    version = mirror_data.version(
        model,
        2,
        runs[2],
        stage="Production",
        signature={
            "inputs": [{"type": "double", "name": "income", "required": True}],
            "outputs": [{"type": "long", "required": True}],
        },
    )
    return runs, version


def main_pages(runs: list[Run], version: ModelVersion) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("experiments", "/experiments/"),
        ("runs", f"/experiments/{runs[0].experiment_id}/runs/?sort=-metrics.accuracy"),
        ("run-detail", f"/runs/{runs[2].pk}/"),
        ("compare", "/runs/compare/?" + "&".join(f"run={r.pk}" for r in runs)),
        ("inventory", "/models/"),
        ("model-version", f"/models/versions/{version.pk}/"),
        ("reports", "/reports/"),
        ("report-dataset", "/reports/dataset-models/?dataset=9e1f0c"),
    ]
