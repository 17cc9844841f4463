"""Lessons 2, 3 and 4 (02_base_vs_instruct, 03_preference_tuning, 04_fine_tuning): the one progress bar of the course,
for the tiny model's training and for any other computation a learner waits on (tests/test_notebook_runs.py fails
a cell that computes for over 3 s without it). Drawn as an ipywidgets bar inside Jupyter and as a text bar on stderr
elsewhere."""

from __future__ import annotations

import sys


class Progress:
    """A progress indication: an ipywidgets.IntProgress inside Jupyter, a text bar on stderr elsewhere."""

    def __init__(self, total: int, label: str, enabled: bool, unit: str = "steps"):
        import time

        self.total, self.label, self.widget, self.enabled, self.unit = total, label, None, enabled, unit
        self.started = time.perf_counter()
        if enabled and in_kernel():
            import ipywidgets as widgets
            from IPython.display import display

            # the label says what trains and the count says how far, so a finished bar still tells the reader both
            self.widget = widgets.IntProgress(value=0, min=0, max=total)
            self.count = widgets.Label(self._text(0))
            display(widgets.HBox([widgets.Label(label), self.widget, self.count]))

    def _text(self, step: int) -> str:
        import time

        done = f" in {time.perf_counter() - self.started:.1f} s" if step == self.total else ""
        return f"{step:,} / {self.total:,} {self.unit}{done}"

    def update(self, step: int) -> None:
        if not self.enabled:
            return
        if self.widget is not None:
            self.widget.value = step
            if step == self.total or step % max(self.total // 20, 1) == 0:
                self.count.value = self._text(step)
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
