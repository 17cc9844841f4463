"""A workshop room on JupyterHub (issue 17; docs/full_room.md, every lesson): the hub of deploy/jupyterhub/ on
loopback, with configurable-http-proxy and a local-process spawner, learners logging in with the shared password and
running every lesson notebook at the same time through their own servers' kernels, and the idle culler.

The package is installed into the learners' environment from its wheel (not editable), and every notebook first
checks that qwen_lessons and its tables come from that environment's site-packages. Without configurable-http-proxy
(npm) the tests skip, unless QWEN_LESSONS_REQUIRE_HUB=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import time

import pytest
from hub_room import (
    CHP_LOCAL,
    NOTEBOOKS,
    REQUIRE_ENV,
    build_course_env,
    find_chp,
    hub_required,
    lesson_notebooks,
    login,
    run_room,
    start_hub,
    stop_hub,
    wait_until_culled,
)

pytestmark = pytest.mark.slow  # starts a JupyterHub and learners' servers (the culler test too)

LEARNERS = 6
CULL_TIMEOUT_S, CULL_EVERY_S = 20, 5


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
              f"Run All of every lesson {learner.run_all_s:.1f} s, peak {room.peak_mib.get(learner.name, 0):.0f} MiB")
    assert not room.errors, "\n".join(room.errors) + "\n" + hub.log_tail()
    expected = [path.name for path in lesson_notebooks()]
    assert len(expected) >= 8
    for learner in room.learners:
        assert list(learner.notebooks) == expected, learner.name
        # the sampler saw this learner's server and kernels: more than one bare Python process
        assert room.peak_mib.get(learner.name, 0) > 100, (learner.name, room.peak_mib)
        assert 0 < learner.server_start_s < learner.first_cell_s


def test_the_culler_stops_an_idle_server_and_the_learner_can_come_back(chp, course_python, tmp_path):
    hub = start_hub(tmp_path, course_python, chp, cull_timeout=CULL_TIMEOUT_S, cull_every=CULL_EVERY_S)
    try:
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
        assert (tmp_path / "homes" / "idle1" / "qwen-lessons" / "00_start_here.ipynb").exists()
        again = run_room(hub, 1, [NOTEBOOKS / "00_start_here.ipynb"], prefix="idle")  # log in again, start, run
        assert not again.errors, "\n".join(again.errors)
    finally:
        stop_hub(hub)
