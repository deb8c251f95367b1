# Default enhancer v2, fine-tuned: the v2 recipe (sgz-noguide_dsc-s12-expctl-nagf_..._400it) started
# from the official SGZ weights (Epoch99.pth, trained by the paper's full recipe: 100 epochs at
# full resolution with the ResNet-50 semantic guide) at the official learning rate, so that 200
# CPU iterations adapt the EFE to the exposure control and the denoiser in the loop instead of
# relearning it from scratch (from scratch, 400 iterations reach 17.2 dB on lol_val_pairs where
# the official EFE under the same control reaches 19.5 dB; README model card).
#   python tools/train.py configs/sgz/sgz-noguide_dsc-s12-expctl-nagf_adam-lr1e-4_bs8-256_200it_official-ft_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=../shared/data/unpaired/lol_train_low \
#                     val_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     test_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     load_from=../shared/data/sgz_official/Epoch99.pth
_base_ = ['./sgz-noguide_dsc-s12-expctl-nagf_adam-lr1e-3_bs8-256_400it_unpaired.py']

optim_wrapper = dict(optimizer=dict(lr=1e-4))
train_cfg = dict(max_iters=200, val_interval=50)
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=4))
# The official file (an official state dict; ZeroShotEnhancer adopts its e_conv* keys).
load_from = 'data/sgz_official/Epoch99.pth'
