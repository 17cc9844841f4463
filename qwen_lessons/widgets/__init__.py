"""The lessons' widgets: each module is named after its notebook (widgets/fine_tuning.py serves 04_fine_tuning.ipynb).
Each holds pure functions that return what is shown and builders wired with qwen_lessons.ui.wire. Importing does
nothing; ipywidgets is imported inside the builders."""
