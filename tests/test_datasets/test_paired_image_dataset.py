import os.path as osp

import numpy as np
import pytest

from mmlowlight.datasets import PairedImageDataset
from tests.test_datasets.helpers import write_folder, write_image

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='mmlowlight.LoadReferenceImage'),
    dict(type='mmlowlight.PackEnhanceInputs')
]


def test_pairs_matched_by_relative_path_and_loaded(tmp_path):
    write_folder(str(tmp_path / 'low'), ['1.png', 'sub/2.png'])
    gt = write_image(str(tmp_path / 'high' / '1.png'), value=120, seed=7)
    write_image(str(tmp_path / 'high' / 'sub' / '2.jpg'), value=120)  # other extension
    dataset = PairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE, test_mode=True)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [osp.relpath(i['gt_img_path'], str(tmp_path)) for i in infos] == [
        osp.join('high', '1.png'), osp.join('high', 'sub', '2.jpg')]
    sample = dataset[0]['data_samples']
    assert sample.gt_img.dtype.is_floating_point is False
    np.testing.assert_array_equal(sample.gt_img.permute(1, 2, 0).numpy(), gt)


def test_missing_reference_is_named(tmp_path):
    write_folder(str(tmp_path / 'low'), ['1.png', '2.png'])
    write_folder(str(tmp_path / 'high'), ['1.png'])
    with pytest.raises(ValueError, match=r"1 image\(s\).*2\.png"):
        PairedImageDataset(data_root=str(tmp_path))


def test_reference_of_other_size_is_reported(tmp_path):
    write_folder(str(tmp_path / 'low'), ['1.png'])
    write_image(str(tmp_path / 'high' / '1.png'), height=9)
    dataset = PairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE, test_mode=True)
    with pytest.raises(RuntimeError, match='same size'):
        dataset[0]


def test_prefix_keys_are_checked():
    with pytest.raises(ValueError, match='gt_img_path'):
        PairedImageDataset(data_prefix=dict(img_path='low'))
