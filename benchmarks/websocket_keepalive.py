"""Why a kernel websocket drops in a room (docs/full_room.md, "A dropped connection, explained"): two experiments on
the room's hub (tests/hub_room.py: deploy/jupyterhub's configuration, configurable-http-proxy, HTTPS on loopback).

1. Silent: a learner opens a kernel websocket and reads it, while nothing is sent, for --idle-s seconds. It stays
   open unless something between (the proxy, Node's HTTP server) times silent connections out.
2. Deaf: a learner runs a cell that prints twice a second, then stops reading its websocket for --deaf-s seconds.
   tornado's websocket client keeps one unread message and then stops reading frames, so it answers no ping; the
   Jupyter server pings every 30 s and closes a websocket that answered none for 90 s. The learner then reads again,
   reconnects with the same session id as JupyterLab does, and counts the cell's output lines that arrived.

Usage: python benchmarks/websocket_keepalive.py [--idle-s 400] [--deaf-s 150] [--course-python PATH]
(minutes, mostly waiting; without --course-python the course environment is built first, as bench_room.py does).
Prints what each learner saw and the servers' log lines about pings and buffering. Needs configurable-http-proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hub_room  # noqa: E402


async def open_kernel(hub: hub_room.Hub, name: str, token: str):
    """A session and kernel for `name`, and a function opening a websocket to it (one session id for every
    connection, as JupyterLab keeps across reconnections)."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.url}/user/{name}"
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    tls = {"ca_certs": str(hub.ca_file)}
    reply = await AsyncHTTPClient().fetch(f"{base}/api/sessions", method="POST", headers=headers, request_timeout=120,
                                          body=json.dumps({"path": f"{name}.ipynb", "name": f"{name}.ipynb",
                                                           "type": "notebook", "kernel": {"name": "python3"}}), **tls)
    kernel = json.loads(reply.body)["kernel"]["id"]
    url = base.replace("https://", "wss://") + f"/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}"
    return lambda: websocket_connect(HTTPRequest(url, headers=headers, request_timeout=120, **tls))


async def silent(hub: hub_room.Hub, token: str, idle_s: float) -> str:
    ws = await (await open_kernel(hub, "silent", token))()
    opened = time.monotonic()
    while True:
        left = idle_s - (time.monotonic() - opened)
        try:
            raw = await asyncio.wait_for(ws.read_message(), max(left, 0.01))
        except TimeoutError:
            ws.close()
            return f"silent: still open after {time.monotonic() - opened:.0f} s"
        if raw is None:
            return f"silent: CLOSED after {time.monotonic() - opened:.0f} s (code {ws.close_code}, {ws.close_reason!r})"


async def deaf(hub: hub_room.Hub, token: str, deaf_s: float) -> str:
    connect = await open_kernel(hub, "deaf", token)
    ws = await connect()
    lines = int(deaf_s * 2) + 1
    msg_id = uuid.uuid4().hex
    code = f"import time\nfor i in range({lines}):\n    print(i, flush=True)\n    time.sleep(0.5)"
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "deaf", "session": uuid.uuid4().hex,
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    began = time.monotonic()
    await asyncio.sleep(deaf_s)  # not reading
    events, text = [], ""
    while True:
        raw = await asyncio.wait_for(ws.read_message(), 300)
        if raw is None:
            events.append(f"closed at {time.monotonic() - began:.0f} s (code {ws.close_code}, {ws.close_reason!r}), "
                          "reconnected")
            ws = await connect()
            continue
        message = hub_room.decode_message(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if message["header"]["msg_type"] == "stream":
            text += message["content"]["text"]
        elif message["header"]["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    ws.close()
    return f"deaf for {deaf_s:.0f} s: {'; '.join(events) or 'never closed'}; {len(text.split())} of {lines} lines arrived"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-s", type=float, default=400)
    parser.add_argument("--deaf-s", type=float, default=150)
    parser.add_argument("--course-python", type=Path, help="a course environment's python (bench_room.py builds one)")
    args = parser.parse_args(argv)
    chp = hub_room.find_chp()
    if chp is None:
        raise SystemExit("configurable-http-proxy not found (npm install --prefix .ci/hub-proxy configurable-http-proxy)")
    workdir = Path(tempfile.mkdtemp(prefix="keepalive-"))
    python = args.course_python or hub_room.build_course_env(workdir)
    hub = hub_room.start_hub(workdir, python, chp)
    try:
        tokens = {}
        for name in ("silent", "deaf"):
            tokens[name], _ = hub_room.login(hub, name)
            hub_room.start_server(hub, name, tokens[name])

        async def both():
            return await asyncio.gather(silent(hub, tokens["silent"], args.idle_s), deaf(hub, tokens["deaf"], args.deaf_s))

        for line in asyncio.run(both()):
            print(line)
        log = hub.log.read_text(errors="replace").splitlines()
        print("\n".join(line for line in log if "ping timeout" in line or "buffer" in line.lower()))
    finally:
        hub_room.stop_hub(hub)
    return 0


if __name__ == "__main__":
    sys.exit(main())
