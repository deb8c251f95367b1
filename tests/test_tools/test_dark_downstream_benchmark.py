"""tools/analysis/dark_downstream_benchmark.py on tiny data: every regime, both tasks."""
import importlib.util
import json
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'dark_downstream_benchmark.py')
TINY = ['--num-train', '12', '--num-val', '6', '--image-size', '64', '--train-iters', '3',
        '--few-labels', '4', '--few-iters', '2', '--all-iters', '2', '--adapt-iters', '2',
        '--batch-size', '4']


def load_tool():
    spec = importlib.util.spec_from_file_location('dark_downstream_benchmark', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_every_regime_runs_and_reruns_from_its_record(task, tmp_path, capsys):
    pytest.importorskip('mmdet.models' if task == 'det' else 'mmseg.models')
    tool = load_tool()
    work = str(tmp_path / task)
    argv = ['--task', task, '--seeds', '3', '--work-dir', work, *TINY,
            '--official-checkpoint', str(tmp_path / 'absent.pth')]
    tool.main(argv)
    with open(osp.join(work, f'results_{task}.json')) as f:
        results = json.load(f)
    rows = results['per_seed']['3']
    assert set(rows) == {
        'normal light', 'dark', 'dark + auto gain', 'dark + auto gamma', 'dark + CLAHE',
        "dark + gain to the scene's mean (oracle)", 'dark + SGZ default pipeline',
        '0 labels, adapted: model as guide', '0 labels, adapted: zero-reference only (control)',
        "0 labels, settings chosen by the model's confidence",
        'few labels (4): model-only fine-tune (control)',
        'few labels (4): joint SGZ + model fine-tune',
        'all labels (12): model-only fine-tune (control)',
        'all labels (12): joint SGZ + model fine-tune'}
    assert all(0 <= value <= 1 for value in rows.values())
    assert osp.getsize(osp.join(work, f'recovery_{task}.png')) > 1000
    assert 'recovered share' in results['table']
    # The joint checkpoint records the pipeline it was trained in (AuxLossHook).
    from mmlowlight.utils import load_checkpoint_file
    joint = load_checkpoint_file(osp.join(work, 'seed_3', 'finetune_few_joint_range',
                                          'iter_2.pth'))
    assert joint['meta']['enhancer']['denoiser']['type'] == 'NoiseAdaptiveGuidedFilter'
    # So does the adapted enhancer (EnhancerPipelineHook), and it holds one enhancer only.
    adapted = load_checkpoint_file(osp.join(work, 'seed_3', 'adapt_guide', 'iter_2.pth'))
    assert adapted['meta']['enhancer']['exposure_control']['type'] == 'CurveExposureControl'
    assert all(k.startswith('enhancer.') for k in adapted['state_dict'])
    # The label-free choice: every candidate's confidence recorded, the most confident used.
    with open(osp.join(work, 'seed_3', 'phases.json')) as f:
        phases = json.load(f)
    from mmlowlight.apis import ENHANCER_CANDIDATES
    confidences = {label: phases[f'confidence {label}']['result']
                   for label in ENHANCER_CANDIDATES}
    assert all(0 <= value <= 1 for value in confidences.values())
    chosen = phases["eval 0 labels, settings chosen by the model's confidence"]['settings']
    assert chosen['chosen'] == max(confidences, key=confidences.get)
    # A rerun takes every phase from phases.json: nothing is trained or evaluated again.
    capsys.readouterr()
    tool.main(argv)
    assert '[seed 3]' not in capsys.readouterr().out
    with open(osp.join(work, f'results_{task}.json')) as f:
        assert json.load(f)['per_seed'] == results['per_seed']


def test_the_oracle_gain_restores_each_scene_mean(tmp_path):
    import cv2
    import numpy as np
    tool = load_tool()
    root = tmp_path / 'data'
    rng = np.random.default_rng(0)
    for folder, level in (('images', 110), ('dark', 12)):
        (root / folder / 'val').mkdir(parents=True)
        image = np.clip(rng.normal(level, level / 3, (16, 16, 3)), 0, 255).astype(np.uint8)
        cv2.imwrite(str(root / folder / 'val' / '0.png'), image)
    tool.write_baseline(str(root), 'gain_oracle')
    out = cv2.imread(str(root / 'gain_oracle' / 'val' / '0.png'))
    normal = cv2.imread(str(root / 'images' / 'val' / '0.png'))
    assert abs(out.mean() - normal.mean()) < 1.5


def test_weights_are_known_by_their_content(tmp_path):
    tool = load_tool()
    path = tmp_path / 'w.pth'
    path.write_bytes(b'one')
    first = tool.weights_id(str(path))
    assert first.startswith(str(path)) and tool.weights_id(str(path)) == first
    path.write_bytes(b'two')
    assert tool.weights_id(str(path)) != first


def test_summary_and_recovery():
    tool = load_tool()
    assert tool.recovery(0.5, 0.8, 0.2) == pytest.approx(50.0)
    per_seed = {0: {'normal light': 0.8, 'dark': 0.2, 'x': 0.5},
                1: {'normal light': 0.6, 'dark': 0.2, 'x': 0.6}}
    table = tool.summarise(per_seed, 'mAP')
    assert '| x | 0.550 ± 0.071 | **75 ± 35 %** | 50, 100 |' in table


def test_bad_arguments_are_refused(capsys):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['--levels', '0', '10'])
    assert '--levels' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['--few-labels', '50', '--num-train', '10'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--jobs', '0'])


def test_srgb_transfer_encodes_both_images_like_a_camera(tmp_path):
    """--transfer srgb: the normal-light images with the sRGB function (not the power law's),
    the dark copies at the asked level; parsing refuses other transfers."""
    import cv2
    import numpy as np
    tool = load_tool()
    written = {}
    for transfer in ('power', 'srgb'):
        args = tool.parse_args(['--transfer', transfer, '--num-train', '1', '--few-labels', '1',
                                '--num-val', '3', '--image-size', '48', '--levels', '20', '20'])
        root = str(tmp_path / transfer)
        tool.make_data(root, args, seed=0)
        written[transfer] = {kind: np.stack([cv2.imread(osp.join(root, kind, 'val', f'{i:05d}.png'))
                                             for i in range(3)]) for kind in ('images', 'dark')}
    # The same scenes: the encodings agree at white and differ most in the shadows, where
    # the sRGB function is linear (darker than the power law there).
    power, srgb = written['power']['images'], written['srgb']['images']
    shadows = power < 40
    assert srgb[shadows].mean() < power[shadows].mean() - 5
    for transfer in ('power', 'srgb'):
        assert written[transfer]['dark'].mean() == pytest.approx(20, abs=3)
    with pytest.raises(SystemExit):
        tool.parse_args(['--transfer', 'log'])
