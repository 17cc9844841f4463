"""deploy/jupyterhub/install.sh (issue 30, deploy/README.md): the one-server install an instructor runs on a fresh
Debian or Ubuntu machine, run here into a fresh root-like folder (--root).

The parts that need the machine itself are replaced by flags, each printing its reason: apt-get (--no-apt: this
machine has the system packages already) and systemd (not running here: the unit is written, not started). The rest
runs for real: the course environment from the course wheel with the hub's extra, configurable-http-proxy from npm,
the course repository, a self-signed certificate, the settings file and the unit. Then the hub is started as the
unit starts it (its ExecStart with its EnvironmentFile) and must answer over HTTPS, verified against the certificate
the script made, with the spawner the configuration names (SystemdSpawner) imported.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "deploy" / "jupyterhub" / "install.sh"
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def run_install(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "http"], "--port must be a number from 1 to 65535, not 'http'"),
    (["--port", "70000"], "--port must be a number from 1 to 65535, not 70000"),
    (["--cert", "/tmp/x.crt"], "--cert needs --key"),
    (["--key", "/tmp/x.key"], "--key needs --cert"),
    (["--password", "short"], "--password must have at least 8 characters"),
    (["--colour", "blue"], "unknown option --colour"),
])
def test_bad_options_are_refused_before_anything_is_installed(args, message, tmp_path):
    result = run_install("--root", str(tmp_path / "root"), "--no-apt", *args)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert not (tmp_path / "root" / "opt").exists()


def test_the_config_names_a_spawner_that_imports():
    """The spawner class the configuration defaults to is installable (the hub extra and the test extra carry it)."""
    from jupyterhub.app import JupyterHub

    env = {"QWEN_HUB_PASSWORD": "a-room-password"}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        app = JupyterHub()
        app.load_config_file(str(CONFIG))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    from systemdspawner import SystemdSpawner

    assert app.spawner_class is SystemdSpawner
    assert app.config.SystemdSpawner.dynamic_users is True
    assert app.bind_url == "http://:8000"  # no certificate given: plain HTTP on 8000


@pytest.mark.slow  # pip installs the course environment (about a minute on a quiet machine with pip's cache warm)
@pytest.mark.room  # once per CI run, not again at the floors (.ci/run)
def test_install_into_a_fresh_root_then_the_hub_serves_https(course_wheel, tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm not found: install.sh installs configurable-http-proxy with it (apt-get install npm)")
    root, port = tmp_path / "root", free_port()
    result = run_install("--root", str(root), "--no-apt", "--hostname", "127.0.0.1", "--port", str(port),
                         "--wheel", str(course_wheel), "--admin", "teacher", timeout=1200)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "1/7 system packages: skipped (--no-apt)" in out
    assert "not started (systemd is not running here" in out or "not started (--root" in out
    assert f"The room:  https://127.0.0.1:{port}/" in out
    password = out.split("Password:  ", 1)[1].split()[0]
    admin_password = out.split("Admin:     teacher   password: ", 1)[1].split()[0]
    assert len(password) >= 8 and len(admin_password) >= 32  # JupyterHub's shared-password rules

    prefix, etc = root / "opt" / "qwen-lessons", root / "etc" / "qwen-lessons"
    settings = dict(line.split("=", 1) for line in (etc / "hub.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert settings["QWEN_HUB_PASSWORD"] == password and settings["QWEN_HUB_PORT"] == str(port)
    assert (etc / "hub.env").stat().st_mode & 0o077 == 0, "the password file is readable by root only"
    unit = (root / "etc" / "systemd" / "system" / "qwen-lessons-hub.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart=")).removeprefix("ExecStart=")
    assert f"EnvironmentFile={etc / 'hub.env'}" in unit and "WantedBy=multi-user.target" in unit
    workdir = next(line for line in unit.splitlines() if line.startswith("WorkingDirectory="))
    assert (prefix / "course.git" / "refs" / "heads" / "main").exists()
    assert (prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy").exists()

    # the hub as the unit starts it; on loopback, and with its internal ports free for a parallel run
    env = {"PATH": settings["PATH"], "HOME": str(tmp_path), **settings, "QWEN_HUB_IP": "127.0.0.1"}
    log = tmp_path / "hub.log"
    command = [*exec_start.split(), f"--JupyterHub.hub_port={free_port()}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"]
    with open(log, "wb") as out_file:
        hub = subprocess.Popen(command, cwd=workdir.removeprefix("WorkingDirectory="), env=env, stdout=out_file,
                               stderr=subprocess.STDOUT, start_new_session=True)
    trusted = ssl.create_default_context(cafile=settings["QWEN_HUB_SSL_CERT"])
    try:
        deadline, answer = time.monotonic() + 120, None
        while answer is None and hub.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/hub/login", context=trusted, timeout=10) as r:
                    answer = r.read().decode()
            except OSError:
                time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert answer is not None, text[-4000:]
        assert 'name="password"' in answer
        assert settings["QWEN_HUB_ADMIN_PASSWORD"] == admin_password and settings["QWEN_HUB_ADMIN_USERS"] == "teacher"
        assert "Using Spawner: systemdspawner.systemdspawner.SystemdSpawner" in text, text[-4000:]
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # TLS, not plain HTTP
            urllib.request.urlopen(f"https://127.0.0.1:{port}/hub/login", context=ssl.create_default_context(),
                                   timeout=10)
    finally:
        if hub.poll() is None:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait(10)
