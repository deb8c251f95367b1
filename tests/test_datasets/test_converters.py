import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmlowlight.datasets.converters import (EXDARK_CLASSES, ConversionError, convert_darkface,
                                            convert_exdark, parse_bbgt_file, parse_darkface_label,
                                            parse_image_class_list)
from mmlowlight.datasets.converters.cli import run_converter
from tests.conftest import REPO_ROOT


def _write(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def _image(path, width, height):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(path)


@pytest.fixture
def exdark_tree(tmp_path):
    """A miniature ExDark in the official layout: class folders, bbGt files, imageclasslist."""
    root = tmp_path / 'exdark'
    img_root, ann_root = str(root / 'ExDark'), str(root / 'ExDark_Annno')
    _image(osp.join(img_root, 'Bicycle', '2015_00001.png'), 64, 48)
    _image(osp.join(img_root, 'Bicycle', '2015_00002.JPG'), 40, 30)
    _image(osp.join(img_root, 'Cup', '2015_00003.jpeg'), 50, 50)
    header = '% bbGt version=3\n'
    _write(osp.join(ann_root, 'Bicycle', '2015_00001.png.txt'),
           header + 'Bicycle 10 5 20 15 0 0 0 0 0 0 0\nPeople 0 0 8 9 0 0 0 0 0 0 0\n')
    # Annotation name in another case than the image; box running off the right edge.
    _write(osp.join(ann_root, 'Bicycle', '2015_00002.jpg.txt'),
           header + 'bicycle 30 2 20 10 0 0 0 0 0 0 0\n')
    _write(osp.join(ann_root, 'Cup', '2015_00003.jpeg.txt'),
           header + 'Cup 1 2 3 4 0 0 0 0 0 0 0\nTable 5 6 7 8 0 0 0 0 0 0 0\n')
    split_file = str(root / 'imageclasslist.txt')
    _write(split_file, 'Name | Class | Light | In/Out | Train/Val/Test\n'
           '2015_00001.png 1 2 1 1\n2015_00002.JPG 1 6 2 2\n2015_00003.jpeg 8 5 1 3\n')
    return img_root, ann_root, split_file


class TestExDark:

    def test_parsers(self, exdark_tree):
        _, ann_root, split_file = exdark_tree
        entries = parse_image_class_list(split_file)
        assert [(e.name, e.class_index, e.lighting, e.indoor_outdoor, e.split)
                for e in entries] == [('2015_00001.png', 1, 2, 1, 'train'),
                                      ('2015_00002.JPG', 1, 6, 2, 'val'),
                                      ('2015_00003.jpeg', 8, 5, 1, 'test')]
        objects = parse_bbgt_file(osp.join(ann_root, 'Bicycle', '2015_00001.png.txt'))
        assert objects == [(0, (10.0, 5.0, 20.0, 15.0)),
                           (EXDARK_CLASSES.index('People'), (0.0, 0.0, 8.0, 9.0))]

    def test_convert_splits_boxes_sizes(self, exdark_tree, tmp_path):
        img_root, ann_root, split_file = exdark_tree
        out_dir = str(tmp_path / 'ann')
        written = convert_exdark(img_root, ann_root, split_file, out_dir)
        assert written == {s: osp.join(out_dir, f'exdark_{s}.json')
                           for s in ('train', 'val', 'test')}
        assert sorted(os.listdir(out_dir)) == ['exdark_test.json', 'exdark_train.json',
                                               'exdark_val.json']  # no temp files left
        train, val, test = (json.load(open(written[s])) for s in ('train', 'val', 'test'))
        assert [c['name'] for c in train['categories']] == list(EXDARK_CLASSES)
        assert [c['id'] for c in train['categories']] == list(range(1, 13))
        assert train['images'] == [dict(id=1, file_name='Bicycle/2015_00001.png', width=64,
                                        height=48)]
        assert [(a['category_id'], a['bbox'], a['area'], a['iscrowd'])
                for a in train['annotations']] == [(1, [10.0, 5.0, 20.0, 15.0], 300.0, 0),
                                                   (11, [0.0, 0.0, 8.0, 9.0], 72.0, 0)]
        assert val['images'][0]['file_name'] == 'Bicycle/2015_00002.JPG'
        assert (val['images'][0]['width'], val['images'][0]['height']) == (40, 30)
        # clipped at the right border (x 30..50 -> 30..40)
        assert val['annotations'][0]['bbox'] == [30.0, 2.0, 10.0, 10.0]
        assert [a['category_id'] for a in test['annotations']] == [8, 12]
        assert {a['image_id'] for a in test['annotations']} == {test['images'][0]['id']}

    def test_bad_files_reported_by_path(self, exdark_tree, tmp_path):
        img_root, ann_root, split_file = exdark_tree
        bad = osp.join(ann_root, 'Bicycle', '2015_00001.png.txt')
        _write(bad, '% bbGt version=3\nSpaceship 1 2 3 4\n')
        missing = osp.join(ann_root, 'Cup', '2015_00003.jpeg.txt')
        os.remove(missing)
        with pytest.raises(ConversionError) as info:
            convert_exdark(img_root, ann_root, split_file, str(tmp_path / 'out'))
        message = str(info.value)
        assert f'{bad}:2: unknown class' in message
        assert missing in message and 'missing' in message
        assert not osp.exists(tmp_path / 'out')  # nothing written on failure
        with pytest.warns(UserWarning, match='2 problem'):
            written = convert_exdark(img_root, ann_root, split_file, str(tmp_path / 'out'),
                                     skip_invalid=True)
        assert json.load(open(written['train']))['images'] == []
        assert len(json.load(open(written['val']))['images']) == 1

    def test_malformed_inputs(self, tmp_path):
        no_header = str(tmp_path / 'a.png.txt')
        _write(no_header, 'Bicycle 1 2 3 4\n')
        with pytest.raises(ConversionError, match='not a bbGt file'):
            parse_bbgt_file(no_header)
        short = str(tmp_path / 'b.png.txt')
        _write(short, '% bbGt version=3\nBicycle 1 2\n')
        with pytest.raises(ConversionError, match=r'b\.png\.txt:2'):
            parse_bbgt_file(short)
        split_file = str(tmp_path / 'list.txt')
        _write(split_file, 'Name | Class | Light | In/Out | Train/Val/Test\nx.png 1 2 1 4\n')
        with pytest.raises(ConversionError, match=r'list\.txt:2: split code 4'):
            parse_image_class_list(split_file)

    def test_unknown_split(self, exdark_tree, tmp_path):
        with pytest.raises(ValueError, match='trainval'):
            convert_exdark(*exdark_tree, str(tmp_path), splits=['trainval'])

    def test_cli(self, exdark_tree, tmp_path):
        out_dir = str(tmp_path / 'cli')
        result = subprocess.run([
            sys.executable,
            osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'exdark2coco.py'), *exdark_tree,
            '-o', out_dir, '--splits', 'train'
        ], capture_output=True, text=True, cwd=REPO_ROOT)
        assert result.returncode == 0, result.stderr
        assert os.listdir(out_dir) == ['exdark_train.json']


class TestDarkFace:

    @pytest.fixture
    def darkface_tree(self, tmp_path):
        image_dir, label_dir = str(tmp_path / 'image'), str(tmp_path / 'label')
        for i in range(1, 11):
            _image(osp.join(image_dir, f'{i}.png'), 32 + i, 24)
            _write(osp.join(label_dir, f'{i}.txt'), f'2\n1 2 5 8\n{i} 0 {i + 4} 30\n')
        return image_dir, label_dir

    def test_parse(self, darkface_tree):
        assert parse_darkface_label(osp.join(darkface_tree[1], '3.txt')) == [(1, 2, 5, 8),
                                                                             (3, 0, 7, 30)]

    def test_convert(self, darkface_tree, tmp_path):
        written = convert_darkface(*darkface_tree, str(tmp_path / 'out'), val_ratio=0.2, seed=1)
        train, val = (json.load(open(written[s])) for s in ('train', 'val'))
        assert len(train['images']) == 8 and len(val['images']) == 2
        assert train['categories'] == [dict(id=1, name='face')]
        image = next(img for img in train['images'] + val['images']
                     if img['file_name'] == '3.png')
        assert (image['width'], image['height']) == (35, 24)
        split = train if image in train['images'] else val
        boxes = [a['bbox'] for a in split['annotations'] if a['image_id'] == image['id']]
        assert boxes == [[1.0, 2.0, 4.0, 6.0], [3.0, 0.0, 4.0, 24.0]]  # y clipped to 24
        # the same seed gives the same split, another seed another one
        again = convert_darkface(*darkface_tree, str(tmp_path / 'again'), val_ratio=0.2, seed=1)
        assert json.load(open(again['val']))['images'] == val['images']
        other = convert_darkface(*darkface_tree, str(tmp_path / 'other'), val_ratio=0.2, seed=7)
        names = {img['file_name'] for img in json.load(open(other['val']))['images']}
        assert names != {img['file_name'] for img in val['images']}

    def test_bad_labels_reported_by_path(self, darkface_tree, tmp_path):
        image_dir, label_dir = darkface_tree
        wrong_count = osp.join(label_dir, '2.txt')
        _write(wrong_count, '3\n1 2 3 4\n')
        reversed_box = osp.join(label_dir, '4.txt')
        _write(reversed_box, '1\n9 2 3 4\n')
        os.remove(osp.join(label_dir, '5.txt'))
        with pytest.raises(ConversionError) as info:
            convert_darkface(image_dir, label_dir, str(tmp_path / 'out'))
        message = str(info.value)
        assert f'{wrong_count}: the first line says 3 face(s) but 1 box line(s)' in message
        assert f'{reversed_box}:2: xmax < xmin' in message
        assert osp.join(label_dir, '5.txt') in message
        with pytest.raises(ValueError, match='val_ratio'):
            convert_darkface(image_dir, label_dir, str(tmp_path / 'out'), val_ratio=1.0)

    def test_cli_helper_exits_with_the_message(self, darkface_tree, tmp_path, capsys):
        image_dir, label_dir = darkface_tree
        run_converter(convert_darkface, image_dir, label_dir, str(tmp_path / 'ok'))
        assert capsys.readouterr().out.splitlines() == [
            f'train: {tmp_path / "ok" / "darkface_train.json"}',
            f'val: {tmp_path / "ok" / "darkface_val.json"}']
        bad = osp.join(label_dir, '7.txt')
        _write(bad, 'seven\n')
        pattern = f'(?s)^error: .*{re.escape(bad)}:1: expected the face count'
        with pytest.raises(SystemExit, match=pattern):
            run_converter(convert_darkface, image_dir, label_dir, str(tmp_path / 'bad'))
