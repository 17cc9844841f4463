"""Every lesson: the course's sourced tables, shipped inside the package as ``qwen_lessons.tables``.

The files here are data, documented in README.md; this file only makes the folder a package, so that
``importlib.resources.files("qwen_lessons.tables")`` finds it in a checkout, an editable install and a wheel."""
