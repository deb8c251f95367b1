"""tools/enhance.py on a folder of good and bad files, resuming, and killed mid-batch."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmlowlight.models.enhancers import SGZEnhancer
from tests.conftest import REPO_ROOT
from tests.test_apis.video_clips import make_clip, probe

sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
import enhance as enhance_tool  # noqa: E402


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp('ckpt') / 'sgz.pth')
    torch.save(SGZEnhancer().state_dict(), path)
    return path


def _dark(shape, dtype=np.uint8, seed=0):
    top = 60 if dtype == np.uint8 else 15000
    return np.random.default_rng(seed).integers(0, top, shape, dtype=dtype)


def _make_mixed_folder(root):
    """Good files -> expected (size W x H, PIL mode or depth, format); bad files -> reason."""
    os.makedirs(root / 'sub')
    Image.fromarray(_dark((30, 40, 3))).save(root / 'rgb.png')
    Image.fromarray(_dark((31, 41, 3))).save(root / 'photo.jpg', quality=95)
    Image.fromarray(_dark((12, 14, 4)), 'RGBA').save(root / 'rgba.png')
    Image.fromarray(_dark((9, 11))).save(root / 'sub' / 'grey.png')
    cv2.imwrite(str(root / 'deep16.png'), _dark((10, 12, 3), np.uint16))
    cv2.imwrite(str(root / 'sub' / 'grey16.png'), _dark((10, 12), np.uint16))
    Image.fromarray(_dark((1, 1, 3))).save(root / 'one.png')
    rotated = Image.fromarray(_dark((20, 30, 3)))  # stored 30 wide, shown 20 wide
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(root / 'rotated.jpg', exif=exif, quality=95)
    good = {
        'rgb.png': ((40, 30), 'RGB'), 'photo.jpg': ((41, 31), 'RGB'),
        'rgba.png': ((14, 12), 'RGBA'), 'sub/grey.png': ((11, 9), 'L'),
        'deep16.png': ((12, 10), 'uint16x3'), 'sub/grey16.png': ((12, 10), 'uint16x1'),
        'one.png': ((1, 1), 'RGB'), 'rotated.jpg': ((20, 30), 'RGB')
    }
    (root / 'zero.png').write_bytes(b'')
    data = (root / 'photo.jpg').read_bytes()
    (root / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (root / 'text.png').write_text('this is not an image')
    (root / 'x.jpg').mkdir()
    (root / 'notes.txt').write_text('ignored')
    bad = ['zero.png', 'truncated.jpg', 'text.png', 'x.jpg']
    return good, bad


def _check_output(path, size, mode):
    if mode.startswith('uint16'):
        array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        channels = 1 if array.ndim == 2 else array.shape[2]
        assert array.dtype == np.uint16 and f'uint16x{channels}' == mode, path
        assert (array.shape[1], array.shape[0]) == size, path
        return
    with Image.open(path) as pil:
        pil.load()  # a partial file would raise here
        assert pil.size == size and pil.mode == mode, path
        assert pil.format == ('JPEG' if path.endswith('.jpg') else 'PNG'), path


def test_mixed_folder_then_resume(tmp_path, checkpoint, capsys):
    good, bad = _make_mixed_folder(tmp_path / 'in')
    out = tmp_path / 'out'
    argv = [str(tmp_path / 'in'), '-o', str(out), '--checkpoint', checkpoint,
            '--scale-factor', '4', '--batch-size', '2', '--no-progress']
    assert enhance_tool.main(argv) == 1
    summary = capsys.readouterr().err
    assert 'done 8, skipped 0' in summary and 'failed 4' in summary
    for name in bad:
        path = str(tmp_path / 'in' / name)
        line = next(line for line in summary.splitlines() if f'FAILED {path}' in line)
        assert line.count(path) == 1, line  # the path once, then the problem
    assert 'notes.txt' in summary  # ignored, and said so
    written = sorted(osp.relpath(osp.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
    assert written == sorted(good)  # no outputs for bad files, no temporaries
    for name, (size, mode) in good.items():
        _check_output(str(out / name), size, mode)
    # The outputs are brighter than the dark inputs.
    assert np.array(Image.open(out / 'rgb.png')).mean() > np.array(
        Image.open(tmp_path / 'in' / 'rgb.png')).mean()

    mtimes = {name: os.stat(out / name).st_mtime_ns for name in good}
    assert enhance_tool.main(argv) == 1
    assert 'done 0, skipped 8' in capsys.readouterr().err
    assert mtimes == {name: os.stat(out / name).st_mtime_ns for name in good}


def test_globs_ext_and_side_by_side(tmp_path, checkpoint, capsys):
    (tmp_path / 'a' / 'b').mkdir(parents=True)
    Image.fromarray(_dark((8, 10, 3))).save(tmp_path / 'a' / 'b' / 'p.jpg')
    Image.fromarray(_dark((8, 10, 3))).save(tmp_path / 'a' / 'q.jpg')
    argv = [str(tmp_path / 'a' / '**' / '*.jpg'), '-o', str(tmp_path / 'out'), '--ext', 'png',
            '--side-by-side', '--checkpoint', checkpoint, '--no-progress']
    assert enhance_tool.main(argv) == 0
    assert 'done 2, skipped 0' in capsys.readouterr().err
    for rel in ('b/p.png', 'q.png'):
        with Image.open(tmp_path / 'out' / rel) as pil:
            assert pil.format == 'PNG' and pil.size == (20, 8)
    assert enhance_tool.main([str(tmp_path / 'missing*.png'), '-o', str(tmp_path / 'o2'),
                              '--checkpoint', checkpoint, '--no-progress']) == 1
    assert 'matches no file' in capsys.readouterr().err


def test_killed_mid_batch_then_resumed(tmp_path, checkpoint):
    src = tmp_path / 'in'
    src.mkdir()
    for i in range(8):
        Image.fromarray(_dark((120, 160, 3), seed=i)).save(src / f'{i:02d}.png')
    out = tmp_path / 'out'
    # Full-resolution factor estimation makes each image take long enough to be interrupted.
    cmd = [sys.executable, osp.join(REPO_ROOT, 'tools', 'enhance.py'), str(src), '-o',
           str(out), '--checkpoint', checkpoint, '--scale-factor', '1', '--batch-size', '1',
           '--no-progress']
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not (out.exists() and any(
            not name.startswith('.') for name in os.listdir(out))):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = [n for n in os.listdir(out) if not n.startswith('.')]
    assert 1 <= len(finished) < 8, 'the run was not interrupted mid-batch'
    for name in finished:  # whatever exists is complete
        with Image.open(out / name) as pil:
            pil.load()

    result = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f'done {8 - len(finished)}, skipped {len(finished)}' in result.stderr
    assert sorted(os.listdir(out)) == [f'{i:02d}.png' for i in range(8)]
    for name in os.listdir(out):
        with Image.open(out / name) as pil:
            pil.load()
            assert pil.size == (160, 120)


def test_video_input(tmp_path, checkpoint, capsys):
    make_clip(str(tmp_path / 'clip.mp4'))
    argv = [str(tmp_path / 'clip.mp4'), '-o', str(tmp_path / 'out'), '--checkpoint',
            checkpoint, '--temporal-frames', '4', '--crf', '23', '--no-progress']
    assert enhance_tool.main(argv) == 0
    summary = capsys.readouterr().err
    assert 'done 1, skipped 0, failed 0' in summary
    # One line per video: frames written, speed, what happened to the other streams.
    line = next(line for line in summary.splitlines() if 'clip.mp4:' in line)
    assert '12 frames written (64x48 libx264)' in line and 'frames/s' in line
    assert 'audio aac (eng) copied; subtitle mov_text copied' in line
    got = probe(str(tmp_path / 'out' / 'clip.mp4'))
    assert got['video'][0]['codec'] == 'h264' and len(got['times']) == 12


def test_one_progress_bar_per_video_with_rate_and_eta(tmp_path, checkpoint, capsys):
    make_clip(str(tmp_path / 'a.mkv'), audio_codec=None, subtitle=False)
    make_clip(str(tmp_path / 'b.mkv'), audio_codec=None, subtitle=False)
    assert enhance_tool.main([str(tmp_path / '*.mkv'), '-o', str(tmp_path / 'out'),
                              '--checkpoint', checkpoint]) == 0
    bars = capsys.readouterr().err.replace('\r', '\n')
    # Counted in frames (the total from the container), with frames/s; no bar over the files.
    assert 'a.mkv: 100%' in bars and 'b.mkv: 100%' in bars and 'frame/s]' in bars
    assert 'file/s' not in bars and '/2 [' not in bars


def test_nothing_matched_exits_nonzero(tmp_path, checkpoint, capsys):
    (tmp_path / 'empty').mkdir()
    assert enhance_tool.main([str(tmp_path / 'empty'), '-o', str(tmp_path / 'out'),
                              '--checkpoint', checkpoint, '--no-progress']) == 1
    summary = capsys.readouterr().err
    assert summary.startswith('nothing matched')
    assert f'FAILED {tmp_path / "empty"}: the folder holds no image or video file' in summary
    (tmp_path / 'notes.txt').write_text('x')
    assert enhance_tool.main([str(tmp_path / '*.txt'), '-o', str(tmp_path / 'out'),
                              '--checkpoint', checkpoint, '--no-progress']) == 1
    summary = capsys.readouterr().err
    assert 'nothing matched' in summary and 'none of them an image or video' in summary


def test_overwrite_hint_only_when_something_was_skipped(tmp_path, checkpoint, capsys):
    Image.fromarray(_dark((8, 10, 3))).save(tmp_path / 'p.png')
    argv = [str(tmp_path / 'p.png'), '-o', str(tmp_path / 'out'), '--checkpoint', checkpoint,
            '--no-progress']
    assert enhance_tool.main(argv) == 0
    assert '--overwrite' not in capsys.readouterr().err  # nothing skipped
    assert enhance_tool.main(argv + ['--overwrite']) == 0
    summary = capsys.readouterr().err
    assert 'done 1, skipped 0' in summary and '--overwrite' not in summary
    assert enhance_tool.main(argv) == 0
    assert 'skipped 1 (output exists; --overwrite redoes them)' in capsys.readouterr().err


def test_help_states_each_default_once(capsys):
    with pytest.raises(SystemExit):
        enhance_tool.parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert '(default: None)' not in text and '(default: False)' not in text
    # Each option's text names its default at most once (argparse appended a second one).
    options = text.split(' --')
    assert all(option.count('(default:') <= 1 for option in options), options
    assert '--crf CRF constant rate factor' in text and '(default: 18' in text


def test_bad_video_reported_and_the_batch_goes_on(tmp_path, checkpoint, capsys):
    (tmp_path / 'in').mkdir()
    (tmp_path / 'in' / 'broken.mp4').write_text('not a video')
    make_clip(str(tmp_path / 'in' / 'good.mkv'), audio_codec=None, subtitle=False)
    assert enhance_tool.main([str(tmp_path / 'in'), '-o', str(tmp_path / 'out'), '--checkpoint',
                              checkpoint, '--no-progress']) == 1
    summary = capsys.readouterr().err
    assert 'done 1, skipped 0, failed 1' in summary
    assert f'FAILED {tmp_path / "in" / "broken.mp4"}: not a video file FFmpeg can read' in summary
    assert sorted(os.listdir(tmp_path / 'out')) == ['good.mkv']


def test_temporal_denoiser_options_reach_its_config():
    """The video options become the MotionAdaptiveTemporalDenoiser config (and build)."""
    from mmlowlight.apis.video import build_temporal_denoiser
    args = enhance_tool.parse_args(['x.mp4', '-o', 'out', '--temporal-frames', '5',
                                    '--motion-threshold', '1.5', '--static-camera'])
    denoiser = build_temporal_denoiser(enhance_tool.temporal_denoiser_config(args))
    assert (denoiser.max_frames, denoiser.motion_low, denoiser.motion_high) == (5, 1.5, 3.0)
    assert denoiser.follow_motion is False
    default = enhance_tool.temporal_denoiser_config(enhance_tool.parse_args(['x.mp4', '-o', 'o']))
    assert build_temporal_denoiser(default).follow_motion is True
    assert enhance_tool.temporal_denoiser_config(enhance_tool.parse_args(
        ['x.mp4', '-o', 'o', '--no-temporal-denoise'])) is False


def _night_street(path):
    rng = np.random.default_rng(0)
    street = np.clip(np.linspace(4, 24, 96)[None, :, None] + rng.normal(0, 2, (64, 96, 3)),
                     0, 255)
    street[10:16, 20:30] = 120  # a lamp
    Image.fromarray(street.astype(np.uint8)).save(path)


def test_night_level_option(tmp_path, checkpoint, capsys):
    """--night-level sets the level of a scene lit by its own lamps (off: as any dark scene);
    with weights that record no exposure control it is one line, exit status 1."""
    _night_street(tmp_path / 'street.png')
    means = {}
    for level in (None, 'off', '0.35'):
        out = tmp_path / f'out_{level}'
        argv = [str(tmp_path / 'street.png'), '-o', str(out), '--no-progress']
        if level is not None:
            argv += ['--night-level', level]
        assert enhance_tool.main(argv) == 0
        means[level] = np.array(Image.open(out / 'street.png')).mean() / 255
    assert means[None] == pytest.approx(0.28, abs=0.02)   # the package weights' night level
    assert means['0.35'] == pytest.approx(0.35, abs=0.02)
    assert means['off'] > 0.38
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:  # a bare network: no exposure control
        enhance_tool.main([str(tmp_path / 'street.png'), '-o', str(tmp_path / 'x'),
                           '--checkpoint', checkpoint, '--night-level', '0.3'])
    assert exit_info.value.code == 1
    assert 'records no exposure_control' in capsys.readouterr().err


def test_max_level_option(tmp_path, capsys):
    """--max-level caps the level of a dark scene without lamps (the package weights: 0.41);
    it leaves the night level alone, and both options go together."""
    rng = np.random.default_rng(0)
    room = np.clip(np.linspace(20, 56, 96)[None, :, None] + rng.normal(0, 2, (64, 96, 3)), 0,
                   255)  # a dim room: mean 0.15, no light source in the frame
    Image.fromarray(room.astype(np.uint8)).save(tmp_path / 'room.png')
    _night_street(tmp_path / 'street.png')
    means = {}
    for options in ([], ['--max-level', '0.55'], ['--max-level', '0.55', '--night-level', '0.35']):
        out = tmp_path / f'out_{len(options)}'
        assert enhance_tool.main([str(tmp_path / 'room.png'), str(tmp_path / 'street.png'), '-o',
                                  str(out), '--no-progress'] + options) == 0
        means[len(options)] = [np.array(Image.open(out / name)).mean() / 255
                               for name in ('room.png', 'street.png')]
    capsys.readouterr()
    assert means[0][0] == pytest.approx(0.41, abs=0.02)   # the package weights' max_level
    assert means[2][0] == pytest.approx(0.55, abs=0.02)
    assert means[2][1] == pytest.approx(means[0][1], abs=0.005)  # night scene: its own level
    assert means[4] == pytest.approx([means[2][0], 0.35], abs=0.02)


def test_max_level_rise_option(tmp_path, capsys):
    """--max-level-rise lifts a brighter dark capture above --max-level, not a darker one or
    a scene lit by its own lamps; START >= FULL is one line at parse time."""
    rng = np.random.default_rng(0)
    for name, low, high in (('dim.png', 10, 26), ('brighter.png', 30, 46)):
        room = np.clip(np.linspace(low, high, 96)[None, :, None] + rng.normal(0, 2, (64, 96, 3)),
                       0, 255)  # means 0.07 and 0.15, no light source in the frame
        Image.fromarray(room.astype(np.uint8)).save(tmp_path / name)
    _night_street(tmp_path / 'street.png')
    means = {}
    for options in ([], ['--max-level-rise', '0.11', '0.18', '0.7']):
        out = tmp_path / f'out_{len(options)}'
        assert enhance_tool.main([str(tmp_path / name) for name in
                                  ('dim.png', 'brighter.png', 'street.png')]
                                 + ['-o', str(out), '--no-progress'] + options) == 0
        means[len(options)] = [np.array(Image.open(out / name)).mean() / 255
                               for name in ('dim.png', 'brighter.png', 'street.png')]
    capsys.readouterr()
    assert means[0][:2] == pytest.approx([0.41, 0.41], abs=0.02)
    # brighter: mean 0.15, 4/7 of the way from 0.11 to 0.18, so a cap of 0.41 + 4/7 * 0.29
    assert means[4][1] == pytest.approx(0.576, abs=0.02)
    assert means[4][0] == pytest.approx(means[0][0], abs=0.005)
    assert means[4][2] == pytest.approx(means[0][2], abs=0.005)
    with pytest.raises(SystemExit) as exit_info:
        enhance_tool.parse_args(['x.png', '-o', 'o', '--max-level-rise', '0.2', '0.1', '0.7'])
    assert exit_info.value.code == 2
    assert 'START < FULL' in capsys.readouterr().err
