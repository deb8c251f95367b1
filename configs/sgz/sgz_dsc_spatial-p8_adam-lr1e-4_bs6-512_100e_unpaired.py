# Ablation: spatial-consistency loss on 8x8 instead of 4x4 patches (coarser structure constraint),
# everything else as the official recipe.
_base_ = ['./sgz_dsc_adam-lr1e-4_bs6-512_100e_unpaired.py']
spatial_loss, *other_zero_reference_losses = _base_.zero_reference_losses
model = dict(losses=[dict(spatial_loss, patch_size=8)] + other_zero_reference_losses +
             [_base_.semantic_loss])
