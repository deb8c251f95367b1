# The package's CPU recipe (sgz-noguide_dsc-s4_..._400it) with the semantic loss back in, guided
# by the ImageNet-pretrained MobileNetV1 x0.25 FPN (configs/_base_/models/sgz_mobilenetv1_guide.py)
# and the EFE at 1/12 resolution (the official inference scale) in training and inference.
# Runs offline; the guide's weights are read from ../shared/data/pretrained (run from the
# repository root, or point ...backbone.init_cfg.checkpoint at the file). The paper's own guide,
# ImageNet ResNet-50 (a download), is in configs/_base_/models/sgz.py.
#   python tools/train.py configs/sgz/sgz-mbv1guide_dsc-s12_adam-lr1e-3_bs8-256_400it_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=../shared/data/unpaired \
#                     val_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     test_dataloader.dataset.data_root=../shared/data/lol15/low
_base_ = [
    './sgz-noguide_dsc-s4_adam-lr1e-3_bs8-256_400it_unpaired.py',
    '../_base_/models/sgz_mobilenetv1_guide.py'
]

model = dict(
    enhancer=dict(scale_factor=12),
    losses=_base_.model.losses + [_base_.mobilenetv1_semantic_loss])
