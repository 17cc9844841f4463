"""JupyterHub configuration for a qwen-lessons workshop room on one server (docs/full_room.md, every lesson).

Run it as root on the server, in the environment where jupyterhub is installed:

    QWEN_HUB_PASSWORD='a-long-room-password' jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Every setting a room needs is read from an environment variable with a workshop default:

QWEN_HUB_PASSWORD       the shared workshop password written on the board (at least 8 characters; required)
QWEN_HUB_ADMIN_USERS    comma-separated instructor names; they log in with QWEN_HUB_ADMIN_PASSWORD
QWEN_HUB_COURSE_PYTHON  the Python of the course environment: `pip install .` of this repository (not -e) plus
                        binder/requirements.txt and jupyterhub; default: the hub's own Python
QWEN_HUB_NOTEBOOKS      the notebooks folder copied into each learner's home at first start (default: ../../notebooks)
QWEN_HUB_MEM_LIMIT      per-learner memory limit (default 1G: the limit under docs/full_room.md's table)
QWEN_HUB_CPU_LIMIT      per-learner CPU limit in cores (default 1)
QWEN_HUB_CULL_TIMEOUT   seconds of inactivity before jupyterhub-idle-culler stops a server (default 3600: keep
                        servers through the breaks)
QWEN_HUB_CULL_EVERY     seconds between two culler checks (default 300)
QWEN_HUB_SPAWNER        spawner class (default systemdspawner.SystemdSpawner with dynamic users, which enforces the
                        memory and CPU limits with systemd; JupyterHub's local-process spawners do not enforce them)

tests/test_room.py loads this file unchanged and replaces only the spawner (a local-process one: no systemd in CI),
the ports and the culler timings.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
COURSE_PYTHON = os.environ.get("QWEN_HUB_COURSE_PYTHON", sys.executable)
NOTEBOOKS = os.environ.get("QWEN_HUB_NOTEBOOKS", str(HERE.parent.parent / "notebooks"))
MEM_LIMIT = os.environ.get("QWEN_HUB_MEM_LIMIT", "1G")
CPU_LIMIT = float(os.environ.get("QWEN_HUB_CPU_LIMIT", "1"))
CULL_TIMEOUT = int(os.environ.get("QWEN_HUB_CULL_TIMEOUT", "3600"))
CULL_EVERY = int(os.environ.get("QWEN_HUB_CULL_EVERY", "300"))
# the folder each learner finds in their home, and the page their JupyterLab opens on
LEARNER_FOLDER = "qwen-lessons"

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

# The learner's server runs in the course environment. A first start copies the notebooks into the learner's home
# (never over an existing copy, so a restarted server keeps the learner's work), then starts the Jupyter server.
c.Spawner.cmd = [
    "/bin/sh", "-c",
    f'[ -e "$HOME/{LEARNER_FOLDER}" ] || cp -r "$QWEN_HUB_NOTEBOOKS" "$HOME/{LEARNER_FOLDER}"; '
    'exec "$0" -m jupyterhub.singleuser "$@"',
    COURSE_PYTHON,
]
c.Spawner.environment = {"QWEN_HUB_NOTEBOOKS": NOTEBOOKS}
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
