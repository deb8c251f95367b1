# The recipe of the package's default weights v2 (mmlowlight/weights/sgz_default.pth): the CPU
# recipe (sgz-noguide_dsc-s4_..._400it) with
# - the EFE at 1/12 resolution (the official inference scale: cheap in training and inference);
# - CurveExposureControl in the loop: the factor map is scaled per image so that a dark image
#   ends at a natural level and a well-lit one is left alone (the EFE learns the map's shape,
#   the control sets its strength; trained as it is run);
# - NoiseAdaptiveGuidedFilter before the curve (parameter-free; the losses see what users get).
# Trained on the LOL-train low images only (sci_easy/sci_medium stay held out for the
# real-photo figures of tools/analysis/evaluate_enhancer.py):
#   python tools/train.py configs/sgz/sgz-noguide_dsc-s12-expctl-nagf_adam-lr1e-3_bs8-256_400it_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=../shared/data/unpaired/lol_train_low \
#                     val_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     test_dataloader.dataset.data_root=../shared/data/lol15/low
_base_ = ['./sgz-noguide_dsc-s4_adam-lr1e-3_bs8-256_400it_unpaired.py']

model = dict(
    enhancer=dict(
        scale_factor=12,
        # share_channels=False, spatial_variation=1, black_percentile=0 and detail_radius=0:
        # the default weights were trained before the map reshaping, the black level and the
        # denoiser's second scale existed (none has parameters; inference uses all of them,
        # as the weights file records: see the README model card).
        exposure_control=dict(type='CurveExposureControl', share_channels=False,
                              spatial_variation=1.0),
        denoiser=dict(type='NoiseAdaptiveGuidedFilter', scale=8, radius=1, strength=2.5,
                      black_percentile=0, detail_radius=0)))
