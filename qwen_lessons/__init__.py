"""qwen_lessons: the computations behind the qwen-lessons notebooks.

Each lesson has its own module (``catalog``, ``tokens``, ``finetune``, ``vision``, ``memory`` ...);
import the one you need. Importing this package does nothing but define names.
"""

__version__ = "0.1.0"
