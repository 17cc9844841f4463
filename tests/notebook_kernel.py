"""One kernel for running a notebook cell by cell and reading what each cell shows (tests/notebook_runs.py): start,
run with a hook on every output, stop."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from jupyter_client.manager import KernelManager


class Kernel:
    def __init__(self, cwd: Path):
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=dict(os.environ))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def execute(self, code: str, on_output: Callable[[str, dict], None]) -> str | None:
        """Run code, passing each output (message type, content) other than an error to on_output; return the error
        ('Name: value') or None."""
        error: list[str] = []

        def hook(message):
            kind, content = message["msg_type"], message["content"]
            if kind == "error":
                error.append(f"{content['ename']}: {content['evalue']}")
            else:
                on_output(kind, content)

        reply = self.client.execute_interactive(code, timeout=900, output_hook=hook, store_history=False)
        if reply["content"]["status"] != "ok" and not error:
            error.append(reply["content"].get("ename", "error"))
        return error[0] if error else None

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
