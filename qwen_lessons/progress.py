"""Lessons 2 and 3 (02_base_vs_instruct, 03_fine_tuning): a progress bar while the tiny model trains, drawn as an
ipywidgets bar inside Jupyter and as a text bar on stderr elsewhere."""

from __future__ import annotations

import sys


class Progress:
    """A progress indication: an ipywidgets.IntProgress inside Jupyter, a text bar on stderr elsewhere."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label, self.widget, self.enabled = total, label, None, enabled
        if enabled and in_kernel():
            import ipywidgets as widgets
            from IPython.display import display

            self.widget = widgets.IntProgress(value=0, min=0, max=total, description=label[:20])
            display(self.widget)

    def update(self, step: int) -> None:
        if not self.enabled:
            return
        if self.widget is not None:
            self.widget.value = step
        elif step == self.total or step % max(self.total // 20, 1) == 0:
            filled = int(20 * step / self.total)
            sys.stderr.write(f"\r{self.label}: [{'#' * filled}{'.' * (20 - filled)}] {step}/{self.total}")
            if step == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
