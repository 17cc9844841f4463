"""Per-lesson code that the notebooks show: each module is named after its notebook (lessons/fine_tuning.py
serves 04_fine_tuning.ipynb) and holds that lesson's claims, experiments and figures. Importing does nothing."""
