"""tools/train.py with the MobileNetV1-guided config: a few iterations, then resume."""
import os.path as osp
import sys

from mmlowlight.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT, SHARED_DATA
from tests.test_tools.test_train import _iteration, _options, _run, images  # noqa: F401

CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz',
                  'sgz-mbv1guide_dsc-s12_adam-lr1e-3_bs8-256_400it_unpaired.py')
GUIDE_WEIGHTS = osp.join(SHARED_DATA, 'pretrained', 'mobilenetv1_x0.25_imagenet.tar')


def test_train_and_resume_with_the_mobilenet_guide(images, tmp_path):  # noqa: F811
    extra = ['model.enhancer.scale_factor=4']  # the 24 px crops: a 6 px EFE input
    if osp.isfile(GUIDE_WEIGHTS):
        extra.append(f'model.losses.4.guide.backbone.init_cfg.checkpoint={GUIDE_WEIGHTS}')
    else:  # users' machines: the same network, randomly initialised
        extra.append('model.losses.4.guide.backbone.init_cfg=None')
    work_dir = str(tmp_path / 'work')
    train = [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir]
    output = _run(train + _options(images, max_iters=2) + extra)
    assert 'Iter(train) [2/2]' in output and 'loss_semantic' in output
    if osp.isfile(GUIDE_WEIGHTS):
        assert f'load model from: {GUIDE_WEIGHTS}' in output
    state = load_checkpoint_file(osp.join(work_dir, 'iter_2.pth'))['state_dict']
    assert any(k.startswith('enhancer.efe.') for k in state)
    assert not any('.guide.' in k for k in state)  # the frozen guide is rebuilt, not stored

    resumed = _run(train + ['--resume'] + _options(images, max_iters=4) + extra)
    assert 'resumed epoch: 0, iter: 2' in resumed and 'Iter(train) [4/4]' in resumed
    assert _iteration(osp.join(work_dir, 'iter_4.pth')) == 4
