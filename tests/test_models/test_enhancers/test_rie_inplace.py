import pytest
import torch

from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance
from mmlowlight.models.enhancers.rie_inplace import recurrent_enhance_


@pytest.mark.parametrize('block_numel', [1, 7, 1 << 18])
def test_bit_identical_to_plain_rie(block_numel):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 5, 9)
    r = torch.rand_like(x) * 2 - 1
    expected = recurrent_enhance(x, r)
    out = x.clone()
    assert recurrent_enhance_(out, r, block_numel=block_numel) is out
    assert torch.equal(out, expected)


def test_model_uses_fast_path_only_without_grad():
    torch.manual_seed(0)
    model = SGZEnhancer(scale_factor=4)
    x = torch.rand(1, 3, 20, 28)
    with torch.inference_mode():
        fast, factor = model(x)
    plain = recurrent_enhance(x, factor)
    assert torch.equal(fast, plain)
    # The caller's tensor is not modified; channels-last input works too.
    x_cl = x.contiguous(memory_format=torch.channels_last)
    before = x_cl.clone()
    with torch.no_grad():
        fast_cl, factor_cl = model(x_cl)
    assert torch.equal(x_cl, before)
    assert torch.equal(fast_cl, recurrent_enhance(x, factor_cl))
    # Training: the autograd path, gradients reach the parameters.
    enhanced, _ = model(x)
    assert enhanced.grad_fn is not None
    enhanced.mean().backward()
    assert model.efe.blocks[0].depthwise.weight.grad is not None


def test_rejects_mismatched_factor():
    with pytest.raises(ValueError, match='shape, dtype and device'):
        recurrent_enhance_(torch.rand(1, 3, 2, 2), torch.rand(1, 3, 2, 3))
    with pytest.raises(ValueError, match='contiguous'):
        recurrent_enhance_(torch.rand(1, 3, 4, 4)[..., ::2], torch.rand(1, 3, 4, 2))


def test_channels_last_in_place_and_layout_mismatch():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 6, 5).contiguous(memory_format=torch.channels_last)
    r = (torch.rand_like(x) * 2 - 1).contiguous(memory_format=torch.channels_last)
    expected = recurrent_enhance(x, r)
    out = recurrent_enhance_(x.clone(), r, block_numel=11)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, expected)
    with pytest.raises(ValueError, match='same memory layout'):
        recurrent_enhance_(x.clone(), r.contiguous())


def test_worker_threads_keep_caller_threads_and_inference_mode():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch.inference_mode():
            x = torch.rand(1, 3, 40, 50)
            r = torch.rand_like(x) * 2 - 1
            expected = recurrent_enhance(x, r)
            out = recurrent_enhance_(x.clone(), r, block_numel=997)  # 7 blocks, 2 workers
            assert torch.equal(out, expected)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
