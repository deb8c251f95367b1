# ExDark (12 classes, 7,363 low-light images) in COCO format, official train/val/test split.
# Prepare with:
#   python tools/dataset_converters/exdark2coco.py data/exdark/ExDark \
#       data/exdark/ExDark_Annno data/exdark/imageclasslist.txt -o data/exdark/annotations
# Leaf configs add a model and a schedule, e.g. mmdet::_base_/models/retinanet_r50_fpn.py.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

dataset_type = 'CocoDataset'
data_root = 'data/exdark/'
metainfo = dict(classes=('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair', 'Cup', 'Dog',
                         'Motorbike', 'People', 'Table'))
backend_args = None

# The boxes were drawn on the stored pixel grid (MATLAB imread ignores EXIF orientation) and the
# converter records that grid's size, so images are decoded without EXIF rotation too.
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation',
         backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation',
         backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/exdark_train.json',
        data_prefix=dict(img='ExDark/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'], ann_file='annotations/exdark_val.json',
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(val_dataloader['dataset'], ann_file='annotations/exdark_test.json'))

val_evaluator = dict(ann_file=data_root + 'annotations/exdark_val.json')
test_evaluator = dict(val_evaluator, ann_file=data_root + 'annotations/exdark_test.json')
