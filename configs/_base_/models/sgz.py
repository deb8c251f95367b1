# SGZ trained zero-shot (Zheng & Gupta, WACV 2022): the EFE + RIE enhancer and the five losses
# with the weights of the official training script. The semantic guide (ResNet-50 + FPN, frozen)
# starts from torchvision's ImageNet ResNet-50, downloaded through mmengine's Pretrained init.
zero_reference_losses = [
    dict(type='SpatialConsistencyLoss', loss_weight=1.0, patch_size=4),
    dict(type='ColorConstancyLoss', loss_weight=5.0),
    dict(type='ExposureLoss', loss_weight=10.0, patch_size=16, level=0.6),
    dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
]
semantic_loss = dict(
    type='SemanticGuidanceLoss',
    loss_weight=0.1,
    guide=dict(
        type='FPNSegmentationGuide',
        depth=50,
        num_classes=21,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/resnet50-0676ba61.pth')))

model = dict(
    type='ZeroShotEnhancer',
    data_preprocessor=dict(type='EnhanceDataPreprocessor', bgr_to_rgb=True),
    # scale_factor=1: the EFE sees the full-resolution training image, as officially.
    enhancer=dict(type='SGZEnhancer', conv_type='dsc', channels=32, num_iterations=8,
                  scale_factor=1),
    losses=zero_reference_losses + [semantic_loss])
