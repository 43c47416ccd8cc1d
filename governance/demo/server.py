"""Start and stop the demo's own MLflow tracking server on a loopback port."""

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)


class DemoServerError(Exception):
    """The demo's MLflow server could not be started."""


@dataclass
class DemoMlflowServer:
    """One ``mlflow server`` child process whose store lives in ``root``."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def stop(self) -> None:
        """Stop the server and everything it spawned; safe to call twice."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        (self.root / "server.pid").unlink(missing_ok=True)
        logger.info("Demo MLflow server %s stopped", self.uri)


def port_is_free(port: int) -> bool:
    """Say whether nothing listens on ``port`` of the loopback interface."""
    with socket.socket() as sock:
        # Like the server will: a closed connection lingering in TIME_WAIT is no obstacle.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path, preferred_port: int, *, timeout: float = 120.0) -> DemoMlflowServer:
    """Start ``mlflow server`` with a SQLite store under ``root`` and wait until it answers."""
    root.mkdir(parents=True, exist_ok=True)
    _stop_leftover(root)
    port = preferred_port if port_is_free(preferred_port) else free_port()
    env = dict(os.environ)
    env.update(
        {
            # Deliveries of registry webhooks to a loopback receiver need these.
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
            "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": _encryption_key(root),
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }
    )
    # The dashboard's own settings must not leak into MLflow's server process.
    env.pop("DATABASE_URL", None)
    log = (root / "server.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group, so stopping it also stops the workers it forks.
        start_new_session=True,
    )
    log.close()
    (root / "server.pid").write_text(str(process.pid))
    server = DemoMlflowServer(root=root, port=port, process=process)
    try:
        _wait_until_healthy(server, timeout)
    except DemoServerError:
        server.stop()
        raise
    logger.info("Demo MLflow server %s started with pid %d", server.uri, process.pid)
    return server


def _wait_until_healthy(server: DemoMlflowServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise DemoServerError(f"mlflow server exited early; see {server.log_path}")
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise DemoServerError(f"mlflow server did not answer within {timeout:.0f} s")


def _encryption_key(root: Path) -> str:
    """Return the key MLflow encrypts webhook secrets with, kept beside its store."""
    path = root / "webhook-encryption.key"
    if not path.exists():
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _stop_leftover(root: Path) -> None:
    """Stop a server an earlier demo left running on the same store."""
    pid_file = root / "server.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text())
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (ValueError, OSError):
        pid_file.unlink(missing_ok=True)
        return
    if b"mlflow" in command_line and str(root).encode() in command_line:
        logger.warning("Stopped a leftover demo MLflow server with pid %d", pid)
        _signal_group(pid, signal.SIGTERM)
        time.sleep(1)
    pid_file.unlink(missing_ok=True)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)
