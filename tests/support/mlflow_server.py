"""Start and stop a real MLflow tracking server on a free loopback port."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.services import free_port

MLFLOW_BIN = Path(sys.executable).with_name("mlflow")


@dataclass
class MlflowServer:
    """One ``mlflow server`` process with a SQLite store in its own folder."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mlflow-test-")))
    port: int = field(default_factory=free_port)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        env = dict(os.environ)
        env.update(
            {
                # MLflow 3 starts a pool of job-runner processes by default; the tests
                # use no server-side jobs, and two cores cannot spare them.
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                # Deliveries to a loopback receiver need these; measured on 3.17.
                "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
                "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
                "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": env.get(
                    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY",
                    "kY7p1hJq3mS0n8aF2wXc5vB9tR4eU6iO1lZ3dG7hK0s=",
                ),
            }
        )
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(MLFLOW_BIN),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.root / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited early; see {self.root / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"mlflow server did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
