import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO_ROOT

SEQUENCES = {'GOPR0351': ['GOPR0351_frame_000159', 'GOPR0351_frame_000200'],
             'GOPR0376': ['GOPR0376_frame_000001']}


def _png(path, value):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.full((8, 16), value, np.uint8)).save(path)


@pytest.fixture
def acdc_root(tmp_path):
    root = str(tmp_path / 'acdc')
    for split in ('train', 'val'):
        for seq, frames in SEQUENCES.items():
            for frame in frames:
                _png(osp.join(root, 'rgb_anon', 'night', split, seq, frame + '_rgb_anon.png'), 9)
                _png(osp.join(root, 'gt', 'night', split, seq,
                              frame + '_gt_labelTrainIds.png'), 1)
                # files of other kinds in the ACDC download must not be listed
                _png(osp.join(root, 'gt', 'night', split, seq, frame + '_gt_labelColor.png'), 2)
    return root


def _build(root, split='train', **kwargs):
    pytest.importorskip('mmseg.datasets', reason='needs mmsegmentation with mmcv ops')
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    cfg = dict(type='mmlowlight.ACDCNightDataset', data_root=root,
               data_prefix=dict(img_path=f'rgb_anon/night/{split}',
                                seg_map_path=f'gt/night/{split}'),
               pipeline=[], **kwargs)
    # as from an mmseg config: the default scope is mmseg, the type carries our prefix
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def test_lists_image_label_pairs(acdc_root):
    dataset = _build(acdc_root, 'val')
    pairs = [(osp.relpath(info['img_path'], acdc_root), osp.relpath(info['seg_map_path'],
                                                                    acdc_root))
             for info in map(dataset.get_data_info, range(len(dataset)))]
    expected = sorted(
        (osp.join('rgb_anon', 'night', 'val', seq, f + '_rgb_anon.png'),
         osp.join('gt', 'night', 'val', seq, f + '_gt_labelTrainIds.png'))
        for seq, frames in SEQUENCES.items() for f in frames)
    assert pairs == expected
    assert dataset.metainfo['classes'][0] == 'road' and len(dataset.metainfo['classes']) == 19
    # the pipeline-free sample is the data info itself (mmseg's BaseDataset behaviour)
    assert dataset[0]['seg_map_path'].endswith('GOPR0351_frame_000159_gt_labelTrainIds.png')


def test_missing_label_is_named(acdc_root):
    label = osp.join(acdc_root, 'gt', 'night', 'train', 'GOPR0376',
                     'GOPR0376_frame_000001_gt_labelTrainIds.png')
    os.remove(label)
    with pytest.raises(FileNotFoundError, match='1 label'):
        try:
            _build(acdc_root, 'train')
        except FileNotFoundError as err:
            assert label in str(err)
            raise


def test_empty_split_is_an_error(acdc_root):
    os.makedirs(osp.join(acdc_root, 'rgb_anon', 'night', 'test', 'GOPR0351'))
    with pytest.raises(FileNotFoundError, match='no "\\*_rgb_anon.png" images'):
        _build(acdc_root, 'test')


def test_base_config_builds(acdc_root):
    pytest.importorskip('mmseg.datasets', reason='needs mmsegmentation with mmcv ops')
    from mmengine.config import Config
    from mmengine.registry import DefaultScope, init_default_scope
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'acdc_night.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = acdc_root
    init_default_scope('mmseg')
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 3
    assert type(dataset).__name__ == 'ACDCNightDataset'


def test_registration_does_not_import_mmseg():
    code = ('import sys, mmlowlight.datasets; from mmlowlight.registry import DATASETS; '
            'assert DATASETS.get("ACDCNightDataset") is not None; '
            'bad = sorted(m for m in sys.modules if m.split(".")[0] == "mmseg"); '
            'assert not bad, bad')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
