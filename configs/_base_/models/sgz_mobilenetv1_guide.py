# The semantic loss with the one ImageNet-pretrained guide backbone that is available offline:
# MobileNetV1 x0.25 (3.8 MB, top-1 46.6 %, ../shared/data/pretrained/README entry) under the
# SGZ FPN top-down path (random N(0, 0.01) init, like the paper's top-down layers when the guide
# is built from an ImageNet classifier). The backbone's widths (C2..C5: 32-256) are an eighth of
# ResNet-50's, so the top-down path is narrowed from the paper's 256 channels (1x ResNet-50's C2)
# to 64 (2x this C2; 32 after smoothing): batch 8 of 256x256 on one CPU thread, the guide's
# forward + backward costs 0.07 s in the backbone and 0.27 s more in this top-down path; at 128
# channels the top-down path costs 0.57 s. Leaf configs append it to their losses:
#   model = dict(losses=[...zero-reference losses..., _base_.mobilenetv1_semantic_loss])
# A randomly initialised guide of the same shape (the ablation's control): set
#   guide.backbone.init_cfg=None.
mobilenetv1_guide = dict(
    type='FPNSegmentationGuide',
    num_classes=21,
    channels=64,
    smooth_channels=32,
    backbone=dict(
        type='MobileNetV1',
        init_cfg=dict(type='Pretrained',
                      checkpoint='../shared/data/pretrained/mobilenetv1_x0.25_imagenet.tar')))
mobilenetv1_semantic_loss = dict(type='SemanticGuidanceLoss', loss_weight=0.1,
                                 guide=mobilenetv1_guide)
# The whole ImageNet classifier as the guide (every weight pretrained, ImageNet's 1000 classes
# per stride-32 location): with a freshly initialised top-down head the guide's logits are
# nearly uniform, so the focal loss above is nearly constant.
mobilenetv1_classifier_semantic_loss = dict(
    type='SemanticGuidanceLoss',
    loss_weight=0.1,
    guide=dict(
        type='MobileNetV1DenseClassifier',
        init_cfg=dict(type='Pretrained',
                      checkpoint='../shared/data/pretrained/mobilenetv1_x0.25_imagenet.tar')))
