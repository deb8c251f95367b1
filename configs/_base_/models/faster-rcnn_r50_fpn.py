# mmdet's Faster R-CNN-R50-FPN with the ImageNet ResNet-50 fetched by URL (no torchvision needed;
# see retinanet_r50_fpn.py).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))
