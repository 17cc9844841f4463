"""Jupyter server settings of every learner's server on the workshop hub (docs/full_room.md, every lesson):
deploy/jupyterhub/jupyterhub_config.py starts each server with `--config` pointing here."""

c = get_config()  # noqa: F821 -- provided by the Jupyter server when it loads this file

# Voilà inside a Jupyter server takes MathJax's address from these two settings and, when they are missing, loads
# MathJax from a CDN, which an offline room waits for; set to None, Voilà loads no MathJax at all (the calculators
# app shows no formulas). JupyterLab is not affected: it ships its own MathJax. (The offline Voilà template comes
# with the course package: etc/jupyter/voila.json selects it.)
c.ServerApp.tornado_settings = {"mathjax_url": None, "mathjax_config": None}
