# DARK FACE (one class, 6,000 labelled night images, 1080x720) in COCO format.
# Prepare with (seeded 90/10 split of the labelled set; there is no official val split):
#   python tools/dataset_converters/darkface2coco.py data/darkface/image data/darkface/label \
#       -o data/darkface/annotations --val-ratio 0.1 --seed 0
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

dataset_type = 'CocoDataset'
data_root = 'data/darkface/'
metainfo = dict(classes=('face', ))
backend_args = None

# Faces in DARK FACE are tiny (median ~15 px): keep the full resolution (1080 on the long side).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1080, 720), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1080, 720), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/darkface_train.json',
        data_prefix=dict(img='image/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        train_dataloader['dataset'], ann_file='annotations/darkface_val.json',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(ann_file=data_root + 'annotations/darkface_val.json')
test_evaluator = val_evaluator
