import os.path as osp
import warnings

import pytest

from mmlowlight.datasets import UnpairedImageDataset
from mmlowlight.registry import DATASETS
from tests.test_datasets.helpers import write_folder

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='mmlowlight.PackEnhanceInputs')]


def _non_image_warnings(records):
    return [str(r.message) for r in records if 'non-image' in str(r.message)]


def test_recursive_listing_and_single_warning_naming_non_images(tmp_path):
    write_folder(str(tmp_path), ['a.png', 'sub/b.jpg', 'sub/deeper/c.PNG'])
    (tmp_path / 'notes.txt').write_text('hello')
    (tmp_path / 'sub' / 'labels.csv').write_text('x')
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter('always')
        dataset = UnpairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    messages = _non_image_warnings(records)
    assert len(messages) == 1
    assert 'notes.txt' in messages[0] and osp.join('sub', 'labels.csv') in messages[0]
    paths = [osp.relpath(dataset.get_data_info(i)['img_path'], str(tmp_path))
             for i in range(len(dataset))]
    assert paths == ['a.png', osp.join('sub', 'b.jpg'), osp.join('sub', 'deeper', 'c.PNG')]


def test_non_recursive(tmp_path):
    write_folder(str(tmp_path), ['a.png', 'sub/b.png'])
    dataset = UnpairedImageDataset(data_root=str(tmp_path), recursive=False)
    assert len(dataset) == 1


def test_unreadable_image_is_reported_by_path_and_skipped(tmp_path):
    write_folder(str(tmp_path), ['good.png'])
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not an image at all')
    with pytest.warns(UserWarning, match='unreadable') as records:
        dataset = UnpairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    assert any(str(bad) in str(r.message) for r in records)
    assert len(dataset) == 1
    assert dataset[0]['inputs'].shape == (3, 8, 10)


def test_file_that_breaks_at_load_time_is_replaced_in_training(tmp_path):
    write_folder(str(tmp_path), ['a.png', 'b.png'])
    dataset = UnpairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE)
    # Corrupt a file after the scan: loading must not stop a training run.
    broken = tmp_path / 'b.png'
    broken.write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 16)
    with pytest.warns(UserWarning, match=f'skipping {broken}'):
        for _ in range(6):  # the random refetch must land on a.png
            assert dataset[1]['data_samples'].img_path.endswith('a.png')


def test_test_mode_raises_with_path(tmp_path):
    write_folder(str(tmp_path), ['a.png'])
    dataset = UnpairedImageDataset(data_root=str(tmp_path), pipeline=PIPELINE, test_mode=True)
    (tmp_path / 'a.png').write_bytes(b'garbage')
    with pytest.raises(RuntimeError, match='a.png'):
        dataset[0]


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        UnpairedImageDataset(data_root=str(tmp_path / 'nowhere'))
    (tmp_path / 'readme.md').write_text('x')
    with pytest.warns(UserWarning, match='non-image'), \
            pytest.raises(ValueError, match='no readable'):
        UnpairedImageDataset(data_root=str(tmp_path))


def test_built_from_registry_with_prefix(tmp_path):
    write_folder(str(tmp_path / 'train'), ['a.png'])
    dataset = DATASETS.build(dict(type='UnpairedImageDataset', data_root=str(tmp_path),
                                  data_prefix=dict(img_path='train'), _scope_='mmlowlight'))
    assert dataset.get_data_info(0)['img_path'] == osp.join(str(tmp_path), 'train', 'a.png')
