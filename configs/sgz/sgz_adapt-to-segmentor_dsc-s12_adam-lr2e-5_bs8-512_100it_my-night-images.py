# Adapt the package's default enhancer to YOUR segmentor on YOUR unlabelled night images: the
# recipe of sgz_adapt-to-detector_..., with MMSegGuide, whose pseudo-labels are the pixels the
# segmentor labels with softmax confidence >= 0.5 (its cross-entropy on them trains the
# enhancer; doubtful pixels are ignored).
#   python tools/train.py configs/sgz/sgz_adapt-to-segmentor_dsc-s12_adam-lr2e-5_bs8-512_100it_my-night-images.py \
#       --work-dir work_dirs/my_adapted_enhancer \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/night_images \
#           model.losses.5.guide.config=/path/to/my_segmentor_config.py \
#           model.losses.5.guide.checkpoint=/path/to/my_segmentor.pth
# Then: data_preprocessor=dict(type='mmlowlight.LowLightSegDataPreProcessor',
#                              enhancer_checkpoint='work_dirs/my_adapted_enhancer/iter_100.pth')
_base_ = ['./sgz_adapt-to-detector_dsc-s12_adam-lr2e-5_bs8-512_100it_my-night-images.py']

segmentor_config = 'configs/seg/deeplabv3plus_r50-d8_4xb2-40k_acdc-night-512x1024.py'
segmentor_checkpoint = 'work_dirs/deeplabv3plus_r50-d8_4xb2-40k_acdc-night-512x1024/iter_40000.pth'

# The detector recipe's losses, the guide replaced by the segmentor.
model = dict(losses=_base_.model.losses[:5] + [
    dict(type='PseudoLabelGuidanceLoss', score_threshold=0.5, loss_weight=1.0,
         guide=dict(type='MMSegGuide', config=segmentor_config,
                    checkpoint=segmentor_checkpoint)),
])
