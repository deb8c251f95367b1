# YOLOX-s on ExDark (12 classes): mmdet's COCO recipe (Mosaic, MixUp, BatchSyncRandomResize, EMA)
# with ExDark's annotations, as written by tools/dataset_converters/exdark2coco.py.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

data_root = 'data/exdark/'
# The classes of ../_base_/datasets/exdark_detection.py (YOLOX wraps its own dataset config).
metainfo = dict(classes=('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair', 'Cup', 'Dog',
                         'Motorbike', 'People', 'Table'))
# ExDark boxes refer to the stored pixel grid: decode without EXIF rotation.
load_image = dict(type='LoadImageFromFile', color_type='color_ignore_orientation',
                  backend_args=None)

model = dict(bbox_head=dict(num_classes=12))
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/exdark_train.json',
            data_prefix=dict(img='ExDark/'),
            pipeline=[load_image, dict(type='LoadAnnotations', with_bbox=True)])))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/exdark_val.json',
        data_prefix=dict(img='ExDark/'),
        pipeline=[load_image] + _base_.test_pipeline[1:]))
test_dataloader = dict(
    dataset=dict(val_dataloader['dataset'], ann_file='annotations/exdark_test.json'))
val_evaluator = dict(ann_file=data_root + 'annotations/exdark_val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/exdark_test.json')
