"""Shared machinery of the browser tests: a JupyterLab/Voila server on loopback, and page helpers.

Everything here talks to 127.0.0.1 only; Chromium runs with the flags that stop its background calls.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "screenshots"
REQUIRE_ENV = "QWEN_LESSONS_REQUIRE_BROWSER"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Closed network: no component updates, sync, QUIC or background fetches (they would hang or leak).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
]
# Lab settings for a test run: no news fetch, no autosave (outputs must never reach a notebook file),
# every cell attached to the DOM (so the test sees the prompts and outputs of cells below the fold).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
VIEWPORT = {"width": 1280, "height": 900}
RUN_TIMEOUT_S = 600  # guards against a hang only: Run All of a lesson takes under a minute on a quiet machine
UPDATE_TIMEOUT_S = 120  # likewise; a widget answers in a second or two, but the suite runs on busy cores


def find_chromium() -> str | None:
    """The system Chromium to drive: $CHROMIUM if set, else Debian's usual paths, else the PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_required() -> bool:
    """True when a missing browser must fail the run instead of skipping it (CI sets the variable)."""
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0", "false", "no")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    """Poll url until it answers, the process dies, or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"no answer from {url} within {timeout_s} s")


def wait_port(port: int, timeout_s: float, proc: subprocess.Popen) -> None:
    """Wait until something listens on the loopback port (a page request would already run the notebook)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


def copy_notebooks(destination: Path) -> Path:
    """Copy notebooks/ (without checkpoints) so a run in the browser can never write into the repository."""
    target = destination / "notebooks"
    shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def jupyter_env(home: Path) -> dict[str, str]:
    """Environment for a server that keeps its runtime, config and data files in a throw-away folder."""
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        env[name] = str(home / name.lower())
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Server:
    """A running Jupyter server (Lab or Voila) and how to reach it."""

    base: str
    token: str
    root: Path
    proc: subprocess.Popen
    log: Path
    notes: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        """Absolute URL of a server path, with the token when there is one."""
        separator = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}" + (f"{separator}token={self.token}" if self.token else "")

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API; return the parsed JSON (or None for an empty answer).

        A GET that meets a server error is tried again (up to three times): listing kernels while the previous
        notebook's kernel is being shut down can answer 500 for a moment, which says nothing about the lesson.
        """
        attempts = 3 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(self.url(path), method=method)
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    body = answer.read()
                return json.loads(body) if body else None
            except urllib.error.HTTPError as error:
                if error.code < 500 or attempt == attempts:
                    raise
                time.sleep(0.5)

    def kernels(self) -> list[dict]:
        return self.api("api/kernels")

    def shutdown_sessions(self) -> None:
        """Stop every kernel so the next notebook starts on an idle machine."""
        for session in self.api("api/sessions"):
            self.api(f"api/sessions/{session['id']}", method="DELETE")
        for kernel in self.kernels():
            self.api(f"api/kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def start_lab(workdir: Path) -> Server:
    """Start JupyterLab on a free loopback port, with a token, serving a copy of notebooks/."""
    root = workdir / "lab-root"
    root.mkdir(parents=True)
    copy_notebooks(root)
    settings = workdir / "lab-settings"
    for relative, values in LAB_SETTINGS.items():
        path = settings / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    log = workdir / "lab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.extension_manager=readonly",  # the default manager queries PyPI
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
    ]
    proc = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=jupyter_env(workdir / "home"),
                            cwd=root)
    server = Server(f"http://127.0.0.1:{port}", token, root, proc, log)
    try:
        wait_http(server.url("api/status"), 90, proc)
    except Exception:
        server.stop()
        raise RuntimeError("JupyterLab did not start:\n" + server.log_tail()) from None
    return server


def start_voila(workdir: Path, notebook: str) -> Server:
    """Serve one notebook with the standalone `voila` command, as an instructor would."""
    root = workdir / "voila-root"
    root.mkdir(parents=True)
    copy_notebooks(root)
    port = free_port()
    log = workdir / "voila.log"
    command = [sys.executable, "-m", "voila", str(root / notebook), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1"]
    proc = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=jupyter_env(workdir / "vhome"),
                            cwd=root)
    server = Server(f"http://127.0.0.1:{port}", "", root, proc, log)
    try:
        wait_port(port, 90, proc)
    except Exception:
        server.stop()
        raise RuntimeError("Voila did not start:\n" + server.log_tail()) from None
    return server


# ----------------------------------------------------------------------------------------- page helpers

ERROR_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception|Warning)\b")
# what a widget looks like when the browser side of ipywidgets is missing or broken
UNRENDERED_WIDGET = re.compile(r"^\s*(VBox|HBox|Box|Tab|Accordion|GridBox|Stack)\(children=|Error displaying widget")


def wait_kernel_ready(page, server: Server, timeout_s: float) -> None:
    """Wait until the notebook's kernel is connected and idle (the toolbar says idle earlier than that)."""
    status = page.locator("#jp-main-statusbar span[title^='Change kernel']")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kernels = server.kernels()
        connected = kernels and all(k["execution_state"] == "idle" and k.get("connections", 1) > 0 for k in kernels)
        if connected and status.count() and status.first.inner_text().strip().endswith("| Idle"):
            return
        time.sleep(0.25)
    dialog = page.locator(".jp-Dialog")
    shown = f"; a dialog is open: {dialog.first.inner_text()[:200]!r}" if dialog.count() else ""
    raise AssertionError(f"the kernel was not ready within {timeout_s} s: {server.kernels()}{shown}")


def _prompts(page) -> list[str]:
    return [text.strip() for text in page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()]


def run_all_cells(page, server: Server, timeout_s: float = RUN_TIMEOUT_S) -> float:
    """Run every cell through the Run menu and wait until the kernel is idle; return the seconds it took."""
    wait_kernel_ready(page, server, timeout_s)
    start = time.monotonic()
    deadline = start + timeout_s
    for _attempt in range(2):  # a click that lands while Lab is still wiring the kernel can be lost: retry once
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        begun = time.monotonic()
        while time.monotonic() - begun < 10 and all(prompt in ("[ ]:", "") for prompt in _prompts(page)):
            time.sleep(0.1)
        if not all(prompt in ("[ ]:", "") for prompt in _prompts(page)):
            break
    steady = 0
    prompts: list[str] = []
    while time.monotonic() < deadline:
        prompts = _prompts(page)
        states = [kernel["execution_state"] for kernel in server.kernels()]
        if "dead" in states:
            raise AssertionError("the kernel died while running the notebook")
        running = any("*" in prompt for prompt in prompts)
        started = any(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts)
        # idle twice in a row: a single idle poll can fall between two queued cells
        steady = steady + 1 if (started and not running and states and set(states) == {"idle"}) else 0
        if steady >= 2:
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError(f"the notebook did not finish within {timeout_s} s; prompts: {prompts}")


def unexecuted_cells(page) -> list[int]:
    """1-based numbers of code cells without an execution count (Run All stops at the first error)."""
    return [number for number, prompt in enumerate(_prompts(page), start=1) if not re.fullmatch(r"\[\d+\]:", prompt)]


def output_problems(page) -> list[str]:
    """Every output that shows an error, a warning, or a widget that did not render."""
    problems = []
    for text in page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts():
        if ERROR_TEXT.search(text):
            problems.append("stderr/error output: " + text.strip()[:600])
    for text in page.locator(".jp-OutputArea-output").all_inner_texts():
        if UNRENDERED_WIDGET.search(text):
            problems.append("widget not rendered: " + text.strip()[:200])
    return problems


def control(scope, label: str):
    """The widget whose description is exactly `label` (one match required: Playwright is strict)."""
    # not ".jupyter-widgets": ipywidgets 8 leaves that class off a SelectionSlider's outer element
    return scope.locator(f'.widget-inline-hbox:has(> label.widget-label:text-is("{label}"))')


def operate(scope, action: tuple) -> None:
    """Do one user action on a widget: ("select", label, option), ("type", label, text), ("key", label, key) on a
    slider handle or a dropdown, ("tab", from label, to label), ("readout", label, text) on a slider's number, ("upload", button text, file), ("click", button name),
    ("check", label)."""
    kind, target, *rest = action
    rest = [value() if callable(value) else value for value in rest]
    if kind == "select":
        control(scope, target).locator("select").select_option(label=rest[0])
    elif kind == "type":
        box = control(scope, target).locator("input, textarea")
        box.fill(str(rest[0]))
        if box.evaluate("element => element.tagName") == "TEXTAREA":
            box.blur()  # Enter would add a line; leaving the box commits it
        else:
            box.press("Enter")
    elif kind == "key":  # keyboard only: focus the control's own focusable element and press a key
        focusable = control(scope, target).locator(".noUi-handle, select, input, textarea").first
        focusable.focus()
        focusable.press(rest[0])
    elif kind == "tab":  # Tab from one control reaches the next within a few presses (a slider's number is one stop)
        control(scope, target).locator(".noUi-handle, select, input, textarea").first.focus()
        goal = control(scope, rest[0])
        for _ in range(3):
            goal.page.keyboard.press("Tab")
            if goal.evaluate("element => element.contains(document.activeElement)"):
                break
        else:
            raise AssertionError(f"three Tabs from {target!r} did not reach {rest[0]!r}")
    elif kind == "readout":
        readout = control(scope, target).locator(".widget-readout")
        readout.click()
        readout.press("Control+a")
        readout.type(str(rest[0]))
        readout.press("Enter")
    elif kind == "upload":  # a real file, through the browser's file input, to the kernel
        button = scope.locator(".widget-upload", has_text=target)
        with button.page.expect_file_chooser() as chooser:
            button.click()
        chooser.value.set_files(str(rest[0]))
    elif kind == "click":
        scope.get_by_role("button", name=target, exact=True).click()
    elif kind == "check":
        control(scope, target).locator("input[type=checkbox]").click()
    else:
        raise ValueError(f"unknown action {kind!r}; use select, type, key, tab, readout, upload, click or check")


# Parse the expected HTML with the browser's own parser so both sides are serialized the same way.
_NORMALIZE_JS = "html => { const d = document.createElement('div'); d.innerHTML = html; return d.innerHTML; }"
_TEXT_JS = "html => { const d = document.createElement('div'); d.innerHTML = html; return d.textContent; }"


def displayed_html(result) -> str:
    return result.locator(".widget-html-content").inner_html()


def wait_for_result(page, result, expected_html: str, timeout_s: float = UPDATE_TIMEOUT_S) -> None:
    """Wait until the result widget shows exactly expected_html (as the browser parses it)."""
    want = page.evaluate(_NORMALIZE_JS, expected_html)
    deadline = time.monotonic() + timeout_s
    shown = displayed_html(result)
    while shown != want and time.monotonic() < deadline:
        time.sleep(0.1)
        shown = displayed_html(result)
    if shown != want:
        shown_text = result.locator(".widget-html-content").text_content()
        want_text = page.evaluate(_TEXT_JS, expected_html)
        raise AssertionError(f"the widget shows\n  {shown_text!r}\nbut qwen_lessons computes\n  {want_text!r}")


def screenshot(page, name: str, focus=None) -> Path:
    """Save a screenshot under screenshots/ (git-ignored), with `focus` scrolled to the top when given."""
    SCREENSHOTS.mkdir(exist_ok=True)
    if focus is not None:
        focus.evaluate("element => element.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)  # let the scroll settle before the picture
    path = SCREENSHOTS / f"browser_{name}.png"
    page.screenshot(path=str(path))
    return path


def check_widget_case(page, case, timeout_s: float = UPDATE_TIMEOUT_S, gallery_name: str | None = None):
    """Act on the widgets as case.actions say; assert every result then shows qwen_lessons' value.

    Returns the output area holding the first result (to aim the screenshot). Each result must change: a result that
    already showed the expected value before the actions would prove nothing. With gallery_name, the widget is
    photographed before the actions as `<gallery_name>_before` (the caller photographs the state after).
    """
    scope = page.locator(case.scope) if case.scope else page
    results = [(scope.locator(selector), selector, expected()) for selector, expected in case.expect]
    before = {}
    for result, selector, _ in results:
        result.wait_for(state="visible")
        before[selector] = displayed_html(result)
    if gallery_name:
        first = results[0][0].evaluate_handle("element => element.closest('.jp-OutputArea-output') || element")
        screenshot(page, f"{gallery_name}_before", focus=first)
    for action in case.actions:
        operate(scope, action)
    for result, selector, expected_html in results:
        try:
            wait_for_result(page, result, expected_html, timeout_s)
        except AssertionError as error:
            raise AssertionError(f"{selector} after {case.actions}: {error}") from None
        assert displayed_html(result) != before[selector], f"{selector} did not change: the check proves nothing"
    return results[0][0].evaluate_handle("element => element.closest('.jp-OutputArea-output') || element")


PREVIEW_MAX_PX = 600
HEADER_GAP_PX = 8
# Layout rules a learner's eye checks, measured in the page: nothing wider than its cell, no picture taller than
# PREVIEW_MAX_PX, no label, readout or dropdown option cut off, header cells of a widget's table at least
# HEADER_GAP_PX apart, and a message close to the controls it answers.
_LAYOUT_JS = r"""([limit, headerGap]) => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const named = (el) => {
    const box = el.closest('.widget-inline-hbox');
    const label = box && box.querySelector(':scope > label.widget-label');
    return label && label.textContent.trim() ? `"${label.textContent.trim()}"` : (el.className || el.tagName);
  };
  const cellOf = (el) => el.closest('.jp-OutputArea-output') || el.closest('.jp-Cell-outputWrapper')
                          || document.querySelector('#rendered_cells') || document.body;
  for (const el of document.querySelectorAll('.jupyter-widgets, .widget-inline-hbox, .widget-html-content, img')) {
    if (!visible(el) || !el.closest('.jupyter-widgets, .widget-vbox, .widget-hbox')) continue;
    const cell = cellOf(el);
    if (el.tagName === 'IMG' && el.getBoundingClientRect().height > limit + 1)
      problems.push(`a picture is ${Math.round(el.getBoundingClientRect().height)} px tall (at most ${limit})`);
    // a wide table inside a result (an HTML widget no wider than the cell) scrolls there: that is reachable
    const result = el.closest('.widget-html');
    if (result && result !== el && result.getBoundingClientRect().right <= cell.getBoundingClientRect().right + 2)
      continue;
    const over = el.getBoundingClientRect().right - cell.getBoundingClientRect().right;
    if (over > 2) problems.push(`${named(el)} is ${Math.round(over)} px wider than its cell`);
  }
  for (const el of document.querySelectorAll('label.widget-label, .widget-readout')) {
    if (visible(el) && el.scrollWidth > el.clientWidth + 1)
      problems.push(`${el.classList.contains('widget-readout') ? 'readout' : 'label'} "${el.textContent.trim()}" is cut off`);
  }
  // a table a cell displays (not one inside a widget's result) must show all its columns without scrolling
  for (const table of document.querySelectorAll('.jp-OutputArea-output table')) {
    if (!visible(table) || table.closest('.jupyter-widgets')) continue;
    const holder = table.closest('.jp-OutputArea-output');
    const hidden = table.getBoundingClientRect().right - holder.getBoundingClientRect().right;
    if (hidden > 2) {
      const header = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim()).filter(Boolean);
      problems.push(`a table (${header.slice(-1)[0] || 'no header'} last) runs ${Math.round(hidden)} px past its cell`);
    }
  }
  // header cells of a table inside a widget must not run together: the text of adjacent th elements of a row is at
  // least HEADER_GAP_PX apart (ui.data_table pads every cell; a bare <table> in a widget's HTML has no padding)
  const textBox = (cell) => { const range = document.createRange(); range.selectNodeContents(cell);
                              return range.getBoundingClientRect(); };
  for (const table of document.querySelectorAll('.jupyter-widgets table, .widget-html-content table')) {
    if (!visible(table)) continue;
    for (const row of table.querySelectorAll('tr')) {
      const headers = [...row.children].filter((cell) => cell.tagName === 'TH' && visible(cell) && cell.textContent.trim());
      for (let i = 1; i < headers.length; i++) {
        const gap = textBox(headers[i]).left - textBox(headers[i - 1]).right;
        if (gap < headerGap) problems.push(`header cells "${headers[i - 1].textContent.trim()}" and `
          + `"${headers[i].textContent.trim()}" of a table in a widget are ${Math.round(gap)} px apart (at least ${headerGap})`);
      }
    }
  }
  const context = document.createElement('canvas').getContext('2d');
  for (const select of document.querySelectorAll('.widget-dropdown select')) {
    if (!visible(select)) continue;
    const style = getComputedStyle(select);
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const option of select.options) {
      if (context.measureText(option.text).width > room + 1) {
        problems.push(`dropdown ${named(select)} cuts off "${option.text}"`);
        break;
      }
    }
  }
  for (const message of document.querySelectorAll('.qwen-error')) {
    if (!visible(message)) continue;
    const root = message.closest('.widget-vbox');
    const controls = root ? [...root.querySelectorAll('input, select, textarea, .slider-container, button')].filter(visible) : [];
    if (!controls.length) continue;
    const lowest = Math.max(...controls.map((c) => c.getBoundingClientRect().bottom));
    const gap = message.getBoundingClientRect().top - lowest;
    if (gap > 250) problems.push(`the message "${message.textContent.trim().slice(0, 60)}" is ${Math.round(gap)} px below its controls`);
  }
  return [...new Set(problems)];
}"""


def layout_problems(page) -> list[str]:
    """Every layout rule the visible widgets break (see _LAYOUT_JS), as one line each."""
    return page.evaluate(_LAYOUT_JS, [PREVIEW_MAX_PX, HEADER_GAP_PX])


# ------------------------------------------------------------------------------------------------ accessibility

AXE_IMPACTS = ("serious", "critical")  # axe-core's two upper levels: a screen-reader or keyboard user is blocked
# ipywidgets 8 draws a slider's handle (noUiSlider, role="slider") without tying it to the slider's visible label
# and offers no setting that reaches it. The website names each handle (site/_static/name-sliders.js); JupyterLab
# and Voila load no script of the course's, so there this one finding is listed at the end of the run, not failed,
# until ipywidgets names its handles. Any other serious or critical finding fails.
UNNAMED_SLIDER_HANDLE = ("aria-input-field-name", ".noUi-handle")
# JupyterLab draws a figure output (image/png) as an <img> with no alt. Each lesson describes its figure in the
# '*Figure: ...*' text beside it (tests/test_accessibility.py), which the website writes as the alt; in
# JupyterLab this is listed like the slider handle, not failed.
LAB_FIGURE_WITHOUT_ALT = ("image-alt", ".jp-RenderedImage")
KNOWN_FINDINGS: list[str] = []  # printed in the terminal summary (tests/browser/conftest.py)


def _inside(page, target: list, selector: str) -> bool:
    """Whether the element axe names (its `target`, a CSS path) is or sits inside an element matching `selector`."""
    return page.evaluate("([path, selector]) => !!document.querySelector(path)?.closest(selector)",
                         [str(target[-1]), selector])


def accessibility_problems(page, include: str | list | None = None, impacts: tuple[str, ...] = AXE_IMPACTS,
                           known: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """axe-core's violations of the given impacts on the open page (or only inside the `include` selectors), one
    line per rule with the first elements it names. axe-core ships inside axe-playwright-python, so this runs
    offline; a page area the course does not draw (JupyterLab's own menus) is left out with `include`. A violation
    of a `known` (rule, selector) pair on only such elements goes to KNOWN_FINDINGS instead."""
    from axe_playwright_python.sync_playwright import Axe

    context = None if include is None else {"include": [include] if isinstance(include, str) else include}
    # preload off: axe would fetch each style sheet's @import again from the wrong folder (a false missing file)
    response = Axe().run(page, context=context, options={"resultTypes": ["violations"], "preload": False}).response
    problems = []
    for violation in response["violations"]:
        if violation["impact"] in impacts:
            targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:3])
            line = (f"axe {violation['impact']} {violation['id']} ({len(violation['nodes'])}x): "
                    f"{violation['help']}: {targets}")
            if any(violation["id"] == rule and all(_inside(page, node["target"], selector) for node in violation["nodes"])
                   for rule, selector in known):
                KNOWN_FINDINGS.append(f"{page.url.split('?')[0]}: {line}")
            else:
                problems.append(line)
    return problems
