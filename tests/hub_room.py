"""A workshop room on a real JupyterHub, on loopback (docs/full_room.md, every lesson): shared by tests/test_room.py
and benchmarks/bench_room.py.

The course package is built as a wheel and installed, not editable, into a separate "course environment" that the
hub's spawner starts each learner's server with (its other dependencies come from this environment through a .pth
line, as in tests/test_wheel.py; the learner-side extensions of the hub extra, nbgitpuller and jupyter-resource-usage,
are installed into it). The hub loads deploy/jupyterhub/jupyterhub_config.py unchanged, then swaps in a local-process
spawner, loopback ports and short culler timings; it serves HTTPS on loopback with a certificate made by
deploy/jupyterhub/make_cert.sh, and the notebooks reach learners from a course repository made by
deploy/jupyterhub/publish_notebooks.sh, as install.sh sets a room up. Each learner logs in with the shared workshop
password, asks the hub's API for a token, starts a server, and runs every lesson notebook cell by cell through a
kernel of that server (Jupyter server REST API and kernel websocket, through configurable-http-proxy), while a
sampler records the resident memory of each learner's server and kernels.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import math
import os
import secrets
import shutil
import signal
import site
import socket
import ssl
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import venv
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEPLOY = ROOT / "deploy" / "jupyterhub"
DEPLOY_CONFIG = DEPLOY / "jupyterhub_config.py"
# what the learners' servers need besides the course (the hub extra of pyproject.toml, learner side)
LEARNER_EXTENSIONS = ("nbgitpuller", "jupyter-resource-usage")
REQUIRE_ENV = "QWEN_LESSONS_REQUIRE_HUB"
CHP_ENV = "QWEN_LESSONS_CHP"
# where .ci/run installs configurable-http-proxy from npm
CHP_LOCAL = ROOT / ".ci" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
CELL_TIMEOUT_S = 300
INSTRUCTOR = "teacher"  # the hub's admin user (QWEN_HUB_ADMIN_USERS), who sees the admin page
START_TIMEOUT_S = 180
# First code run in every notebook: the package and its tables must come from the course environment's site-packages.
WHERE = """import sys as _sys
from pathlib import Path as _Path
import qwen_lessons as _ql
from qwen_lessons.data import data_dir as _data_dir
assert _Path(_sys.prefix) in _Path(_ql.__file__).parents, f"qwen_lessons from {_ql.__file__}, not {_sys.prefix}"
assert "site-packages" in _ql.__file__ and _Path(_sys.prefix) in _data_dir().parents, f"tables from {_data_dir()}"
print(_data_dir())"""
# Last code run: the kernel's own peak resident memory (VmHWM) and CPU seconds, as benchmarks/bench_notebooks.py.
USAGE = """import json as _json, resource as _resource
_usage = _resource.getrusage(_resource.RUSAGE_SELF)
_peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(_json.dumps({"peak_mib": _peak_kb / 1024, "cpu_s": _usage.ru_utime + _usage.ru_stime}))"""


def hub_required() -> bool:
    """True when a missing proxy must fail the run instead of skipping it (.ci/run sets the variable)."""
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0", "false", "no")


def find_chp() -> str | None:
    """configurable-http-proxy: $QWEN_LESSONS_CHP, else the copy .ci/run installs, else the PATH."""
    if os.environ.get(CHP_ENV):
        return os.environ[CHP_ENV] if Path(os.environ[CHP_ENV]).exists() else None
    if CHP_LOCAL.exists():
        return str(CHP_LOCAL)
    return shutil.which("configurable-http-proxy")


def lesson_notebooks() -> list[Path]:
    """Every numbered lesson notebook (the solutions are not run by learners with Run All)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_course_env(workdir: Path, wheel: Path | None = None) -> Path:
    """Install the package's wheel (built here unless given) into a fresh venv, not editable; return its python."""
    if wheel is None:
        wheels = workdir / "wheel"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
                       check=True, capture_output=True, text=True, timeout=600)
        (wheel,) = wheels.glob("qwen_lessons-*.whl")
    env_dir = workdir / "course-env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    fresh_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     check=True, capture_output=True, text=True, timeout=60).stdout.strip())
    # the dependencies (jupyterlab, jupyterhub, numpy...) from this environment; its editable qwen_lessons stays
    # invisible, because a .pth line adds a folder without running the .pth files inside it
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages(), *(p for p in sys.path if p.endswith("site-packages"))}
    (fresh_site / "course_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    # --prefix (with --ignore-installed: this environment's editable copy does not count), so the data files land
    # in the course environment too: the Voilà template of the course, the extensions' etc/jupyter files
    # (JupyterLab, the widgets' Lab extension, Voilà and nbconvert again, at this environment's versions: Lab's page
    # and static files, the templates and the server extensions' switches are such data files, and the learners'
    # /lab and /voila/render/ pages need them)
    from importlib.metadata import version

    again = [f"{name}=={version(name)}" for name in ("jupyterlab", "jupyterlab_widgets", "voila", "nbconvert")]
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--ignore-installed", "--quiet",
                    "--no-warn-script-location", "--prefix", str(env_dir), str(wheel),
                    *learner_extension_requirements(), *again], check=True, capture_output=True, text=True, timeout=300)
    return python


def learner_extension_requirements() -> list[str]:
    """The learner-side packages of pyproject.toml's hub extra, with their version floors."""
    import tomllib

    hub = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["hub"]
    found = [req for req in hub if req.split(">")[0].split("=")[0].strip() in LEARNER_EXTENSIONS]
    assert len(found) == len(LEARNER_EXTENSIONS), f"the hub extra lacks one of {LEARNER_EXTENSIONS}: {hub}"
    return found


def make_certificate(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made as install.sh makes one."""
    cert, key = workdir / "tls" / "hub.crt", workdir / "tls" / "hub.key"
    subprocess.run(["sh", str(DEPLOY / "make_cert.sh"), "127.0.0.1", str(cert), str(key), "2"], check=True,
                   capture_output=True, text=True, timeout=120)
    return cert, key


def publish_notebooks(notebooks: Path, repo: Path) -> str:
    """Commit a notebooks folder to the room's course repository, as the instructor does (publish_notebooks.sh)."""
    done = subprocess.run(["sh", str(DEPLOY / "publish_notebooks.sh"), str(notebooks), str(repo)], check=True,
                          capture_output=True, text=True, timeout=120)
    return done.stdout


@dataclass
class Hub:
    """A running hub: its public URL (the proxy), the test's admin token, and the process to stop."""

    proc: subprocess.Popen
    url: str
    admin_token: str
    password: str
    workdir: Path
    log: Path
    ca_file: Path  # the hub's self-signed certificate: every client here verifies TLS against it
    course_repo: Path
    admin_password: str  # the instructor's (INSTRUCTOR) password, as install.sh prints it
    known_pids: set = field(default_factory=set)

    @property
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def api(self, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method,
                                         headers={"Authorization": f"token {token or self.admin_token}"})
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.ssl_context) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else {})
        except urllib.error.HTTPError as error:
            return error.code, {"message": error.read().decode(errors="replace")[:500]}

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def start_hub(workdir: Path, course_python: Path, chp: str, cull_timeout: int | None = None,
              cull_every: int | None = None, kernel_cull_idle: int | None = None,
              kernel_cull_every: int | None = None) -> Hub:
    """Start JupyterHub with the deploy config on https://127.0.0.1; wait until its API answers. The server culler
    and each server's kernel culler keep the deploy config's timings unless given."""
    port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
    admin_token, password = secrets.token_hex(16), "room-" + secrets.token_hex(8)
    admin_password = secrets.token_hex(16)  # JupyterHub asks 32 characters or more of an admin password
    homes = workdir / "homes"
    homes.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(workdir)
    course_repo = workdir / "course.git"
    publish_notebooks(NOTEBOOKS, course_repo)
    config = workdir / "room_config.py"
    config.write_text(f"""c = get_config()  # noqa: F821
load_subconfig({str(DEPLOY_CONFIG)!r})  # noqa: F821 -- the deploy config, unchanged
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"  # local processes as this user: no systemd, no Unix accounts
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes / '{username}')!r}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{workdir / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(workdir / 'cookie_secret')!r}
c.JupyterHub.check_running_servers = False
c.Spawner.args = c.Spawner.args + {['--allow-root'] if os.geteuid() == 0 else []!r}  # CI runs as root; a real room's learners do not
# activity reaches the hub every 5 s (defaults: 300 s), so a 30 s culler sees busy learners as busy
c.JupyterHub.last_activity_interval = 5
c.Spawner.environment.update({{"JUPYTERHUB_ACTIVITY_INTERVAL": "5", "JUPYTER_PATH": {str(workdir / 'no-kernelspecs')!r}}})
c.JupyterHub.services.append({{"name": "room-test", "api_token": {admin_token!r}}})
c.JupyterHub.load_roles.append({{"name": "room-test", "services": ["room-test"],
                                 "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}})
""", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "QWEN_LESSONS_DATA")}
    env.update({"QWEN_HUB_PASSWORD": password, "QWEN_HUB_COURSE_PYTHON": str(course_python),
                "QWEN_HUB_ADMIN_USERS": INSTRUCTOR, "QWEN_HUB_ADMIN_PASSWORD": admin_password,
                "QWEN_HUB_COURSE_REPO": str(course_repo), "QWEN_HUB_IP": "127.0.0.1", "QWEN_HUB_PORT": str(port),
                "QWEN_HUB_SSL_CERT": str(cert), "QWEN_HUB_SSL_KEY": str(key)})
    for key, value in (("QWEN_HUB_CULL_TIMEOUT", cull_timeout), ("QWEN_HUB_CULL_EVERY", cull_every),
                       ("QWEN_HUB_KERNEL_CULL_IDLE", kernel_cull_idle), ("QWEN_HUB_KERNEL_CULL_EVERY", kernel_cull_every)):
        if value is not None:
            env[key] = str(value)
    log = workdir / "hub.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=workdir, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(proc, f"https://127.0.0.1:{port}", admin_token, password, workdir, log, cert, course_repo, admin_password)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{hub.url}/hub/api", timeout=5, context=hub.ssl_context) as response:
                if response.status == 200:
                    return hub
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_hub(hub)
            raise RuntimeError(f"JupyterHub did not start:\n{hub.log_tail()}")
        time.sleep(0.3)


def hub_processes(hub: Hub) -> list:
    """The hub and all its descendants (proxy, culler, learners' servers and kernels)."""
    import psutil

    try:
        root = psutil.Process(hub.proc.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


STOP_WAIT_S = 5


def stop_hub(hub: Hub) -> None:
    """Stop the hub (it stops the servers and the proxy), then kill whatever of its process tree is left."""
    import psutil

    hub.known_pids.update(p.pid for p in hub_processes(hub))
    if hub.proc.poll() is None:
        hub.proc.send_signal(signal.SIGTERM)
        try:  # a hub stopping a learner's server waits out its spawner's SIGINT/SIGTERM timeouts (the culler test's
            hub.proc.wait(STOP_WAIT_S)  # teardown waited 30 s on every run); nothing checks the shutdown, so kill then
        except subprocess.TimeoutExpired:
            pass
    for pid in hub.known_pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    if hub.proc.poll() is None:
        hub.proc.kill()
        hub.proc.wait(10)


class MemorySampler(threading.Thread):
    """Every `interval` s: resident memory of each learner's server plus its kernels, and of the hub's own processes."""

    def __init__(self, hub: Hub, interval: float = 0.5):
        super().__init__(daemon=True)
        self.hub, self.interval = hub, interval
        self.peak_mib: dict[str, float] = {}
        self.hub_peak_mib = 0.0
        # CPU seconds (user + system) each process had used when last seen: a process that ends between two samples
        # loses at most `interval` s of CPU; summed per owner they do not depend on the neighbours' load
        self._cpu_last: dict[int, tuple[str | None, float]] = {}
        self.load_1min: list[float] = []  # the machine's 1-minute load average at every sample
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        owners: dict[int, str | None] = {}
        while not self._stop_event.is_set():
            per_learner: dict[str, float] = {}
            hub_total = 0.0
            for process in hub_processes(self.hub):
                try:
                    if process.pid not in owners:
                        owners[process.pid] = process.environ().get("JUPYTERHUB_USER") or None  # services: ""
                    self.hub.known_pids.add(process.pid)
                    rss = process.memory_info().rss / 2**20
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                owner = owners[process.pid]
                self._cpu_last[process.pid] = (owner, times.user + times.system)
                if owner is None:
                    hub_total += rss
                else:
                    per_learner[owner] = per_learner.get(owner, 0.0) + rss
            for name, mib in per_learner.items():
                self.peak_mib[name] = max(self.peak_mib.get(name, 0.0), mib)
            self.hub_peak_mib = max(self.hub_peak_mib, hub_total)
            self.load_1min.append(os.getloadavg()[0])
            self._stop_event.wait(self.interval)

    def cpu_s(self) -> dict[str | None, float]:
        """CPU seconds used per learner (None: the hub, proxy and culler), every process they ever had."""
        totals: dict[str | None, float] = {}
        for owner, seconds in self._cpu_last.values():
            totals[owner] = totals.get(owner, 0.0) + seconds
        return totals

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


@dataclass
class LearnerRun:
    """What one learner experienced: seconds from asking for a server, and per-notebook results."""

    name: str
    server_start_s: float = 0.0
    first_cell_s: float = 0.0  # from asking for a server to the first notebook cell's reply
    run_all_s: float = 0.0  # every lesson notebook, top to bottom, one after the other
    notebooks: dict = field(default_factory=dict)  # notebook -> {"seconds", "errors", "peak_mib", "cpu_s"}
    reconnects: list = field(default_factory=list)  # kernel websockets that closed mid-cell and were opened again
    cell_s: list = field(default_factory=list)  # every lesson cell's latency (a staggered room)
    failure: str = ""

    @property
    def errors(self) -> list[str]:
        found = [f"{self.name}: {self.failure}"] if self.failure else []
        return found + [f"{self.name} {nb}: {err}" for nb, result in self.notebooks.items() for err in result["errors"]]


def login(hub: Hub, name: str, password: str | None = None) -> tuple[str, urllib.request.OpenerDirector]:
    """Log in on the hub's login form with the shared password; return an API token the hub gives that login and
    the logged-in browser (cookies, no redirects followed)."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect,
                                         urllib.request.HTTPSHandler(context=hub.ssl_context))
    opener.open(f"{hub.url}/hub/login", timeout=60).read()
    xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
    form = urllib.parse.urlencode({"username": name, "password": password or hub.password, "_xsrf": xsrf}).encode()
    try:
        opener.open(f"{hub.url}/hub/login?next=/hub/home", data=form, timeout=60)
        raise RuntimeError(f"{name}: the login form did not redirect (wrong password?)")
    except urllib.error.HTTPError as error:
        if error.code != 302:
            raise RuntimeError(f"{name}: login answered {error.code}") from None
    opener.open(f"{hub.url}/hub/home", timeout=60).read()  # the page a browser lands on sets the user's xsrf cookie
    xsrf = [cookie.value for cookie in jar if cookie.name == "_xsrf"][-1]
    request = urllib.request.Request(f"{hub.url}/hub/api/users/{name}/tokens", method="POST",
                                     data=json.dumps({"note": "room test", "expires_in": 3600}).encode(),
                                     headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"})
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read())["token"], opener


def start_server(hub: Hub, name: str, token: str) -> None:
    status, body = hub.api("POST", f"/users/{name}/server", token)
    if status not in (201, 202):
        raise RuntimeError(f"{name}: starting the server answered {status}: {body}")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        status, body = hub.api("GET", f"/users/{name}", token)
        server = body.get("servers", {}).get("", {})
        if server.get("ready"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{name}: server not ready after {START_TIMEOUT_S} s")


def code_cells(notebook: Path) -> int:
    """How many code cells a notebook has (what run_notebook runs, besides its own first and last)."""
    return sum(cell["cell_type"] == "code" for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"])


def decode_message(raw: str | bytes) -> dict:
    """A kernel websocket message: JSON text, or (with binary buffers, e.g. a widget's image) Jupyter's binary frame:
    the buffer count, then big-endian 4-byte offsets, the JSON message first."""
    if isinstance(raw, str):
        return json.loads(raw)
    count = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(count)] + [len(raw)]
    return json.loads(raw[offsets[0]:offsets[1]].decode("utf-8"))


async def run_notebook(hub: Hub, name: str, token: str, notebook: Path, on_first_reply, keep_open: bool = False,
                       reconnects: list | None = None, think=None) -> dict:
    """Open the notebook as JupyterLab does (a session), then run its code cells in order over the kernel websocket.

    A websocket that closes while a cell runs is opened again with the same session id, as JupyterLab reconnects:
    the Jupyter server keeps the kernel's messages for that session meanwhile and replays them. Each reconnection is
    appended to `reconnects`; a kernel that is gone (died, culled) still fails the notebook. With `keep_open` the
    session stays when the notebook is done, like a tab left open (or closed: JupyterLab keeps its kernel either way).
    `think()`, when given, is the seconds the learner reads before each cell after the first (a staggered room).
    """
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.url}/user/{name}"
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    tls = {"ca_certs": str(hub.ca_file)}
    client = AsyncHTTPClient()
    path = f"qwen-lessons/{notebook.name}"
    reply = await client.fetch(f"{base}/api/sessions", method="POST", headers=headers, request_timeout=120,
                               body=json.dumps({"path": path, "name": notebook.name, "type": "notebook",
                                                "kernel": {"name": "python3"}}), **tls)
    session = json.loads(reply.body)
    kernel_id = session["kernel"]["id"]
    ws_url = base.replace("https://", "wss://") + f"/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"

    async def connect():
        return await websocket_connect(HTTPRequest(ws_url, headers=headers, request_timeout=120, **tls),
                                       max_message_size=2**27)

    ws = await connect()
    cells = [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
             for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]
    errors: list[str] = []
    cell_s: list[float] = []  # per cell: from sending it to the kernel's idle after it
    last_stdout = ""
    start = time.monotonic()
    try:
        for index, code in enumerate([WHERE, *cells, USAGE]):
            if think is not None and 1 < index <= len(cells):
                await asyncio.sleep(think())
            sent = time.monotonic()
            msg_id = uuid.uuid4().hex
            await ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": name, "session": uuid.uuid4().hex,
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            stdout = ""
            while not (replied and idle):
                raw = await asyncio.wait_for(ws.read_message(), CELL_TIMEOUT_S)
                if raw is None:
                    closed = f"{notebook.name} cell {index}: websocket closed ({ws.close_code}, {ws.close_reason!r})"
                    if reconnects is None or len([r for r in reconnects if r.startswith(notebook.name)]) >= 3:
                        raise RuntimeError(f"the kernel websocket closed (server stopped or kernel died): {closed}")
                    reconnects.append(closed)
                    ws = await connect()
                    continue
                message = decode_message(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["header"]["msg_type"]
                if kind == "error":
                    errors.append(f"cell {index}: {message['content']['ename']}: {message['content']['evalue']}")
                elif kind == "stream" and message["content"].get("name") == "stdout":
                    stdout += message["content"]["text"]
                elif kind == "execute_reply":
                    replied = True
                    if message["content"]["status"] != "ok" and not errors:
                        errors.append(f"cell {index}: {message['content']['status']}")
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    idle = True
            last_stdout = stdout
            cell_s.append(time.monotonic() - sent)
            if index == 1:
                on_first_reply()
            if errors:
                break
    finally:
        ws.close()
        if not keep_open:
            await client.fetch(f"{base}/api/sessions/{session['id']}", method="DELETE", headers=headers,
                               request_timeout=60, raise_error=False, **tls)
    usage = json.loads(last_stdout.strip().splitlines()[-1]) if not errors else {"peak_mib": 0.0, "cpu_s": 0.0}
    return {"seconds": time.monotonic() - start, "errors": errors, "kernel_id": kernel_id, "session_id": session["id"],
            "cell_s": cell_s[1:-1], **usage}  # the lesson's own cells, without the harness's first and last


def close_session(hub: Hub, name: str, token: str, session_id: str) -> None:
    """Shut a notebook's session and kernel down, as closing a tab with "Shut down kernel" does."""
    request = urllib.request.Request(f"{hub.url}/user/{name}/api/sessions/{session_id}", method="DELETE",
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=120, context=hub.ssl_context):
            pass
    except urllib.error.HTTPError as error:
        if error.code != 404:  # 404: the kernel culler shut it down first, and its session went with it
            raise


def server_get(hub: Hub, name: str, token: str, path: str) -> bytes:
    """GET a path of a learner's server through the hub (e.g. api/kernels, api/metrics/v1, git-pull/api?...)."""
    request = urllib.request.Request(f"{hub.url}/user/{name}/{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=120, context=hub.ssl_context) as response:
        return response.read()


def run_learner(hub: Hub, name: str, notebooks: list[Path], barrier: threading.Barrier, result: LearnerRun) -> None:
    """One learner: log in, wait for the whole room, start the server, run every notebook in turn."""
    try:
        token, _ = login(hub, name)
        barrier.wait(120)
        asked = time.monotonic()
        start_server(hub, name, token)
        result.server_start_s = time.monotonic() - asked

        def first_reply():
            if not result.first_cell_s:
                result.first_cell_s = time.monotonic() - asked

        async def all_notebooks():
            for notebook in notebooks:
                result.notebooks[notebook.name] = await run_notebook(hub, name, token, notebook, first_reply,
                                                                     reconnects=result.reconnects)

        began = time.monotonic()
        asyncio.run(all_notebooks())
        result.run_all_s = time.monotonic() - began
    except Exception as error:  # reported with the learner's name; the test fails on it
        result.failure = f"{type(error).__name__}: {error}"
        if isinstance(error, threading.BrokenBarrierError):
            return
        barrier.abort()


@dataclass
class RoomRun:
    learners: list[LearnerRun]
    peak_mib: dict[str, float]  # learner -> peak resident memory of their server + kernels
    hub_peak_mib: float  # hub + proxy + culler
    wall_s: float
    cpu_s: dict = field(default_factory=dict)  # learner (None: hub + proxy + culler) -> CPU seconds used
    load_before: str = ""  # /proc/loadavg when the room began: the neighbours' load on a shared machine
    load_during: list = field(default_factory=list)  # the 1-minute load average at every sample, this room included

    @property
    def errors(self) -> list[str]:
        return [error for learner in self.learners for error in learner.errors]


def run_room(hub: Hub, learners: int, notebooks: list[Path] | None = None, prefix: str = "learner",
             timeout_s: float = 1500) -> RoomRun:
    """`learners` learners at once, each running every lesson notebook through their own server; a learner still
    running after `timeout_s` is reported as failed (the hub's teardown then stops their processes)."""
    notebooks = lesson_notebooks() if notebooks is None else notebooks
    results = [LearnerRun(f"{prefix}{index + 1}") for index in range(learners)]
    barrier = threading.Barrier(learners)
    sampler = MemorySampler(hub)
    sampler.start()
    began = time.monotonic()
    threads = [threading.Thread(target=run_learner, args=(hub, r.name, notebooks, barrier, r), daemon=True)
               for r in results]
    return _finish_room(threads, results, sampler, began, timeout_s)


@dataclass(frozen=True)
class Staggered:
    """A realistic room (issue 30): learners arrive spread over `spread_s` (rows logging in during the introduction),
    run each lesson cell by cell with about `think_s` of reading between cells, and keep `open_lessons` finished
    lessons open besides the one they work in (when a lesson is done, the oldest one's kernel is shut down), so
    `open_lessons` + 1 kernels run while a lesson runs. The same seed gives the same room."""

    spread_s: float = 120.0
    think_s: float = 4.0
    open_lessons: int = 2
    seed: int = 30

    def arrivals(self, learners: int) -> list[float]:
        """Seconds after the start at which each learner asks for a server: one per slot of the spread, at a random
        point of the slot."""
        import random

        rng, slot = random.Random(self.seed), self.spread_s / learners
        return [(index + rng.random()) * slot for index in range(learners)]

    def thinker(self, learner: int):
        """The learner's reading times between cells: half to one and a half times think_s."""
        import random

        rng = random.Random(self.seed * 1000 + learner)
        return lambda: self.think_s * (0.5 + rng.random())

    def reading_s(self, learner: int, notebooks: list[Path]) -> float:
        """The learner's reading time over `notebooks` (every pause before a cell after the first of each notebook, as
        run_notebook draws them): their time in the room at the plan's pace, if the machine never made them wait."""
        think = self.thinker(learner)
        pauses = sum(max(0, code_cells(notebook) - 1) for notebook in notebooks)
        return sum(think() for _ in range(pauses))


def run_staggered_learner(hub: Hub, name: str, notebooks: list[Path], plan: Staggered, index: int, arrive_at: float,
                          result: LearnerRun) -> None:
    try:
        token, _ = login(hub, name)
        time.sleep(max(0.0, arrive_at - time.monotonic()))
        asked = time.monotonic()
        start_server(hub, name, token)
        result.server_start_s = time.monotonic() - asked

        def first_reply():
            if not result.first_cell_s:
                result.first_cell_s = time.monotonic() - asked

        async def lesson_by_lesson():
            open_sessions: list[str] = []
            think = plan.thinker(index)
            for notebook in notebooks:
                ran = await run_notebook(hub, name, token, notebook, first_reply, keep_open=True,
                                         reconnects=result.reconnects, think=think)
                result.notebooks[notebook.name] = ran
                result.cell_s.extend(ran["cell_s"])
                open_sessions.append(ran["session_id"])
                while len(open_sessions) > plan.open_lessons:
                    await asyncio.to_thread(close_session, hub, name, token, open_sessions.pop(0))
                if ran["errors"]:
                    break

        began = time.monotonic()
        asyncio.run(lesson_by_lesson())
        result.run_all_s = time.monotonic() - began
    except Exception as error:  # reported with the learner's name
        result.failure = f"{type(error).__name__}: {error}"


def run_staggered_room(hub: Hub, learners: int, plan: Staggered, notebooks: list[Path] | None = None,
                       prefix: str = "staggered", timeout_s: float = 3600) -> RoomRun:
    """`learners` learners arriving as `plan` spreads them, each going through the lessons cell by cell."""
    notebooks = lesson_notebooks() if notebooks is None else notebooks
    results = [LearnerRun(f"{prefix}{index + 1}") for index in range(learners)]
    sampler = MemorySampler(hub)
    sampler.start()
    began = time.monotonic()
    threads = [threading.Thread(target=run_staggered_learner, daemon=True,
                                args=(hub, r.name, notebooks, plan, index, began + offset, r))
               for index, (r, offset) in enumerate(zip(results, plan.arrivals(learners), strict=True))]
    return _finish_room(threads, results, sampler, began, timeout_s)


def _finish_room(threads, results, sampler, began: float, timeout_s: float) -> RoomRun:
    """Start the learners' threads, wait for them up to timeout_s in all, mark the ones still running as failed
    and return the room's results with the sampler's peaks, CPU seconds and load averages."""
    load_before = Path("/proc/loadavg").read_text().strip()
    for thread in threads:
        thread.start()
    limit = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(1.0, limit - time.monotonic()))
    for result, thread in zip(results, threads, strict=True):
        if thread.is_alive():
            result.failure = result.failure or "did not finish in time"
    sampler.stop()
    return RoomRun(results, dict(sampler.peak_mib), sampler.hub_peak_mib, time.monotonic() - began,
                   sampler.cpu_s(), load_before, list(sampler.load_1min))


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p95: fraction 0.95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]


def wait_until_culled(hub: Hub, names: list[str], timeout: float) -> dict[str, float]:
    """Poll the hub's API until every named learner has no running server; return when each was seen stopped."""
    start, stopped = time.monotonic(), {}
    while time.monotonic() - start < timeout and len(stopped) < len(names):
        for name in names:
            if name not in stopped:
                status, body = hub.api("GET", f"/users/{name}")
                if status == 200 and not body.get("servers"):
                    stopped[name] = time.monotonic() - start
        time.sleep(1)
    return stopped
