import pytest
import torch

from mmlowlight.models.enhancers import (SGZEnhancer, convert_official_state_dict,
                                         infer_enhancer_args, is_official_state_dict)


def _official_dsc_state_dict():
    """Official key names with our module's tensor shapes, block by block."""
    ours = SGZEnhancer(conv_type='dsc').state_dict()
    official = {}
    for key, value in ours.items():
        _, _, index, sub, param = key.split('.')
        name = {'depthwise': 'depth_conv', 'pointwise': 'point_conv'}[sub]
        official[f'e_conv{int(index) + 1}.{name}.{param}'] = torch.randn_like(value)
    return official


def test_round_trip_dsc():
    official = _official_dsc_state_dict()
    assert is_official_state_dict(official)
    converted = convert_official_state_dict(official)
    model = SGZEnhancer(conv_type='dsc')
    model.load_state_dict(converted, strict=True)
    assert torch.equal(model.efe.blocks[2].pointwise.bias, official['e_conv3.point_conv.bias'])
    assert torch.equal(model.efe.blocks[0].depthwise.weight,
                       official['e_conv1.depth_conv.weight'])


def test_plain_conv_and_dataparallel_prefix():
    ours = SGZEnhancer(conv_type='conv').state_dict()
    official = {f'module.e_conv{int(k.split(".")[2]) + 1}.{k.split(".")[3]}': v
                for k, v in ours.items()}
    assert is_official_state_dict(official)
    converted = convert_official_state_dict(official)
    assert set(converted) == set(ours)
    assert infer_enhancer_args(converted) == dict(conv_type='conv', channels=32,
                                                  shared_factor=True)


def test_foreign_key_rejected():
    official = _official_dsc_state_dict()
    official['classifier.weight'] = torch.zeros(1)
    assert not is_official_state_dict(official)
    with pytest.raises(KeyError, match='classifier.weight'):
        convert_official_state_dict(official)


def test_infer_args_per_step_maps():
    state = SGZEnhancer(shared_factor=False, num_iterations=8, channels=16).state_dict()
    assert infer_enhancer_args(state) == dict(conv_type='dsc', channels=16,
                                              shared_factor=False, num_iterations=8)


def test_infer_args_rejects_foreign():
    with pytest.raises(KeyError, match='no SGZEnhancer weights'):
        infer_enhancer_args({'backbone.conv1.weight': torch.zeros(1)})
