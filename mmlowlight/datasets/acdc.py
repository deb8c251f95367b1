"""``ACDCNightDataset``: the night part of ACDC for mmseg, registered without importing mmseg.

ACDC (Sakaridis et al., "ACDC: The Adverse Conditions Dataset with Correspondences for Semantic
Driving Scene Understanding", ICCV 2021) uses the 19 Cityscapes train classes and the layout
``rgb_anon/night/{train,val,test}/GOPRxxxx/<name>_rgb_anon.png`` with labels
``gt/night/{train,val}/GOPRxxxx/<name>_gt_labelTrainIds.png``.

Why a builder function: the dataset class must subclass mmseg's ``CityscapesDataset``, but
``import mmlowlight`` (and ``mmlowlight.datasets``, imported by our registry's ``locations``) must
never import mmseg. A class registered from a module imported through ``custom_imports`` would need
every config to list that module; instead this module registers a small function under the name
``ACDCNightDataset`` in mmlowlight's DATASETS and imports the mmseg class
(:mod:`mmlowlight.datasets.acdc_mmseg`) only when a config builds it. mmengine's ``build_from_cfg``
calls registered functions like classes, so ``type='mmlowlight.ACDCNightDataset'`` works from an
mmseg-scoped config, and the dataset's pipeline is still built in the mmseg scope because a
prefixed type does not switch the default scope.
"""
from typing import Any

from mmlowlight.registry import DATASETS

__all__ = ['build_acdc_night_dataset']


@DATASETS.register_module(name='ACDCNightDataset')
def build_acdc_night_dataset(**kwargs: Any) -> Any:
    """Build :class:`mmlowlight.datasets.acdc_mmseg.ACDCNightDataset` (needs mmsegmentation).

    Args:
        **kwargs: Arguments of mmseg's ``BaseSegDataset`` (``data_root``, ``data_prefix``,
            ``pipeline``, ``test_mode``, ...), passed on unchanged.

    Returns:
        ACDCNightDataset: The mmseg dataset.

    Raises:
        ImportError: mmsegmentation is not installed (``pip install mmlowlight[seg]``).
    """
    try:
        from .acdc_mmseg import ACDCNightDataset
    except ImportError as err:
        raise ImportError('ACDCNightDataset needs mmsegmentation with mmcv ops: '
                          f'pip install "mmlowlight[seg]" ({err})') from err
    return ACDCNightDataset(**kwargs)
