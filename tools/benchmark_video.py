"""Video figures, side by side in one run: 1080p throughput, temporal noise, trails, stage costs.

    python tools/benchmark_video.py --checkpoint ../shared/data/sgz_official/Epoch99.pth

1. Throughput at --size (1920x1080) on a dark noisy clip with a moving object (H.264, made here
   with PyAV): ``enhance_video`` end to end (defaults: temporal denoiser on, libx264 veryfast
   CRF 18), against a bare PyAV decode + libx264 ``veryfast`` re-encode of the same clip at the
   same CRF, timed in the same run; frames/s, the ratio, and the load average.
2. Cost per 1080p frame of each stage (CPU time of one thread): decode, temporal denoiser,
   YUV -> RGB and RGB -> YUV (ours vs swscale), enhance_batch, encode.
3. Temporal noise of a static noisy scene: the per-pixel standard deviation over time of the
   official network run frame by frame (``--checkpoint``, scale factor 12) on the decoded
   frames, against our H.264 output with the temporal denoiser on and off; and the mean
   brightness of each.
4. Trails: a bright square moving over a static noisy scene, enhanced with the denoiser and
   frame by frame (lossless FFV1 both, so only the denoiser differs): mean absolute difference
   on the object's pixels and on its wake (pixels it covered in the last 8 frames); the same
   for a non-adaptive running average of 8 frames, for scale.
5. Camera motion over a dark noisy scene (FFV1): a pan (--pan-speed px per frame) and a forward
   drive (--zoom-rate per frame, the scene expanding from the centre): the temporal denoiser
   following the motion, not following it, and off, each against the noise-free frames
   enhanced frame by frame (mean absolute difference, fine detail).

Each figure is printed with the command's settings; timings on a shared machine are noisy, so
the ratios (both sides measured in the same run) are the figures to compare.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/: cli_types
from cli_types import non_negative_int, number, positive_int  # noqa: E402

# Before torch loads OpenMP (see tools/enhance.py).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import av  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from av.video.reformatter import VideoReformatter  # noqa: E402

from mmlowlight.apis import enhance_batch, enhance_video, init_enhancer  # noqa: E402
from mmlowlight.apis.demo_data import demo_images  # noqa: E402
from mmlowlight.apis.video_io import (DEFAULT_CRF, DEFAULT_PRESET, frame_planes,  # noqa: E402
                                      frame_to_rgb, read_rgb_frames)
from mmlowlight.models.video_denoisers import MotionAdaptiveTemporalDenoiser  # noqa: E402
from mmlowlight.ops import rgb_to_yuv420  # noqa: E402

_GAMMA = 2.2


def noisy_dark_frames(width: int, height: int, count: int, exposure: float = 0.03,
                      full_well: float = 3000.0, read_noise: float = 3.0, seed: int = 0,
                      moving_square: bool = False) -> List[np.ndarray]:
    """A static dark scene (a sample photo) with fresh sensor-like noise in every frame.

    The camera model of :func:`mmlowlight.apis.demo_data.synthesize_low_light` (underexposed
    linear light, shot and read noise, back to sRGB), with the Poisson shot noise approximated by
    a Gaussian of the same variance (float32): fast enough for a minute of 1080p. With
    ``moving_square``, a lit square (a sign, a lamp) crosses the scene, 12 pixels per frame at
    1080p.
    """
    rng = np.random.default_rng(seed)
    photo = cv2.resize(demo_images()['coffee'], (width, height), interpolation=cv2.INTER_AREA)
    linear = ((photo.astype(np.float32) / 255) ** _GAMMA * exposure * full_well)
    side, step = height // 6, max(1, width // 160)
    frames = []
    for i in range(count):
        electrons = linear
        if moving_square:
            electrons = linear.copy()
            x0 = (i * step) % max(1, width - side)
            electrons[height // 3:height // 3 + side, x0:x0 + side] = 0.25 * full_well * exposure
        frames.append(_capture(electrons, full_well, read_noise, rng))
    return frames


def _capture(electrons: np.ndarray, full_well: float, read_noise: float,
             rng: Optional[np.random.Generator]) -> np.ndarray:
    """8-bit sRGB of a linear exposure in electrons, with shot and read noise (rng None: the
    noise-free frame)."""
    if rng is not None:
        noise = rng.standard_normal(electrons.shape, dtype=np.float32)
        electrons = electrons + noise * np.sqrt(electrons + read_noise ** 2)
    dark = np.clip(electrons / full_well, 0, 1) ** (1 / _GAMMA)
    return np.round(dark * 255).astype(np.uint8)


def moving_dark_frames(width: int, height: int, count: int, speed: int = 0,
                       zoom_rate: float = 0.0, exposure: float = 0.03,
                       full_well: float = 3000.0, read_noise: float = 3.0, seed: int = 0
                       ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """The camera of :func:`noisy_dark_frames` moving over the sample photo: panning ``speed``
    pixels per frame to the right, and driving forward (the view magnified by ``1 +
    zoom_rate`` per frame about its centre). The noisy frames and the same without noise."""
    rng = np.random.default_rng(seed)
    span = width + speed * count
    photo = demo_images()['coffee']
    photo = cv2.resize(photo, (span, max(height, round(photo.shape[0] * span / photo.shape[1]))),
                       interpolation=cv2.INTER_AREA)[:height]
    linear = (photo.astype(np.float32) / 255) ** _GAMMA * exposure * full_well
    noisy, clean = [], []
    for i in range(count):
        # The output pixel (x, y) shows the photo at centre + ((x, y) - centre) / magnification.
        magnification = (1 + zoom_rate) ** i
        centre_x, centre_y = speed * i + (width - 1) / 2, (height - 1) / 2
        warp = np.float32([[1 / magnification, 0, centre_x - (width - 1) / 2 / magnification],
                           [0, 1 / magnification, centre_y - (height - 1) / 2 / magnification]])
        view = cv2.warpAffine(linear, warp, (width, height),
                              flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT)
        view = np.clip(view, 0, None)
        noisy.append(_capture(view, full_well, read_noise, rng))
        clean.append(_capture(view, full_well, read_noise, None))
    return noisy, clean


def write_clip(path: str, frames: List[np.ndarray], codec: str = 'libx264',
               crf: int = DEFAULT_CRF) -> None:
    """Frames at 25 frames/s into ``path`` (H.264 BT.709 limited range, as a phone writes)."""
    with av.open(path, 'w') as out:
        options = {'crf': str(crf), 'preset': DEFAULT_PRESET} if codec == 'libx264' else {}
        stream = out.add_stream(codec, rate=25, options=options)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = 'yuv420p'
        stream.codec_context.colorspace = stream.codec_context.color_primaries = 1
        stream.codec_context.color_range = 1
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format='rgb24').reformat(
                format='yuv420p', dst_colorspace=1, dst_color_range=1)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def bare_transcode(src: str, dst: str, crf: int) -> int:
    """Decode + libx264 veryfast re-encode, nothing else: the reference of the throughput."""
    with av.open(src) as source, av.open(dst, 'w') as out:
        video = source.streams.video[0]
        video.thread_type = 'AUTO'
        stream = out.add_stream('libx264', rate=video.average_rate,
                                options={'crf': str(crf), 'preset': 'veryfast'})
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, 'yuv420p'
        stream.time_base = stream.codec_context.time_base = video.time_base
        stream.codec_context.thread_type = 'AUTO'
        count = 0
        for frame in source.decode(video):
            frame.pict_type = av.video.frame.PictureType.NONE
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode(None))
    return count


def throughput_rows(args, model, work: str) -> Dict[str, float]:
    width, height = args.size
    src = osp.join(work, 'moving.mp4')
    write_clip(src, noisy_dark_frames(width, height, args.frames, moving_square=True))
    # Warm-up: numba loads its cached kernels (or compiles them) on first use.
    enhance_video(model, src, osp.join(work, 'warm.mp4'), progress=False)
    rows = {'load before': os.getloadavg()[0]}
    for repeat in range(args.repeats):
        start = time.perf_counter()
        count = bare_transcode(src, osp.join(work, 'bare.mp4'), DEFAULT_CRF)
        rows.setdefault('bare', []).append(count / (time.perf_counter() - start))
        summary = enhance_video(model, src, osp.join(work, 'enhanced.mp4'), progress=False)
        rows.setdefault('enhance', []).append(summary.frames / summary.seconds)
        summary = enhance_video(model, src, osp.join(work, 'plain.mp4'), progress=False,
                                temporal_denoiser=False)
        rows.setdefault('enhance, no denoiser', []).append(summary.frames / summary.seconds)
    rows = {k: float(np.median(v)) if isinstance(v, list) else v for k, v in rows.items()}
    rows['load after'] = os.getloadavg()[0]
    for name in ('bare', 'enhanced', 'plain'):
        rows[f'{name} MB'] = osp.getsize(osp.join(work, f'{name}.mp4')) / 1e6
    return rows


def _cpu_ms(fn, repeats: int = 5) -> float:
    fn()
    start = time.thread_time()
    for _ in range(repeats):
        fn()
    return (time.thread_time() - start) / repeats * 1e3


def stage_rows(args, model, work: str) -> Dict[str, float]:
    src = osp.join(work, 'moving.mp4')
    with av.open(src) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        start = time.thread_time()
        frames = list(container.decode(stream))
        decode = (time.thread_time() - start) / len(frames) * 1e3
    frame = frames[1]
    to_rgb, to_yuv = VideoReformatter(), VideoReformatter()
    rgb = to_rgb.reformat(frame, format='rgb24', src_colorspace=1, dst_colorspace=1,
                          src_color_range=1, dst_color_range=1).to_ndarray()
    planes = frame_planes(frame)
    denoiser = MotionAdaptiveTemporalDenoiser()
    denoiser(planes)
    outs = [np.empty(p.shape, np.uint8) for p in planes]
    target = av.VideoFrame(frame.width, frame.height, 'yuv420p')
    target_planes = frame_planes(target)
    rows = {
        'decode (1 thread)': decode,
        'temporal denoiser': _cpu_ms(lambda: denoiser(planes, outs)),
        'YUV -> RGB (ours)': _cpu_ms(lambda: frame_to_rgb(frame)),
        'YUV -> RGB (swscale)': _cpu_ms(lambda: to_rgb.reformat(
            frame, format='rgb24', src_colorspace=1, dst_colorspace=1, src_color_range=1,
            dst_color_range=1).to_ndarray()),
        'enhance_batch': _cpu_ms(lambda: enhance_batch(model, rgb[None])),
        'RGB -> YUV (ours)': _cpu_ms(lambda: rgb_to_yuv420(rgb, target_planes, 1, False)),
        'RGB -> YUV (swscale)': _cpu_ms(lambda: to_yuv.reformat(
            av.VideoFrame.from_ndarray(rgb, format='rgb24'), format='yuv420p',
            src_colorspace=1, dst_colorspace=1, src_color_range=1, dst_color_range=1,
            threads=1)),
    }
    with av.open(osp.join(work, 'stage.mp4'), 'w') as out:
        stream = out.add_stream('libx264', rate=25, options={'crf': str(DEFAULT_CRF),
                                                             'preset': DEFAULT_PRESET})
        stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, 'yuv420p'
        stream.codec_context.thread_count = 1
        start = time.thread_time()
        for i, f in enumerate(frames):
            f.pts = i
            f.pict_type = av.video.frame.PictureType.NONE
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
        rows['encode, noisy input (1 thread)'] = (time.thread_time() - start) / len(frames) * 1e3
    return rows


def temporal_std(frames: np.ndarray, skip: int) -> float:
    """Per-pixel standard deviation over time, averaged over pixels and channels."""
    return float(frames[skip:].astype(np.float32).std(axis=0).mean())


def noise_rows(args, official, work: str) -> Dict[str, float]:
    width, height = args.size
    src = osp.join(work, 'static.mp4')
    write_clip(src, noisy_dark_frames(width, height, args.noise_frames, seed=1))
    decoded = read_rgb_frames(src)
    per_frame = np.concatenate([enhance_batch(official, f[None]) for f in decoded])
    rows = {'input': temporal_std(decoded, args.skip),
            'official, frame by frame': temporal_std(per_frame, args.skip),
            'brightness official': float(per_frame[args.skip:].mean())}
    for name, denoiser in (('ours, denoiser on', None), ('ours, denoiser off', False)):
        out = osp.join(work, f'static_{denoiser}.mp4')
        enhance_video(official, src, out, temporal_denoiser=denoiser, progress=False)
        frames = read_rgb_frames(out)
        rows[name] = temporal_std(frames, args.skip)
        rows[f'brightness {name}'] = float(frames[args.skip:].mean())
    return rows


def _masks(count: int, width: int, height: int, wake: int) -> Tuple[np.ndarray, np.ndarray]:
    side, step = height // 6, max(1, width // 160)
    on = np.zeros((count, height, width), bool)
    for i in range(count):
        x0 = (i * step) % max(1, width - side)
        on[i, height // 3:height // 3 + side, x0:x0 + side] = True
    behind = np.zeros_like(on)
    for i in range(count):
        behind[i] = on[max(0, i - wake):i].any(axis=0) & ~on[i]
    return on, behind


def trail_rows(args, model, work: str) -> Dict[str, float]:
    width, height = args.trail_size
    frames = noisy_dark_frames(width, height, args.trail_frames, seed=2, moving_square=True)
    src = osp.join(work, 'square.mkv')
    write_clip(src, frames, codec='ffv1')
    outputs = {}
    for name, denoiser in (('denoised', None), ('per frame', False)):
        out = osp.join(work, f'square_{name}.mkv')
        enhance_video(model, src, out, temporal_denoiser=denoiser, codec='ffv1',
                      progress=False)
        outputs[name] = read_rgb_frames(out).astype(np.float32)
    # A running average that ignores motion, for scale: what a trail measures.
    decoded = read_rgb_frames(src).astype(np.float32)
    average, naive = decoded[0], []
    for i, frame in enumerate(decoded):
        average = frame if i == 0 else average + (frame - average) / min(i + 1, 8)
        naive.append(enhance_batch(model, np.round(average).astype(np.uint8)[None])[0])
    on, behind = _masks(len(decoded), width, height, wake=8)
    reference = outputs['per frame']
    rows = {}
    regions = {'object': on, 'wake': behind, 'static background': ~(on | behind)}
    for name, result in (('ours', outputs['denoised']), ('naive average', np.stack(naive))):
        # Signed: a trail is a bias (a ghost of the object, the object dimmed), whereas the
        # noise the denoiser removes averages out; absolute: includes that noise.
        diff = (result - reference).mean(axis=3)[args.skip:]
        for region, mask in regions.items():
            values = diff[mask[args.skip:]]
            rows[f'{name}: {region}'] = (float(values.mean()), float(np.abs(values).mean()))
    return rows


def _detail(frames: np.ndarray) -> float:
    """Mean |Laplacian| of the frames' grey after a 1-pixel Gaussian (fine texture)."""
    grey = frames.astype(np.float32).mean(axis=3)
    smoothed = [cv2.GaussianBlur(g, (0, 0), 1.0) for g in grey]
    return float(np.mean([np.abs(cv2.Laplacian(g, cv2.CV_32F)).mean() for g in smoothed]))


def motion_rows(args, model, work: str) -> Dict[str, Tuple[float, float]]:
    """Dark, noisy camera motion (lossless FFV1): a pan and a forward drive, each enhanced with
    the temporal denoiser following the motion, not following it, and off, against the
    noise-free frames enhanced frame by frame. Returns 'clip: row' -> (mean absolute
    difference, fine detail as a share of the noise-free result's)."""
    width, height = args.trail_size
    rows = {}
    for clip, motion in (('pan', dict(speed=args.pan_speed)),
                         ('forward', dict(zoom_rate=args.zoom_rate))):
        noisy, clean = moving_dark_frames(width, height, args.trail_frames, seed=3, **motion)
        src = osp.join(work, f'{clip}.mkv')
        write_clip(src, noisy, codec='ffv1')
        truth = np.concatenate([enhance_batch(model, f[None]) for f in clean])[args.skip:]
        for name, denoiser in (('following the motion', None),
                               ('not following', dict(follow_motion=False)),
                               ('denoiser off', False)):
            out = osp.join(work, f'{clip}_out.mkv')
            enhance_video(model, src, out, temporal_denoiser=denoiser, codec='ffv1',
                          progress=False)
            result = read_rgb_frames(out)[args.skip:]
            error = float(np.abs(result.astype(np.float32) - truth).mean())
            rows[f'{clip}: {name}'] = (error, _detail(result) / _detail(truth))
    return rows


def parse_size(text: str) -> Tuple[int, int]:
    width, height = (int(v) for v in text.lower().split('x'))
    return width, height


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', help='weights for all figures; the official '
                        'Epoch99.pth (run at scale factor 12) gives the official reference of '
                        'the noise figure (default: the package\'s weights)')
    parser.add_argument('--threads', type=positive_int, default=2,
                        help='torch threads (default: 2)')
    parser.add_argument('--size', type=parse_size, default=(1920, 1080),
                        help='frame size of the throughput and noise clips (default: 1920x1080)')
    parser.add_argument('--frames', type=positive_int, default=100,
                        help='frames of the throughput clip (default: 100)')
    parser.add_argument('--repeats', type=positive_int, default=1,
                        help='timed runs of each throughput row; the median is shown '
                        '(default: 1)')
    parser.add_argument('--noise-frames', type=positive_int, default=24,
                        help='frames of the static noise clip (default: 24)')
    parser.add_argument('--skip', type=non_negative_int, default=8,
                        help='first frames left out of the noise and trail figures, while the '
                        'average builds up (default: 8)')
    parser.add_argument('--trail-size', type=parse_size, default=(640, 360),
                        help='frame size of the trail clip (default: 640x360)')
    parser.add_argument('--trail-frames', type=positive_int, default=40,
                        help='frames of the trail clip (default: 40)')
    parser.add_argument('--pan-speed', type=positive_int, default=3,
                        help='pixels per frame of the pan clip (trail size and frames; '
                        'default: 3)')
    parser.add_argument('--zoom-rate', type=number(0, 0.1, low_open=True), default=0.01,
                        help='magnification per frame of the forward-drive clip (trail size '
                        'and frames; default: 0.01)')
    parser.add_argument('--only', nargs='*',
                        default=['throughput', 'stages', 'noise', 'trail', 'motion'],
                        choices=['throughput', 'stages', 'noise', 'trail', 'motion'],
                        help='figures to measure (default: all)')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {'scale_factor': 12} if args.checkpoint else {}
    model = init_enhancer(checkpoint=args.checkpoint, **overrides)
    print(f'torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs visible, '
          f'PyAV {av.__version__}, weights {args.checkpoint or "package default"}, load average '
          f'{os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as work:
        if 'throughput' in args.only or 'stages' in args.only:
            rows = throughput_rows(args, model, work)
            w, h = args.size
            print(f'\nthroughput, {w}x{h}, {args.frames} frames, libx264 {DEFAULT_PRESET} '
                  f'CRF {DEFAULT_CRF} (load {rows["load before"]:.2f} -> '
                  f'{rows["load after"]:.2f}):')
            for name in ('bare', 'enhance', 'enhance, no denoiser'):
                print(f'  {name:<22} {rows[name]:6.1f} frames/s  '
                      f'({rows[name] / rows["bare"]:.2f}x bare)')
            print(f'  output MB: bare {rows["bare MB"]:.1f}, enhanced {rows["enhanced MB"]:.1f}, '
                  f'no denoiser {rows["plain MB"]:.1f}')
        if 'stages' in args.only:
            print('\nCPU ms per frame, one thread:')
            for name, value in stage_rows(args, model, work).items():
                print(f'  {name:<32} {value:6.1f}')
        if 'noise' in args.only:
            rows = noise_rows(args, model, work)
            print(f'\ntemporal std per pixel (grey levels), static scene, frames {args.skip}+:')
            for name in ('input', 'official, frame by frame', 'ours, denoiser on',
                         'ours, denoiser off'):
                ratio = rows[name] / rows['official, frame by frame']
                print(f'  {name:<26} {rows[name]:6.2f}  ({ratio:.2f}x official)')
            print(f'  mean brightness: official {rows["brightness official"]:.1f}, ours '
                  f'{rows["brightness ours, denoiser on"]:.1f} (denoiser off '
                  f'{rows["brightness ours, denoiser off"]:.1f})')
        if 'trail' in args.only:
            w, h = args.trail_size
            print(f'\ntrail, {w}x{h} moving square: x - per-frame result (grey levels), '
                  f'frames {args.skip}+, mean / mean absolute:')
            for name, (signed, absolute) in trail_rows(args, model, work).items():
                print(f'  {name:<32} {signed:+6.2f} / {absolute:5.2f}')
        if 'motion' in args.only:
            w, h = args.trail_size
            print(f'\ncamera motion, {w}x{h}, pan {args.pan_speed} px/frame, forward drive '
                  f'{args.zoom_rate:.1%}/frame: |x - noise-free result| (grey levels) and fine '
                  f'detail (share of the noise-free result\'s), frames {args.skip}+:')
            for name, (error, detail) in motion_rows(args, model, work).items():
                print(f'  {name:<31} {error:6.2f}   detail {detail:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
