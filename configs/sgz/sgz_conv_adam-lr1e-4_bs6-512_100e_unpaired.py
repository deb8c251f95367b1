# Ablation: plain 3x3 convolutions in the EFE instead of depthwise-separable ones (the "tc" variant;
# 67,299 parameters instead of 10,561), everything else as the official recipe.
_base_ = ['./sgz_dsc_adam-lr1e-4_bs6-512_100e_unpaired.py']
model = dict(enhancer=dict(conv_type='conv'))
