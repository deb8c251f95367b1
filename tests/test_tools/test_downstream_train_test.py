"""tools/train.py + tools/test.py on the downstream SGZ configs, with tiny fixtures.

A jointly trained RetinaNet (COCO-format ExDark layout) and DeepLabV3+ (ACDC night layout) train
two iterations, log the enhancer's auxiliary losses and are evaluated from their checkpoint.
Test-side leaf configs shrink images, loaders and backbones (ResNet-18 for ResNet-50) so that
each run takes seconds; tests/test_configs checks the full-size configs build.
"""
import glob
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO_ROOT

EXDARK_CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair', 'Cup', 'Dog',
                  'Motorbike', 'People', 'Table')


def dark_image(rng, size=(64, 64)):
    return Image.fromarray(rng.integers(0, 50, (*size, 3), dtype=np.uint8))


def write_coco_fixture(root):
    rng = np.random.default_rng(0)
    (root / 'images').mkdir(parents=True)
    images, annotations = [], []
    for i in range(4):
        dark_image(rng).save(root / 'images' / f'{i}.png')
        images.append(dict(id=i, file_name=f'{i}.png', height=64, width=64))
        annotations.append(dict(id=i, image_id=i, category_id=1 + i % 3, bbox=[8, 10, 30, 24],
                                area=720, iscrowd=0))
    categories = [dict(id=k + 1, name=name) for k, name in enumerate(EXDARK_CLASSES)]
    (root / 'ann.json').write_text(json.dumps(
        dict(images=images, annotations=annotations, categories=categories)))


def write_acdc_fixture(root):
    rng = np.random.default_rng(0)
    for split, count in (('train', 4), ('val', 2)):
        img_dir = root / 'rgb_anon' / 'night' / split / 'GOPR0001'
        gt_dir = root / 'gt' / 'night' / split / 'GOPR0001'
        img_dir.mkdir(parents=True)
        gt_dir.mkdir(parents=True)
        for i in range(count):
            dark_image(rng).save(img_dir / f'GOPR0001_{i:06d}_rgb_anon.png')
            label = rng.integers(0, 19, (64, 64), dtype=np.uint8)
            label[:4] = 255
            Image.fromarray(label).save(gt_dir / f'GOPR0001_{i:06d}_gt_labelTrainIds.png')


DET_LEAF = '''_base_ = {base!r}
data_root = {root!r}
model = dict(
    backbone=dict(depth=18, init_cfg=None), neck=dict(in_channels=[64, 128, 256, 512]),
    data_preprocessor=dict(enhancer_checkpoint=False),
    test_cfg=dict(score_thr=0.0, max_per_img=10))  # random weights: keep some boxes to score
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True), dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor'))]
loader = dict(num_workers=0, persistent_workers=False)
dataset = dict(data_root=data_root, ann_file='ann.json', data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=2, **loader, dataset=dict(**dataset, pipeline=train_pipeline))
test_dataloader = dict(batch_size=2, **loader,
                       dataset=dict(**dataset, test_mode=True, pipeline=test_pipeline))
test_evaluator = dict(ann_file=data_root + 'ann.json')
train_cfg = dict(max_epochs=1)
val_cfg = val_dataloader = val_evaluator = None  # evaluated by tools/test.py instead
default_hooks = dict(logger=dict(interval=1))
'''

SEG_LEAF = '''_base_ = {base!r}
data_root = {root!r}
crop_size = (48, 48)
model = dict(
    pretrained=None, backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=64, c1_in_channels=64, c1_channels=16),
    auxiliary_head=dict(in_channels=256, channels=32),
    data_preprocessor=dict(size=crop_size, enhancer_checkpoint=False))
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size), dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(batch_size=2, **loader,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
test_dataloader = dict(batch_size=1, **loader,
                       dataset=dict(data_root=data_root, pipeline=test_pipeline))
train_cfg = dict(max_iters=2)
val_cfg = val_dataloader = val_evaluator = None  # evaluated by tools/test.py instead
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
'''

CASES = {
    'det': dict(config='configs/det/retinanet_r50_fpn_sgz-joint_1x_exdark.py', leaf=DET_LEAF,
                fixture=write_coco_fixture, checkpoint='epoch_1.pth', metric='coco/bbox_mAP',
                module='mmdet.models'),
    'seg': dict(config='configs/seg/deeplabv3plus_r50-d8_sgz-joint_4xb2-40k_acdc-night-512x1024.py',
                leaf=SEG_LEAF, fixture=write_acdc_fixture, checkpoint='iter_2.pth',
                metric='mIoU', module='mmseg.models'),
}
AUX_LOSSES = ('loss_spatial', 'loss_color', 'loss_exposure', 'loss_smooth')


def run_tool(*args):
    result = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_joint_config_trains_and_tests(task, tmp_path):
    case = CASES[task]
    pytest.importorskip(case['module'])
    data_root = tmp_path / 'data'
    case['fixture'](data_root)
    leaf = tmp_path / f'tiny_{task}.py'
    leaf.write_text(case['leaf'].format(base=osp.join(REPO_ROOT, case['config']),
                                        root=str(data_root) + '/'))
    work_dir = tmp_path / 'work'

    run_tool('tools/train.py', str(leaf), '--work-dir', str(work_dir))
    checkpoint = work_dir / case['checkpoint']
    assert checkpoint.is_file()
    scalars = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    logged = [json.loads(line) for line in open(scalars[0])]
    train_steps = [entry for entry in logged if 'loss' in entry]
    assert len(train_steps) == 2
    for entry in train_steps:
        assert set(AUX_LOSSES) <= set(entry), entry

    output = run_tool('tools/test.py', str(leaf), str(checkpoint), '--work-dir',
                      str(tmp_path / 'test'))
    assert case['metric'] in output
