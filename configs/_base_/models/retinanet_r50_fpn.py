# mmdet's RetinaNet-R50-FPN with the ImageNet ResNet-50 fetched by URL: `torchvision://resnet50`
# imports torchvision, which CPU installs of mmlowlight do not have (same weights, see mmengine's
# hub/torchvision_0.12.json).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))
