"""The one rule for building an enhancer: the checkpoint's recorded pipeline, config keys
over it."""
import pytest
import torch
from mmengine.config import ConfigDict

from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.models.enhancers.pipeline_config import (describe_enhancer, merge_enhancer_args,
                                                         plain, resolve_enhancer_config)

RECORDED = dict(type='SGZEnhancer', _scope_='mmlowlight', conv_type='dsc', scale_factor=12,
                exposure_control=dict(type='CurveExposureControl', max_level=0.6),
                denoiser=dict(type='NoiseAdaptiveGuidedFilter', scale=8))


@pytest.fixture
def checkpoint(tmp_path):
    enhancer = SGZEnhancer()
    path = str(tmp_path / 'weights.pth')
    meta = {k: v for k, v in RECORDED.items() if k not in ('type', '_scope_', 'conv_type')}
    torch.save(dict(state_dict=enhancer.state_dict(), meta=dict(enhancer=meta)), path)
    return path


class TestMerge:

    def test_key_overrides_only_itself(self):
        merged = merge_enhancer_args(RECORDED, dict(scale_factor=2))
        assert merged['scale_factor'] == 2
        assert merged['exposure_control'] == RECORDED['exposure_control']
        assert merged['denoiser'] == RECORDED['denoiser']

    def test_none_turns_a_stage_off(self):
        merged = merge_enhancer_args(RECORDED, dict(denoiser=None))
        assert merged['denoiser'] is None and merged['exposure_control'] is not None

    def test_same_type_or_untyped_dict_updates_the_stage(self):
        for override in (dict(max_level=0.5),
                         dict(type='mmlowlight.CurveExposureControl', max_level=0.5)):
            merged = merge_enhancer_args(RECORDED, dict(exposure_control=override))
            assert merged['exposure_control'] == dict(type='CurveExposureControl',
                                                      max_level=0.5)

    def test_other_type_replaces_the_stage(self):
        merged = merge_enhancer_args(RECORDED, dict(denoiser=dict(type='Other', k=1)))
        assert merged['denoiser'] == dict(type='Other', k=1)

    def test_inputs_unchanged_and_plain(self):
        recorded = ConfigDict(RECORDED)
        merged = merge_enhancer_args(recorded, ConfigDict(exposure_control=dict(max_level=0.1)))
        assert recorded.exposure_control.max_level == 0.6
        assert type(merged['exposure_control']) is dict
        assert plain(ConfigDict(a=[ConfigDict(b=1)], c=(1, 2))) == dict(a=[dict(b=1)], c=(1, 2))
        assert type(plain(ConfigDict(a=[ConfigDict(b=1)]))['a'][0]) is dict


class TestResolve:

    def test_untyped_update_of_an_unrecorded_stage_is_refused(self, tmp_path):
        from mmlowlight.models.enhancers.pipeline_config import PipelineConfigError
        bare = str(tmp_path / 'bare.pth')
        torch.save(SGZEnhancer().state_dict(), bare)  # records no exposure control
        update = dict(type='SGZEnhancer', exposure_control=dict(light_level=0.3))
        with pytest.raises(PipelineConfigError, match='bare.pth records no exposure_control'):
            resolve_enhancer_config(update, bare)
        typed = dict(type='SGZEnhancer', exposure_control=dict(
            type='CurveExposureControl', light_level=0.3))
        cfg, _ = resolve_enhancer_config(typed, bare)
        assert cfg['exposure_control'] == typed['exposure_control']

    def test_none_is_the_recorded_pipeline(self, checkpoint):
        cfg, line = resolve_enhancer_config(None, checkpoint)
        assert cfg['scale_factor'] == 12 and cfg['denoiser']['scale'] == 8
        assert 'CurveExposureControl' in line and checkpoint in line and '[config]' not in line

    def test_config_keys_win_and_are_marked(self, checkpoint):
        cfg, line = resolve_enhancer_config(
            dict(type='mmlowlight.SGZEnhancer', scale_factor=2, denoiser=None), checkpoint)
        assert cfg['scale_factor'] == 2 and cfg['denoiser'] is None
        assert cfg['exposure_control']['type'] == 'CurveExposureControl'
        assert cfg['type'] == 'mmlowlight.SGZEnhancer'
        assert 'scale_factor=2 [config]' in line and 'no denoiser [config]' in line

    def test_builds(self, checkpoint):
        from mmlowlight.registry import MODELS
        model = MODELS.build(resolve_enhancer_config(dict(type='SGZEnhancer'), checkpoint)[0])
        assert model.scale_factor == 12
        assert type(model.exposure_control).__name__ == 'CurveExposureControl'
        assert type(model.denoiser).__name__ == 'NoiseAdaptiveGuidedFilter'

    def test_without_checkpoint_the_config_as_is(self):
        cfg, line = resolve_enhancer_config(dict(type='SGZEnhancer', scale_factor=3), None)
        assert cfg == dict(type='SGZEnhancer', scale_factor=3, _scope_='mmlowlight')
        assert 'random' in line

    def test_other_enhancer_types_are_not_merged(self, checkpoint):
        cfg, _ = resolve_enhancer_config(dict(type='MyEnhancer', k=1), checkpoint)
        assert cfg == dict(type='MyEnhancer', k=1, _scope_='mmlowlight')

    def test_errors(self, checkpoint):
        with pytest.raises(TypeError, match='config dict with a "type".*SGZ'):
            resolve_enhancer_config('SGZ', checkpoint)
        with pytest.raises(ValueError, match='neither'):
            resolve_enhancer_config(None, None)


def test_describe_names_every_stage():
    line = describe_enhancer(dict(scale_factor=4, exposure_control=None,
                                  denoiser=dict(type='mmlowlight.NoiseAdaptiveGuidedFilter')))
    assert line == ('SGZEnhancer(dsc, scale_factor=4) + no exposure control + '
                    'NoiseAdaptiveGuidedFilter')
