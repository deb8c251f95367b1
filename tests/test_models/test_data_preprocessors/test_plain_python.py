"""The downstream guide's plain-Python mmdet example (build, loss with aux losses, predict) runs as
written, without mmengine's Runner or AuxLossHook (issue 14.1)."""
import contextlib
import io
import os.path as osp
import re

import pytest
import torch

pytest.importorskip('mmdet.models')

README = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..', 'docs', 'en',
                  'user_guides', 'downstream_configs.md')
MARKER = '<!-- plain-python-example:'


def readme_example() -> str:
    with open(README, encoding='utf-8') as f:
        text = f.read()
    assert MARKER in text, 'docs/en/user_guides/downstream_configs.md lost its plain-Python example'
    block = re.search(r'```python\n(.*?)```', text[text.index(MARKER):], re.S)
    return block.group(1)


def test_readme_plain_python_example_trains_with_aux_losses_and_predicts():
    torch.manual_seed(0)
    namespace = {'__name__': 'readme_example'}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), 'downstream_configs.md (plain-Python example)', 'exec'),
             namespace)
    lines = printed.getvalue().splitlines()
    assert "['loss_bbox', 'loss_cls', 'loss_exposure']" in lines
    assert lines[-1].startswith('torch.Size([') and lines[-1].endswith(', 4])')

    model = namespace['model']
    preprocessor = model.data_preprocessor
    assert type(preprocessor).__name__ == 'LowLightDetDataPreprocessor'
    assert namespace['log_vars']['loss_exposure'] > 0
    enhancer_grads = [p.grad for p in preprocessor.enhancer.parameters()]
    assert all(g is not None for g in enhancer_grads), 'backward skipped the enhancer'
    assert any(g.abs().sum() > 0 for g in enhancer_grads)

    # The loop goes on: the next training step and predictions run, with no complaint.
    data = namespace['data']
    model.train()
    losses = model(**preprocessor(data, True), mode='loss')
    assert 'loss_exposure' in losses
    model.eval()
    with torch.no_grad():
        assert len(model(**preprocessor(data, False), mode='predict')) == 2
        model.train()
        preprocessor(data, True)  # inspected, never used for a loss ...
        model.eval()
        assert len(model(**preprocessor(data, False), mode='predict')) == 2  # ... dropped
