"""Registry entries for the mmdet/mmseg adapters that import mmdet/mmseg only when built.

``import mmlowlight`` must work without mmdet/mmseg (and with mmcv-lite, which cannot import
``mmdet.models``), so the adapter classes cannot be imported at registration time. mmengine's
``Registry`` accepts functions as well as classes and ``build_from_cfg`` calls them with the
config's arguments, so each name below is a small builder that imports its adapter module on
first use and returns the instance; ``BaseModel`` then assigns it as ``data_preprocessor``.
Configs write ``type='mmlowlight.LowLightDetDataPreprocessor'`` as if it were the class, and the
adapter's own sub-modules (mmdet ``batch_augments``) still build in the config's default scope,
because a prefixed type does not switch the scope.
"""
from typing import Any

from mmlowlight.registry import MODELS

__all__ = ['build_low_light_det_data_preprocessor', 'build_low_light_seg_data_preprocessor']


@MODELS.register_module(name='LowLightDetDataPreprocessor')
def build_low_light_det_data_preprocessor(**kwargs: Any) -> Any:
    """Build a ``LowLightDetDataPreprocessor`` (needs mmdet with mmcv ops).

    Args:
        **kwargs: Its constructor arguments, passed on unchanged.

    Raises:
        ImportError: mmdet cannot be imported.
    """
    try:
        from .low_light_det_data_preprocessor import LowLightDetDataPreprocessor
    except ImportError as err:
        raise ImportError('LowLightDetDataPreprocessor needs mmdet with mmcv ops: '
                          f'pip install "mmlowlight[det]" ({err})') from err
    return LowLightDetDataPreprocessor(**kwargs)


@MODELS.register_module(name='LowLightSegDataPreProcessor')
def build_low_light_seg_data_preprocessor(**kwargs: Any) -> Any:
    """Build a ``LowLightSegDataPreProcessor`` (needs mmseg with mmcv ops).

    Args:
        **kwargs: Its constructor arguments, passed on unchanged.

    Raises:
        ImportError: mmseg cannot be imported.
    """
    try:
        from .low_light_seg_data_preprocessor import LowLightSegDataPreProcessor
    except ImportError as err:
        raise ImportError('LowLightSegDataPreProcessor needs mmsegmentation with mmcv ops: '
                          f'pip install "mmlowlight[seg]" ({err})') from err
    return LowLightSegDataPreProcessor(**kwargs)
