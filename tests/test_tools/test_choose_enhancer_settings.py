"""choose_enhancer_settings / candidate_config and the tool on tiny night scenes: every
candidate scored by the frozen detector's confidence, the surest chosen, errors named."""
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from mmlowlight.apis import ENHANCER_CANDIDATES, candidate_config, choose_enhancer_settings
from tests.conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis'))


def _night_det_config(tmp_path) -> Config:
    """A tiny RetinaNet with the low-light preprocessor (default weights), its test loader on
    6 dark night scenes; its untrained weights saved as the checkpoint."""
    pytest.importorskip('mmdet.models')
    import argparse

    import torch
    from downstream_setup import det_dataloader, det_model
    from mmdet.utils import register_all_modules

    from mmlowlight.datasets.synthetic import generate_night_scenes_dataset
    from mmlowlight.registry import MODELS
    register_all_modules(init_default_scope=False)
    root = str(tmp_path / 'data')
    generate_night_scenes_dataset(root, {'val': 6}, seed=0, image_size=(64, 64))
    model = det_model()
    model['data_preprocessor'] = dict(model['data_preprocessor'],
                                      type='mmlowlight.LowLightDetDataPreprocessor',
                                      freeze=True)
    args = argparse.Namespace(image_size=64, batch_size=3)
    cfg = Config(dict(default_scope='mmdet', model=model, work_dir=str(tmp_path / 'work'),
                      test_dataloader=det_dataloader(root, 'dark', 'val', args, False),
                      test_evaluator=dict(type='CocoMetric'), test_cfg=dict(type='TestLoop'),
                      env_cfg=dict(dist_cfg=dict(backend='gloo')), log_level='WARNING'))
    detector = MODELS.build(dict(model, _scope_='mmdet'))
    torch.save(dict(state_dict=detector.state_dict()), str(tmp_path / 'detector.pth'))
    return cfg


def test_candidate_config_overrides_the_enhancer_and_the_evaluator():
    cfg = Config(dict(model=dict(data_preprocessor=dict(
        type='mmlowlight.LowLightDetDataPreprocessor',
        enhancer=dict(type='mmlowlight.SGZEnhancer', scale_factor=2, denoiser=None))),
        test_evaluator=dict(type='CocoMetric', ann_file='x.json')))
    got = candidate_config(cfg, dict(exposure_control=dict(gain_share=0.95, knee=0.9)))
    assert got.model.data_preprocessor.enhancer == dict(
        type='mmlowlight.SGZEnhancer', scale_factor=2, denoiser=None,
        exposure_control=dict(gain_share=0.95, knee=0.9))
    assert got.test_evaluator == dict(type='mmlowlight.ModelConfidence')
    assert cfg.test_evaluator.type == 'CocoMetric'  # the input is left alone
    assert candidate_config(cfg, {}, background_index=0).test_evaluator == dict(
        type='mmlowlight.ModelConfidence', background_index=0)
    plain = Config(dict(model=dict(data_preprocessor=dict(
        type='mmlowlight.LowLightSegDataPreProcessor', enhancer=None))))
    assert candidate_config(plain, {}).model.data_preprocessor.enhancer == dict(
        type='mmlowlight.SGZEnhancer')
    with pytest.raises(ValueError, match="'DetDataPreprocessor', not an mmlowlight"):
        candidate_config(Config(dict(model=dict(data_preprocessor=dict(
            type='DetDataPreprocessor')))), {})


def test_the_most_confident_setting_is_chosen(tmp_path):
    cfg = _night_det_config(tmp_path)
    chosen, confidences = choose_enhancer_settings(cfg, str(tmp_path / 'detector.pth'))
    assert set(confidences) == set(ENHANCER_CANDIDATES)
    assert all(0 <= value <= 1 for value in confidences.values())
    assert chosen == max(confidences, key=confidences.get)
    with pytest.raises(ValueError, match='no candidate'):
        choose_enhancer_settings(cfg, str(tmp_path / 'detector.pth'), {})


def test_tool_prints_the_choice_and_writes_it(tmp_path, capsys):
    cfg = _night_det_config(tmp_path)
    cfg.dump(str(tmp_path / 'night.py'))
    import choose_enhancer_settings as tool
    out = str(tmp_path / 'out' / 'choice.json')
    assert tool.main([str(tmp_path / 'night.py'), str(tmp_path / 'detector.pth'),
                      '--out', out]) == 0
    printed = capsys.readouterr().out
    with open(out) as f:
        choice = json.load(f)
    assert set(choice['confidence']) == set(ENHANCER_CANDIDATES)
    assert choice['enhancer'] == ENHANCER_CANDIDATES[choice['chosen']]
    chosen_line = [line for line in printed.splitlines() if '<- chosen' in line]
    assert len(chosen_line) == 1 and chosen_line[0].split()[:len(choice['chosen'].split())] == \
        choice['chosen'].split()
    assert "enhancer=dict(type='mmlowlight.SGZEnhancer'" in printed


def test_tool_passes_the_background_class_on():
    import choose_enhancer_settings as tool
    assert tool.parse_args(['c.py', 'w.pth']).background_index is None
    assert tool.parse_args(['c.py', 'w.pth', '--background-index', '0']).background_index == 0
