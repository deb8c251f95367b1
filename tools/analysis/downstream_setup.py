"""The small models, data loaders and aux losses of ``dark_downstream_benchmark.py``.

Configs for mmengine's Runner (plain dicts); mmdet / mmseg are imported only when a config is
built from them.
"""
import argparse
from typing import Optional

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
# The joint aux losses: the zero-reference losses the default weights were trained with
# (configs/sgz/...exprange...): ExposureRangeLoss ('range') or Zero-DCE's fixed-level
# ExposureLoss ('level'), chosen with --aux-losses.
AUX_LOSSES = {
    'range': [
        dict(type='SpatialConsistencyLoss', loss_weight=1.0),
        dict(type='ColorConstancyLoss', loss_weight=5.0),
        dict(type='ExposureRangeLoss', loss_weight=10.0, patch_size=16, low=0.2, high=0.9),
        dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    ],
    'level': [
        dict(type='SpatialConsistencyLoss', loss_weight=1.0),
        dict(type='ColorConstancyLoss', loss_weight=5.0),
        dict(type='ExposureLoss', loss_weight=10.0),
        dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    ],
}


def det_model() -> dict:
    """mmdet's RetinaNet-R18-FPN, narrowed for 128 px images and trained from scratch."""
    from mmengine.hub import get_config
    model = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    model.backbone.update(base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1,
                          norm_eval=False, init_cfg=None)
    model.neck.update(in_channels=[32, 64, 128], out_channels=64, start_level=0,
                      add_extra_convs=False, num_outs=3)
    model.bbox_head.update(num_classes=3, in_channels=64, feat_channels=64, stacked_convs=2)
    model.bbox_head.anchor_generator.update(octave_base_scale=2, strides=[8, 16, 32])
    model.data_preprocessor.update(mean=MEAN, std=STD, bgr_to_rgb=True, pad_size_divisor=32)
    return model.to_dict()


def seg_model(image_size: int) -> dict:
    """An FCN head on a quarter-width ResNet-18-V1c (output stride 8), from scratch."""
    norm = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                               pad_val=0, seg_pad_val=255, size=(image_size, image_size)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=16, base_channels=16,
                      num_stages=4, out_indices=(3, ), dilations=(1, 1, 2, 4),
                      strides=(1, 2, 1, 1), norm_cfg=norm, norm_eval=False,
                      contract_dilation=True),
        decode_head=dict(type='FCNHead', in_channels=128, in_index=0, channels=64,
                         num_convs=1, concat_input=False, dropout_ratio=0.1, num_classes=4,
                         norm_cfg=norm, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                          loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def det_dataloader(root: str, img_dir: str, split: str, args: argparse.Namespace, train: bool,
                   num_images: Optional[int] = None) -> dict:
    from mmlowlight.datasets.synthetic import SHAPE_CLASSES
    size = args.image_size
    # Resize to the generated size is a no-op that records scale_factor (the head needs it).
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(size, size), keep_ratio=True)]
    pipeline += [dict(type='RandomFlip', prob=0.5)] if train else []
    pipeline += [dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                       'img_shape', 'scale_factor', 'flip',
                                                       'flip_direction'))]
    return dict(
        batch_size=args.batch_size, num_workers=0,
        sampler=dict(type='InfiniteSampler' if train else 'DefaultSampler', shuffle=train),
        dataset=dict(type='CocoDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                     ann_file=f'annotations/{split}.json', indices=num_images,
                     data_prefix=dict(img=f'{img_dir}/{split}/'), test_mode=not train,
                     filter_cfg=dict(filter_empty_gt=False), pipeline=pipeline))


def seg_dataloader(root: str, img_dir: str, split: str, args: argparse.Namespace, train: bool,
                   num_images: Optional[int] = None) -> dict:
    from mmlowlight.datasets.synthetic import SEGMENTATION_CLASSES
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    pipeline += [dict(type='RandomFlip', prob=0.5)] if train else []
    pipeline += [dict(type='PackSegInputs')]
    palette = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]]
    return dict(
        batch_size=args.batch_size, num_workers=0,
        sampler=dict(type='InfiniteSampler' if train else 'DefaultSampler', shuffle=train),
        dataset=dict(type='BaseSegDataset', data_root=root, indices=num_images,
                     metainfo=dict(classes=SEGMENTATION_CLASSES, palette=palette),
                     data_prefix=dict(img_path=f'{img_dir}/{split}',
                                      seg_map_path=f'masks/{split}'),
                     img_suffix='.png', seg_map_suffix='.png', test_mode=not train,
                     pipeline=pipeline))
