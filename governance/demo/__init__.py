"""The demo: a local MLflow server filled with realistic work, synced and served.

Only ``populate`` imports ``mlflow`` and scikit-learn. House style keeps every
runtime import of ``mlflow`` in ``governance.mlflow_gateway``; this package is not
runtime. It backs the ``populate_demo_mlflow`` and ``run_demo`` commands, needs the
``demo`` extra (the full MLflow and scikit-learn), and nothing in the dashboard, the
sync, the tasks or the API imports it.
"""
