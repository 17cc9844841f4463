"""qwen_lessons: the computations behind the qwen-lessons notebooks (lessons 00-08 and the calculators app).

Foundation (imports no widget code): ``data`` (tables), ``models`` (one description of a checkpoint),
``catalog``, ``hardware``, ``units``, ``plotting``. Topic modules compute: ``tokens``, ``tinylm``,
``finetune``, ``vision``, ``prompts``, ``pictures``, ``memory``, ``tiers``. Per-lesson code is named after
its notebook: ``lessons/<stem>.py`` (claims, experiments, figures), ``widgets/<stem>.py`` and
``checks/<stem>.py``. CONTRIBUTING.md draws the layout. Importing this package does nothing but define names;
``set_language`` picks the language the package speaks (``qwen_lessons.language``).
"""

from qwen_lessons.language import set_language  # one setting picks the language (English, or "zh_CN")

__version__ = "0.1.0"
__all__ = ["set_language"]
