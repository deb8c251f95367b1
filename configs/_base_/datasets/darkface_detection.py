# DARK FACE (one class, 6,000 labelled night images, 1080x720) in COCO format.
# Prepare with (seeded 90/10 split of the labelled set; there is no official val split):
#   python tools/dataset_converters/darkface2coco.py data/darkface/image data/darkface/label \
#       -o data/darkface/annotations --val-ratio 0.1 --seed 0
# Pipelines are mmdet's COCO ones: the 1333x800 resize enlarges the images (faces are tiny,
# median about 15 px).
_base_ = 'mmdet::_base_/datasets/coco_detection.py'

dataset_type = 'CocoDataset'
data_root = 'data/darkface/'
metainfo = dict(classes=('face', ))

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/darkface_train.json',
        data_prefix=dict(img='image/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=8)))
val_dataloader = dict(
    dataset=dict(train_dataloader['dataset'], ann_file='annotations/darkface_val.json'))
test_dataloader = val_dataloader

val_evaluator = dict(ann_file=data_root + 'annotations/darkface_val.json')
test_evaluator = val_evaluator
