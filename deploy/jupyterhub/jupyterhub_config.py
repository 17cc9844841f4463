"""JupyterHub configuration for a qwen-lessons workshop room on one server (docs/full_room.md, every lesson).

deploy/jupyterhub/install.sh installs it on a fresh Debian or Ubuntu server with everything it needs (the course
environment, configurable-http-proxy, systemd unit, TLS certificate); deploy/README.md is the instructor's runbook.
By hand, as root, in the environment where jupyterhub is installed:

    QWEN_HUB_PASSWORD='a-long-room-password' jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Every setting a room needs is read from an environment variable with a workshop default (install.sh writes them to
/etc/qwen-lessons/hub.env, which the systemd unit reads):

QWEN_HUB_PASSWORD       the shared workshop password written on the board (at least 8 characters; required)
QWEN_HUB_ADMIN_USERS    comma-separated instructor names; they log in with QWEN_HUB_ADMIN_PASSWORD and see JupyterHub's
                        admin page (/hub/admin: who is running, stop or start a learner's server)
QWEN_HUB_COURSE_PYTHON  the Python of the course environment: `pip install .[hub]` of this repository (not -e);
                        default: the hub's own Python
QWEN_HUB_COURSE_REPO    the git repository of the notebooks (deploy/jupyterhub/publish_notebooks.sh makes and updates
                        it); every server start pulls it into the learner's home with nbgitpuller, keeping their edits
QWEN_HUB_IP, QWEN_HUB_PORT  where the hub listens (default: every address; port 443 with TLS, else 8000)
QWEN_HUB_SSL_CERT, QWEN_HUB_SSL_KEY  PEM certificate (full chain) and key: the hub serves HTTPS (install.sh makes a
                        self-signed pair when the instructor has none)
QWEN_HUB_MEM_LIMIT      per-learner memory limit (default 1G: the limit under docs/full_room.md's table)
QWEN_HUB_CPU_LIMIT      per-learner CPU limit in cores (default 1)
QWEN_HUB_KERNEL_CULL_IDLE  seconds a kernel may stay idle before its learner's server shuts it down (default 1200:
                        longer than a break; the kernels of lessons a learner has moved on from do not pile up)
QWEN_HUB_KERNEL_CULL_EVERY  seconds between two kernel-culling checks in each server (default 60)
QWEN_HUB_CULL_TIMEOUT   seconds of inactivity before jupyterhub-idle-culler stops a server (default 3600: keep
                        servers through the breaks)
QWEN_HUB_CULL_EVERY     seconds between two culler checks (default 300)
QWEN_HUB_SPAWNER        spawner class (default systemdspawner.SystemdSpawner with dynamic users, which enforces the
                        memory and CPU limits with systemd; JupyterHub's local-process spawners do not enforce them)

tests/test_room.py loads this file unchanged and replaces only the spawner (a local-process one: no systemd in CI),
the ports and the culler timings; tests/test_install.py loads it as install.sh leaves it.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file

COURSE_PYTHON = os.environ.get("QWEN_HUB_COURSE_PYTHON", sys.executable)
COURSE_REPO = os.environ.get("QWEN_HUB_COURSE_REPO", "/opt/qwen-lessons/course.git")
MEM_LIMIT = os.environ.get("QWEN_HUB_MEM_LIMIT", "1G")
CPU_LIMIT = float(os.environ.get("QWEN_HUB_CPU_LIMIT", "1"))
CULL_TIMEOUT = int(os.environ.get("QWEN_HUB_CULL_TIMEOUT", "3600"))
CULL_EVERY = int(os.environ.get("QWEN_HUB_CULL_EVERY", "300"))
KERNEL_CULL_IDLE = int(os.environ.get("QWEN_HUB_KERNEL_CULL_IDLE", "1200"))
KERNEL_CULL_EVERY = int(os.environ.get("QWEN_HUB_KERNEL_CULL_EVERY", "60"))
SSL_CERT = os.environ.get("QWEN_HUB_SSL_CERT", "")
SSL_KEY = os.environ.get("QWEN_HUB_SSL_KEY", "")
PORT = int(os.environ.get("QWEN_HUB_PORT", "443" if SSL_CERT else "8000"))
IP = os.environ.get("QWEN_HUB_IP", "")
# the folder each learner finds in their home, and the page their JupyterLab opens on
LEARNER_FOLDER = "qwen-lessons"

# Where learners connect: HTTPS when a certificate is given (the proxy terminates TLS; the hub, the proxy and the
# learners' servers talk to each other on loopback).
if SSL_CERT:
    c.JupyterHub.ssl_cert = SSL_CERT
    c.JupyterHub.ssl_key = SSL_KEY
c.JupyterHub.bind_url = f"{'https' if SSL_CERT else 'http'}://{IP}:{PORT}"

# A room: one password on the board, any name. Names are not checked, so ask learners for a name they will reuse
# after a break (the same name finds the same server and files).
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["QWEN_HUB_PASSWORD"]
admins = [name.strip() for name in os.environ.get("QWEN_HUB_ADMIN_USERS", "").split(",") if name.strip()]
if admins:
    c.Authenticator.admin_users = set(admins)
    c.SharedPasswordAuthenticator.admin_password = os.environ["QWEN_HUB_ADMIN_PASSWORD"]
c.Authenticator.allow_all = True

c.JupyterHub.spawner_class = os.environ.get("QWEN_HUB_SPAWNER", "systemdspawner.SystemdSpawner")
if c.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner":
    c.SystemdSpawner.dynamic_users = True  # no Unix account per learner

# The learner's server runs in the course environment. Each start first pulls the course repository into the
# learner's home with nbgitpuller: the first start clones it, later starts (and the git-pull link of deploy/README.md,
# mid-workshop) merge the instructor's updates, keeping the learner's own edits. Then the Jupyter server starts.
c.Spawner.cmd = [
    "/bin/sh", "-c",
    f'"$0" -m nbgitpuller.pull "$QWEN_HUB_COURSE_REPO" main "$HOME/{LEARNER_FOLDER}" >/dev/null; '
    'exec "$0" -m jupyterhub.singleuser "$@"',
    COURSE_PYTHON,
]
# Kernels do not pile up: a learner who moves from lesson to lesson leaves each finished lesson's kernel idle, and
# JupyterLab keeps a closed tab's kernel running. Each server shuts down kernels idle for KERNEL_CULL_IDLE seconds,
# connected or not (cull_connected: an open tab left behind holds a kernel as surely as a closed one; longer than a
# break, so the current lesson's kernel survives it). A busy kernel is never culled (cull_busy stays False).
c.Spawner.args = [
    f"--MappingKernelManager.cull_idle_timeout={KERNEL_CULL_IDLE}",
    f"--MappingKernelManager.cull_interval={KERNEL_CULL_EVERY}",
    "--MappingKernelManager.cull_connected=True",
    # the learners' server settings beside this file: Voilà's page (the calculators app) loads nothing from outside
    f"--config={Path(__file__).with_name('learner_server_config.py')}",
]
# publish_notebooks.sh writes learners.gitconfig: it names the repository safe for learners' (other) users
c.Spawner.environment = {"QWEN_HUB_COURSE_REPO": COURSE_REPO, "GIT_CONFIG_SYSTEM": f"{COURSE_REPO}/learners.gitconfig"}
c.Spawner.default_url = f"/lab/tree/{LEARNER_FOLDER}/00_start_here.ipynb"
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.cpu_limit = CPU_LIMIT
# A room's start-up storm: many servers start at once and each imports JupyterLab; give them time.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.concurrent_spawn_limit = 20

# Stop servers nobody has used for CULL_TIMEOUT seconds (their memory comes back); the learner's files stay.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_TIMEOUT}",
                    f"--cull-every={CULL_EVERY}"],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
