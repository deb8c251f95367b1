# Fine-tune the package's default weights (mmlowlight/weights/sgz_default.pth) on your own folder
# of dark photos (any layout, sub-folders included; no references, no labels):
#   python tools/train.py configs/sgz/sgz-noguide-finetune_default-weights_adam-lr1e-4_bs8-256_200it_my-images.py \
#       --work-dir work_dirs/my_finetune \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/my_dark_photos
# A short trial first: add train_cfg.max_iters=20 to the --cfg-options.
#
# The recipe (losses, crops, optimiser) is the one the default weights were trained with (_base_;
# tests/test_configs/test_finetune_config.py checks that it is the config they record), at a 10x
# lower learning rate. The enhancer is built as the weights file itself implies (architecture of
# its tensors, arguments in its meta['enhancer']), so whatever the package's default weights
# are, they load into a model of their own shape. No validation (your folder has no held-out part); the loss is logged every 5
# iterations and a checkpoint written every 100 and at the end.
_base_ = ['./sgz-noguide_dsc-s12-expctl-nagf_exprange_adam-lr1e-4_bs8-256_100it_official-ft_unpaired.py']

# (after _base_: mmengine reads a config whose first statement is an import as a lazy-import one)
from mmlowlight.models.enhancers import DEFAULT_CHECKPOINT  # noqa: E402
from mmlowlight.models.enhancers import enhancer_config_from_checkpoint

load_from = DEFAULT_CHECKPOINT
model = dict(enhancer=dict(_delete_=True, **enhancer_config_from_checkpoint(DEFAULT_CHECKPOINT)))

train_dataloader = dict(dataset=dict(data_root='data/my_dark_images'))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

optim_wrapper = dict(optimizer=dict(lr=1e-4))
train_cfg = dict(max_iters=200, val_interval=200)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=100, max_keep_ckpts=2))
