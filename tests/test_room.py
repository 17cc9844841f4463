"""A workshop room on JupyterHub (issues 17 and 30; docs/full_room.md, every lesson): the hub of deploy/jupyterhub/
on loopback over HTTPS, with configurable-http-proxy and a local-process spawner, learners logging in with the shared
password and running every lesson notebook at the same time through their own servers' kernels; then, on a hub with
short culler timings: one learner opening every lesson in turn while each server's kernel culler shuts down the
kernels left behind, a corrected notebook reaching a running server without losing the learner's edits, the Voilà
app and JupyterLab in Chromium requesting nothing outside the machine, a small staggered room (the benchmark's
realistic workload), and the idle server culler.

The package is installed into the learners' environment from its wheel (not editable), and every notebook first
checks that qwen_lessons and its tables come from that environment's site-packages. Without configurable-http-proxy
(npm) the tests skip, unless QWEN_LESSONS_REQUIRE_HUB=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
from pathlib import Path

import pytest
from hub_room import (
    CHP_LOCAL,
    INSTRUCTOR,
    NOTEBOOKS,
    REQUIRE_ENV,
    MemorySampler,
    Staggered,
    build_course_env,
    find_chp,
    hub_required,
    lesson_notebooks,
    login,
    percentile,
    publish_notebooks,
    run_notebook,
    run_room,
    run_staggered_room,
    server_get,
    start_hub,
    start_server,
    stop_hub,
    wait_until_culled,
)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # starts a JupyterHub and learners' servers (the culler test too)

LEARNERS = 6
CULL_TIMEOUT_S, CULL_EVERY_S = 20, 5
# a kernel idle this long is shut down by its server; a lesson's kernel is busy while its cells run
KERNEL_CULL_IDLE_S, KERNEL_CULL_EVERY_S = 6, 1
MEM_LIMIT_MIB = 1024  # the deploy config's per-learner limit (QWEN_HUB_MEM_LIMIT, 1G)


@pytest.fixture(scope="module")
def chp():
    found = find_chp()
    if found is None:
        message = (f"configurable-http-proxy not found: `npm install --prefix {CHP_LOCAL.parents[2]} "
                   "configurable-http-proxy` (as .ci/run does), or set QWEN_LESSONS_CHP")
        if hub_required():
            pytest.fail(f"{message}; {REQUIRE_ENV}=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def course_python(chp, course_wheel, tmp_path_factory):
    return build_course_env(tmp_path_factory.mktemp("room-env"), course_wheel)  # the run's one wheel (conftest)


@pytest.mark.room
def test_every_learner_runs_every_lesson_at_once(chp, course_python, tmp_path):
    began = time.monotonic()
    hub = start_hub(tmp_path, course_python, chp)  # the deploy config's culler timings (an hour): nobody is culled
    try:
        room = run_room(hub, LEARNERS, timeout_s=2400)  # about 5 minutes on 2 cores; a hang guard, not a speed check
    finally:
        stop_hub(hub)
    print(f"\nroom of {LEARNERS} learners, {len(lesson_notebooks())} notebooks each: {time.monotonic() - began:.0f} s "
          f"with the hub's start; hub + proxy + culler peak {room.hub_peak_mib:.0f} MiB")
    for learner in room.learners:
        print(f"{learner.name}: server {learner.server_start_s:.1f} s, first cell {learner.first_cell_s:.1f} s, "
              f"Run All of every lesson {learner.run_all_s:.1f} s, peak {room.peak_mib.get(learner.name, 0):.0f} MiB"
              + "".join(f"\n  reconnected as JupyterLab does: {closed}" for closed in learner.reconnects))
    assert not room.errors, "\n".join(room.errors) + "\n" + hub.log_tail()
    expected = [path.name for path in lesson_notebooks()]
    assert len(expected) >= 8
    for learner in room.learners:
        assert list(learner.notebooks) == expected, learner.name
        # the sampler saw this learner's server and kernels: more than one bare Python process
        assert room.peak_mib.get(learner.name, 0) > 100, (learner.name, room.peak_mib)
        assert 0 < learner.server_start_s < learner.first_cell_s


@pytest.fixture(scope="module")
def culling_hub(chp, course_python, tmp_path_factory):
    """A hub whose culler timings are short: servers idle for 20 s, kernels idle for 6 s."""
    hub = start_hub(tmp_path_factory.mktemp("culling-hub"), course_python, chp, cull_timeout=CULL_TIMEOUT_S,
                    cull_every=CULL_EVERY_S, kernel_cull_idle=KERNEL_CULL_IDLE_S, kernel_cull_every=KERNEL_CULL_EVERY_S)
    yield hub
    stop_hub(hub)


def kernel_ids(hub, name: str, token: str) -> set[str]:
    return {kernel["id"] for kernel in json.loads(server_get(hub, name, token, "api/kernels"))}


@pytest.mark.room  # minutes of lessons: once per CI run, not again at the floors
def test_one_learner_opens_every_lesson_in_turn_and_stays_under_the_memory_limit(culling_hub):
    """A learner moves from lesson to lesson and never closes one (JupyterLab keeps a closed tab's kernel too): each
    lesson's kernel stays open. The learner spends longer in each lesson than the kernel culler's idle timeout, as in
    the room (a lesson takes 30 to 50 minutes, the deploy config culls after 20), so before the next lesson opens the
    kernel of the one before has been shut down. Without kernel culling, nine kernels pile up past the limit."""
    hub, name = culling_hub, "lessons1"
    token, _ = login(hub, name)
    start_server(hub, name, token)
    sampler = MemorySampler(hub)
    sampler.start()
    most_open = 0

    async def every_lesson():
        nonlocal most_open
        for notebook in lesson_notebooks():
            result = await run_notebook(hub, name, token, notebook, lambda: None, keep_open=True)
            assert not result["errors"], (notebook.name, result["errors"], hub.log_tail())
            deadline = time.monotonic() + 180  # returns as soon as culled: the limit is slack for busy cores only
            while True:
                open_now = await asyncio.to_thread(kernel_ids, hub, name, token)
                most_open = max(most_open, len(open_now))
                if open_now <= {result["kernel_id"]}:
                    break
                assert time.monotonic() < deadline, f"after {notebook.name}: kernels still open {open_now}"
                await asyncio.sleep(0.5)

    try:
        asyncio.run(every_lesson())
        deadline = time.monotonic() + 180
        while kernel_ids(hub, name, token):  # the last lesson's kernel goes the same way
            assert time.monotonic() < deadline, "the last lesson's kernel was not culled"
            time.sleep(0.5)
    finally:
        sampler.stop()
    peak = sampler.peak_mib.get(name, 0.0)
    print(f"\n{len(lesson_notebooks())} lessons in turn, each kept open: at most {most_open} kernels open at once, "
          f"server + kernels peak {peak:.0f} MiB (limit {MEM_LIMIT_MIB} MiB)")
    assert most_open <= 2
    assert 100 < peak < MEM_LIMIT_MIB
    # the servers' own log (in the hub's): the kernels went because they were idle, not for another reason
    assert "seconds of inactivity" in hub.log_tail(5_000_000) and "Culling kernels even with connected" in hub.log_tail(5_000_000)


def test_a_corrected_notebook_reaches_a_running_server_and_the_learners_edits_stay(culling_hub, tmp_path):
    """The instructor publishes a fixed notebook; the learner follows the git-pull link (here its API) and gets it,
    while their own edits and files stay. jupyter-resource-usage shows the learner their memory against the limit."""
    hub, name = culling_hub, "update1"
    token, _ = login(hub, name)
    start_server(hub, name, token)
    home = hub.workdir / "homes" / name / "qwen-lessons"
    assert (home / "00_start_here.ipynb").read_bytes() == (NOTEBOOKS / "00_start_here.ipynb").read_bytes()

    metrics = json.loads(server_get(hub, name, token, "api/metrics/v1"))
    assert metrics["limits"]["memory"]["rss"] == MEM_LIMIT_MIB * 2**20 and metrics["rss"] > 0, metrics

    learner_edit = json.loads((home / "00_start_here.ipynb").read_text(encoding="utf-8"))
    learner_edit["cells"].append({"cell_type": "markdown", "id": "learner-note", "metadata": {},
                                  "source": ["My own note."]})
    (home / "00_start_here.ipynb").write_text(json.dumps(learner_edit, indent=1) + "\n", encoding="utf-8")
    (home / "my_answers.py").write_text("answer = 42\n", encoding="utf-8")

    fixed = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, fixed, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    lesson = json.loads((fixed / "01_family_map.ipynb").read_text(encoding="utf-8"))
    lesson["cells"].insert(1, {"cell_type": "markdown", "id": "erratum", "metadata": {},
                               "source": ["Correction published during the workshop."]})
    (fixed / "01_family_map.ipynb").write_text(json.dumps(lesson, indent=1) + "\n", encoding="utf-8")
    assert "published" in publish_notebooks(fixed, hub.course_repo)

    stream = server_get(hub, name, token, f"git-pull/api?repo={hub.course_repo}&branch=main&targetpath=qwen-lessons")
    events = [json.loads(line.removeprefix("data: ")) for line in stream.decode().splitlines() if line.startswith("data: ")]
    assert events and events[-1]["phase"] == "finished", events[-3:]
    assert "Correction published during the workshop." in (home / "01_family_map.ipynb").read_text(encoding="utf-8")
    assert "My own note." in (home / "00_start_here.ipynb").read_text(encoding="utf-8")
    assert (home / "my_answers.py").read_text(encoding="utf-8") == "answer = 42\n"


def test_the_calculators_page_in_voila_links_nothing_outside_the_machine(culling_hub):
    """Under the hub, the Voilà page of the calculators app (the fallback for weak laptops) names only its own server:
    Voilà's stock template links FontAwesome from a CDN, which an offline room waits for in vain."""
    hub, name = culling_hub, "voila1"
    token, _ = login(hub, name)
    start_server(hub, name, token)
    page = server_get(hub, name, token, "voila/render/qwen-lessons/90_calculators_app.ipynb").decode()
    assert "Qwen calculators" in page and "application/vnd.jupyter.widget-view+json" in page, page[:2000]
    links = re.findall(r"""(?:src|href|url|import)\s*[=(]\s*["']?((?:https?:)?//[^/"'\s)]+)""", page, re.IGNORECASE)
    outside = sorted({link for link in links if not re.search(r"//(127\.0\.0\.1|localhost)(:\d+)?$", link)})
    assert not outside, f"the Voilà page links outside the machine: {outside}"


def test_the_instructor_sees_who_is_running_on_the_admin_page(culling_hub):
    """deploy/README.md's admin page: the instructor's login opens /hub/admin, and the same login's token lists every
    learner with their server's state and last activity; a learner's login is refused both."""
    hub = culling_hub
    learner_token, learner = login(hub, "admincheck1")
    start_server(hub, "admincheck1", learner_token)
    token, browser = login(hub, INSTRUCTOR, hub.admin_password)
    with browser.open(f"{hub.url}/hub/admin", timeout=60) as page:
        assert page.status == 200
    status, users = hub.api("GET", "/users", token)
    assert status == 200, users
    running = {user["name"]: user for user in users if user.get("servers")}
    assert "admincheck1" in running and running["admincheck1"]["last_activity"], running
    assert hub.api("GET", "/users", learner_token)[0] == 403
    with pytest.raises(urllib.error.HTTPError) as refused:
        learner.open(f"{hub.url}/hub/admin", timeout=60)
    assert refused.value.code == 403


def load_browser_harness():
    """tests/browser/browser_harness.py (the Chromium the browser tests drive, and its closed-network flags)."""
    spec = importlib.util.spec_from_file_location("room_browser_harness", ROOT / "tests" / "browser" / "browser_harness.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
def test_lab_and_voila_under_the_hub_request_nothing_outside_the_machine(culling_hub):
    """A learner in Chromium logs in, lands in JupyterLab on lesson 0, then opens the calculators in Voilà: every
    request the pages make is logged, and any to a host other than loopback is refused and fails the test."""
    harness = load_browser_harness()
    chromium = harness.find_chromium()
    if chromium is None:
        message = "no system Chromium found (looked at $CHROMIUM, /usr/bin/chromium, PATH)"
        if harness.browser_required():
            pytest.fail(f"{message}; {harness.REQUIRE_ENV}=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    hub, name = culling_hub, "browser1"
    seen, outside = [], []
    phase = ["JupyterLab"]

    def only_loopback(route):
        url = route.request.url
        seen.append(url)
        if url.startswith(("data:", "blob:")) or urllib.parse.urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(f"{phase[0]}: {url}")
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=harness.CHROMIUM_ARGS)
        try:
            # the hub's certificate is self-signed for 127.0.0.1, as install.sh makes one without --cert
            context = browser.new_context(ignore_https_errors=True, viewport=harness.VIEWPORT)
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.goto(f"{hub.url}/hub/login", timeout=120_000)
            page.fill("#username_input", name)
            page.fill("#password_input", hub.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab/**", timeout=240_000)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=180_000)
            page.wait_for_load_state("networkidle", timeout=120_000)
            lab_requests = len(seen)
            phase[0] = "Voilà"
            page.goto(f"{hub.url}/user/{name}/voila/render/qwen-lessons/90_calculators_app.ipynb", timeout=180_000)
            page.locator(".widget-html").first.wait_for(timeout=180_000)  # the widgets rendered
            page.wait_for_load_state("networkidle", timeout=120_000)
        finally:
            browser.close()
    print(f"\nJupyterLab: {lab_requests} requests, then Voilà: {len(seen) - lab_requests}; outside loopback: {outside}")
    assert lab_requests > 10 and len(seen) > lab_requests
    assert not outside, f"requests left the machine: {outside}"


def test_staggered_arrivals_and_percentiles_by_hand():
    plan = Staggered(spread_s=60, seed=1)
    arrivals = plan.arrivals(4)
    assert arrivals == sorted(arrivals) and all(15 * i <= t < 15 * (i + 1) for i, t in enumerate(arrivals))
    assert plan.arrivals(4) == arrivals, "the same seed gives the same room"
    think = plan.thinker(0)
    assert all(plan.think_s * 0.5 <= think() <= plan.think_s * 1.5 for _ in range(50))
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.95) == 10.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0


def test_a_learners_reading_time_is_the_thinkers_draws_one_per_cell_after_each_notebooks_first(tmp_path):
    notebooks = []
    for name, cells in (("a.ipynb", ["code", "markdown", "code", "code"]), ("b.ipynb", ["code"])):
        path = tmp_path / name
        path.write_text(json.dumps({"cells": [{"cell_type": kind, "source": ""} for kind in cells]}), encoding="utf-8")
        notebooks.append(path)
    plan = Staggered(think_s=2.0, seed=7)
    think = plan.thinker(3)
    assert plan.reading_s(3, notebooks) == pytest.approx(think() + think()), "a: 3 code cells, 2 pauses; b: none"


def test_the_sampler_counts_each_learners_cpu_seconds_after_their_process_ends():
    """CPU seconds per learner (load-independent, for the staggered rooms' sizing): a learner's process that burns
    0.3 CPU-seconds and ends still counts; the hub's own processes count apart."""
    import os
    import subprocess
    import types

    import psutil

    burn = "import time\nwhile time.process_time() < 0.3: pass\ntime.sleep(0.5)"
    parent = ("import os, subprocess, sys\nenv = dict(os.environ, JUPYTERHUB_USER='alice')\n"
              f"subprocess.run([sys.executable, '-c', {burn!r}], env=env, check=True)\nsys.stdin.read()")
    env = {key: value for key, value in os.environ.items() if key != "JUPYTERHUB_USER"}
    hub_proc = subprocess.Popen([sys.executable, "-c", parent], stdin=subprocess.PIPE, env=env)
    sampler = MemorySampler(types.SimpleNamespace(proc=hub_proc, known_pids=set()), interval=0.05)
    sampler.start()
    try:
        deadline = time.monotonic() + 120  # only a bound for a broken sampler, never reached when it works
        while sampler.cpu_s().get("alice", 0.0) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.1)
        while psutil.Process(hub_proc.pid).children() and time.monotonic() < deadline:
            time.sleep(0.1)  # alice's process has ended: her seconds must stay counted
    finally:
        hub_proc.communicate(b"", timeout=60)
        sampler.stop()
    used = sampler.cpu_s()
    assert 0.25 <= used["alice"] < 5, used
    assert None in used and set(used) == {None, "alice"}, used
    assert sampler.load_1min and all(load >= 0 for load in sampler.load_1min)


@pytest.mark.room  # minutes of lessons: once per CI run, not again at the floors
def test_a_staggered_room_runs_cell_by_cell_and_keeps_only_the_open_lessons(culling_hub):
    """The realistic workload of benchmarks/bench_room.py, small: two learners arriving apart, reading between cells,
    one lesson open at a time (the one before is shut down when the next opens)."""
    lessons = [NOTEBOOKS / "00_start_here.ipynb", NOTEBOOKS / "90_calculators_app.ipynb"]
    plan = Staggered(spread_s=4, think_s=0.2, open_lessons=1)
    room = run_staggered_room(culling_hub, 2, plan, lessons)
    assert not room.errors, "\n".join(room.errors) + "\n" + culling_hub.log_tail()
    code_cells = sum(sum(cell["cell_type"] == "code" for cell in json.loads(path.read_text(encoding="utf-8"))["cells"])
                     for path in lessons)
    for learner in room.learners:
        assert len(learner.cell_s) == code_cells and all(seconds > 0 for seconds in learner.cell_s), learner.name
        assert 0 < learner.server_start_s < learner.first_cell_s
        first_kernel = learner.notebooks[lessons[0].name]["kernel_id"]
        token, _ = login(culling_hub, learner.name)
        open_now = {k["id"] for k in json.loads(server_get(culling_hub, learner.name, token, "api/kernels"))}
        assert first_kernel not in open_now, "the first lesson's kernel was shut down when the second opened"
        # the benchmark's load-independent figure: CPU seconds of the learner's server and kernels, at least their
        # kernels' own (each notebook's last cell reads its kernel's getrusage)
        kernels_cpu = sum(result["cpu_s"] for result in learner.notebooks.values())
        assert room.cpu_s[learner.name] >= kernels_cpu > 0, (room.cpu_s, kernels_cpu)
    assert room.load_before and room.load_during, "the load average the room ran under is recorded"
    print(f"\nstaggered room of 2: p95 cell latency {percentile([s for r in room.learners for s in r.cell_s], 0.95):.2f} s")


def test_the_culler_stops_an_idle_server_and_the_learner_can_come_back(culling_hub):
    hub = culling_hub
    room = run_room(hub, 1, [NOTEBOOKS / "00_start_here.ipynb"], prefix="idle")
    assert not room.errors, "\n".join(room.errors) + "\n" + hub.log_tail()
    status, user = hub.api("GET", "/users/idle1")
    assert status == 200 and user["servers"], "the server should run before the culler's timeout"
    stopped = wait_until_culled(hub, ["idle1"], CULL_TIMEOUT_S + CULL_EVERY_S + 300)  # returns when culled: slack only for busy cores
    print(f"\nidle server stopped {stopped.get('idle1', float('nan')):.0f} s after the notebook finished")
    assert "idle1" in stopped, hub.log_tail()
    assert "Culling server idle1" in hub.log_tail(200_000)
    # What the learner sees: the hub's "Server not running" page (HTTP 424) with a button to start it again;
    # their files stay in their home folder.
    _, browser = login(hub, "idle1")
    try:
        browser.open(f"{hub.url}/hub/user/idle1/lab/tree/qwen-lessons/00_start_here.ipynb", timeout=60)
        pytest.fail("the hub served a stopped server's page")
    except Exception as error:  # urllib raises HTTPError for 424
        assert getattr(error, "code", None) == 424, error
        page = error.read().decode()
    assert "Server not running" in page and 'id="start"' in page
    assert (hub.workdir / "homes" / "idle1" / "qwen-lessons" / "00_start_here.ipynb").exists()
    again = run_room(hub, 1, [NOTEBOOKS / "00_start_here.ipynb"], prefix="idle")  # log in again, start, run
    assert not again.errors, "\n".join(again.errors)
