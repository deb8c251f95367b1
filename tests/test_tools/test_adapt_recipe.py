"""The label-free adaptation recipe through tools/train.py, and its checkpoint in a det config."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmlowlight.registry import MODELS
from mmlowlight.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.test_datasets.helpers import write_folder
from tests.test_models.test_guides.test_task_guides import tiny_detector_cfg

pytest.importorskip('mmdet.models')

RECIPE = osp.join(REPO_ROOT, 'configs', 'sgz',
                  'sgz_adapt-to-detector_dsc-s12_adam-lr2e-5_bs8-512_100it_my-night-images.py')


def test_recipe_adapts_and_the_checkpoint_loads_in_a_det_config(tmp_path):
    images = str(tmp_path / 'night')
    write_folder(images, ['a.png', 'b.png', 'c.png'], height=48, width=64)
    detector_cfg = tmp_path / 'my_detector.py'
    Config(dict(model=tiny_detector_cfg())).dump(str(detector_cfg))
    torch.manual_seed(0)
    detector = MODELS.build(dict(type='mmlowlight.MMDetGuide', config=str(detector_cfg)))
    detector_ckpt = str(tmp_path / 'my_detector.pth')
    torch.save(dict(state_dict=detector.detector.state_dict()), detector_ckpt)
    work_dir = str(tmp_path / 'adapted')
    command = [sys.executable, 'tools/train.py', RECIPE, '--work-dir', work_dir,
               '--cfg-options', f'train_dataloader.dataset.data_root={images}',
               'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
               'train_dataloader.dataset.pipeline.1.crop_size=32',
               f'model.losses.5.guide.config={detector_cfg}',
               f'model.losses.5.guide.checkpoint={detector_ckpt}',
               'model.losses.5.score_threshold=0.01',
               'train_cfg.max_iters=2', 'default_hooks.logger.interval=1',
               'default_hooks.checkpoint.interval=2']
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    # The log shows the guide working: its loss and the pseudo-labels per image.
    assert 'loss_guide' in output and 'guide_pseudo_labels' in output and 'drift' in output

    checkpoint = osp.join(work_dir, 'iter_2.pth')
    meta = load_checkpoint_file(checkpoint)['meta']['enhancer']
    assert meta['exposure_control']['type'] == 'CurveExposureControl'
    preprocessor = MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor',
                                     enhancer_checkpoint=checkpoint))
    assert type(preprocessor.enhancer.denoiser).__name__ == 'NoiseAdaptiveGuidedFilter'
    assert checkpoint in preprocessor.pipeline_description
