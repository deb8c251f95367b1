import os
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from mmengine.visualization import Visualizer

from mmlowlight.engine.hooks import EnhancementVisualizationHook
from mmlowlight.engine.hooks.enhancement_visualization_hook import factor_map_to_image


def _prediction(path='dark/img_7.png', height=6, width=5):
    sample = BaseDataElement(metainfo=dict(img_path=path))
    sample.input_img = torch.full((3, height, width), 0.1)
    sample.pred_img = torch.full((3, height, width), 0.5)
    sample.factor_map = torch.full((3, height, width), -1.0)
    return sample


@pytest.fixture
def visualizer(tmp_path):
    vis = Visualizer.get_instance(f'vis_hook_test_{tmp_path}', save_dir=str(tmp_path),
                                  vis_backends=[dict(type='LocalVisBackend')])
    return vis


def test_writes_a_panel_file_every_interval(tmp_path, visualizer):
    hook = EnhancementVisualizationHook(interval=2)
    runner = SimpleNamespace(iter=40)
    for batch_idx in range(3):
        hook.after_val_iter(runner, batch_idx, outputs=[_prediction(f'a/{batch_idx}.png')])
    # A test runner has no training loop: the hook must not ask for the iteration.
    hook.after_test_iter(SimpleNamespace(), 0, outputs=[_prediction()])
    vis_dir = osp.join(str(tmp_path), 'vis_data', 'vis_image')
    assert sorted(os.listdir(vis_dir)) == ['test_img_7_0.png', 'val_0_40.png', 'val_2_40.png']
    panel = cv2.imread(osp.join(vis_dir, 'test_img_7_0.png'))[..., ::-1]
    assert panel.shape == (6, 15, 3)
    np.testing.assert_array_equal(panel[:, :5], 26)   # round(0.1 * 255)
    np.testing.assert_array_equal(panel[:, 5:10], 128)  # round(0.5 * 255)
    np.testing.assert_array_equal(panel[:, 10:], 0)    # r = -1 (strongest brightening)


def test_draw_false_writes_nothing(tmp_path, visualizer):
    EnhancementVisualizationHook(draw=False).after_val_iter(
        SimpleNamespace(iter=0), 0, outputs=[_prediction()])
    assert not osp.exists(osp.join(str(tmp_path), 'vis_data', 'vis_image'))


def test_missing_fields_are_named(visualizer):
    sample = _prediction()
    del sample.factor_map
    with pytest.raises(ValueError, match='factor_map'):
        EnhancementVisualizationHook().after_val_iter(SimpleNamespace(iter=0), 0,
                                                      outputs=[sample])


def test_factor_map_rendering_of_per_step_maps():
    factor = torch.cat([torch.full((3, 2, 2), -1.0), torch.full((3, 2, 2), 1.0)])
    img = factor_map_to_image(factor, 4, 4)  # steps averaged to 0 -> mid-grey, resized
    assert img.shape == (4, 4, 3)
    np.testing.assert_array_equal(img, 128)
    with pytest.raises(ValueError, match='multiple of 3'):
        factor_map_to_image(torch.zeros(2, 2, 2), 2, 2)
