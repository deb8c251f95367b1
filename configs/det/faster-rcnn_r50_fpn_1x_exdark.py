# Faster R-CNN-R50-FPN on ExDark (12 classes), the plain mmdet baseline of the SGZ variants.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/exdark_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=12)))
