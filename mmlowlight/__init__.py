"""mmlowlight: SGZ low-light enhancement as an OpenMMLab plugin.

Importing the package registers its modules in the ``mmlowlight`` registries and installs a
``weights_only=True``-safe local checkpoint loader in mmengine (see
:mod:`mmlowlight.utils.checkpoint`). It never imports mmdet or mmseg: their adapters import them
lazily.
"""
from . import models  # noqa: F401  (registers the modules)
from .utils import register_checkpoint_loader
from .version import __version__

register_checkpoint_loader()

__all__ = ['__version__']
