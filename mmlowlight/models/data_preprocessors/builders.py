"""Registry entries for the mmdet/mmseg adapters that import mmdet/mmseg only when built.

``import mmlowlight`` must work without mmdet/mmseg (and with mmcv-lite, which cannot import
``mmdet.models``), so the adapter classes cannot be imported at registration time. mmengine's
``Registry`` accepts functions as well as classes and ``build_from_cfg`` calls them with the
config's arguments, so each name below is a small builder that imports its adapter module on
first use and returns the instance; ``BaseModel`` then assigns it as ``data_preprocessor``.
Configs write ``type='mmlowlight.LowLightDetDataPreprocessor'`` as if it were the class, and the
adapter's own sub-modules (mmdet ``batch_augments``) still build in the config's default scope,
because a prefixed type does not switch the scope. mmdet spells its class ``...Preprocessor``
and mmseg ``...PreProcessor``; both spellings are registered for both adapters.
"""
from importlib import import_module
from typing import Any, Callable, Sequence

from mmlowlight.registry import MODELS

__all__ = ['build_low_light_det_data_preprocessor', 'build_low_light_seg_data_preprocessor']


def _lazy_builder(class_name: str, aliases: Sequence[str], module: str, package: str,
                  extra: str) -> Callable[..., Any]:
    """Register ``class_name`` (and ``aliases``) as a function that imports ``module`` when
    called."""

    def build(**kwargs: Any) -> Any:
        try:
            cls = getattr(import_module(module, __package__), class_name)
        except ImportError as err:
            raise ImportError(f'{class_name} needs {package} with mmcv ops: '
                              f'pip install "mmlowlight[{extra}]" ({err})') from err
        return cls(**kwargs)

    build.__doc__ = (f'Build a ``{class_name}`` (needs {package}).\n\n    Args:\n        '
                     '**kwargs: Its constructor arguments, passed on unchanged.\n')
    return MODELS.register_module(name=[class_name, *aliases], module=build)


build_low_light_det_data_preprocessor = _lazy_builder(
    'LowLightDetDataPreprocessor', ['LowLightDetDataPreProcessor'],
    '.low_light_det_data_preprocessor', 'mmdet', 'det')
build_low_light_seg_data_preprocessor = _lazy_builder(
    'LowLightSegDataPreProcessor', ['LowLightSegDataPreprocessor'],
    '.low_light_seg_data_preprocessor', 'mmsegmentation', 'seg')
