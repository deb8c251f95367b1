# The package's CPU recipe (sgz-noguide_dsc-s4_..._400it) with the EFE at 1/12 resolution (the
# official inference scale) in training and inference: the "no semantic loss" arm of the guide
# ablation (tools/analysis/guide_ablation.py), next to
# sgz-mbv1guide_dsc-s12_adam-lr1e-3_bs8-256_400it_unpaired.py.
_base_ = ['./sgz-noguide_dsc-s4_adam-lr1e-3_bs8-256_400it_unpaired.py']

model = dict(enhancer=dict(scale_factor=12))
