# RetinaNet-R50-FPN on DARK FACE (faces), the plain mmdet baseline of the SGZ variants.
_base_ = [
    '../_base_/models/retinanet_r50_fpn.py', '../_base_/datasets/darkface_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py'
]

model = dict(bbox_head=dict(num_classes=1))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
