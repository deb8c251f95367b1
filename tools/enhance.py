"""Enhance dark photos and videos: files, folders (tree mirrored), globs; resumable.

    python tools/enhance.py dark.jpg holiday/ 'scans/**/*.png' night.mp4 -o enhanced/

Videos come out as H.264 (VP9 in .webm, or --codec) with every other stream kept and a temporal
denoiser on.
Exit status 0 when every input was enhanced (or already was), 1 when any failed or nothing
matched.
"""
import argparse
import os
import os.path as osp
import sys

# Only the standard library before the command line is parsed: --help and argument errors
# answer at once; torch, mmengine, numba and onnxruntime load in main().
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/: cli_types
from cli_types import number, positive_float, positive_int  # noqa: E402

# Set before torch loads OpenMP: on shared CPUs, threads that spin at barriers while a sibling is
# preempted made 2-thread inference up to 100x slower (measured on 2 shared cores); sleeping
# waiters cost a little on an idle machine. An explicit setting in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

#: libx264's / libx265's defaults of the video writer (mmlowlight.apis.video_io; a test keeps
#: them equal): repeated here so that --help needs no heavy import.
DEFAULT_CRF, DEFAULT_PRESET = 18, 'veryfast'


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: X)`` only where the help text does not explain the default itself
    and there is a default worth showing (not None, not a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ''
        if 'default' in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


_OFF = 'off'


def _night_level(text: str):
    """``--night-level``: ``off`` (None) or a level in (0, 1]."""
    if text.strip().lower() == _OFF:
        return _OFF
    return number(0, 1, low_open=True)(text)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Enhance low-light images and videos with SGZ.',
        formatter_class=_HelpFormatter)
    parser.add_argument('inputs', nargs='+',
                        help='image/video files, folders (recursive) or glob patterns')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--config', help='config holding the SGZEnhancer (default: '
                        'architecture read off the checkpoint)')
    parser.add_argument('--checkpoint', help='our checkpoint or the official SGZ Epoch99.pth '
                        '(default: the package\'s weights, mmlowlight.apis.DEFAULT_CHECKPOINT)')
    parser.add_argument('--scale-factor', type=number(1),
                        help='the factor map is estimated at 1/scale-factor resolution (default: '
                        'what the checkpoint records for the package\'s weights; 12, the '
                        'official inference setting, for official SGZ weights; 1 is full '
                        'resolution, slow)')
    parser.add_argument('--night-level', type=_night_level, metavar='LEVEL|off',
                        help='output mean level of a dark scene lit by its own lamps (street '
                        'lights, headlights), in (0, 1]; off: brightened as any dark scene, '
                        'up to 0.41 (default: what the checkpoint records, 0.28 for the '
                        'package\'s weights; a night photo is about 0.26; off also drops the '
                        'night black point)')
    parser.add_argument('--max-level', type=number(0, 1, low_open=True), metavar='LEVEL',
                        help='highest output mean level of a dark scene without lamps of its '
                        'own (a dim room, an underexposed day photo), in (0, 1] (default: what '
                        'the checkpoint records, 0.41 for the package\'s weights; 0.6 comes '
                        'close to the official SGZ\'s brighter look, see the model card)')
    parser.add_argument('--max-level-rise', type=number(0, 1), nargs=3,
                        metavar=('START', 'FULL', 'LEVEL'),
                        help='raise the highest level of a dark scene without lamps from '
                        '--max-level at the input mean level START to LEVEL at FULL and above '
                        '(underexposed day photos hold more light than night captures): '
                        '0.11 0.18 0.7 comes within 0.02 of the official SGZ\'s brightness on '
                        'underexposed day photos at less cost than --max-level 0.6, but also '
                        'brightens night scenes without lamps in view; see the model card '
                        '(default: what the checkpoint records, none for the package\'s '
                        'weights)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda, cuda:1')
    parser.add_argument('--batch-size', type=positive_int, default=4,
                        help='equal-size images per forward pass (videos go frame by frame)')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write input | enhanced panels')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo outputs that exist (by default they are skipped)')
    parser.add_argument('--ext', help='output image format, e.g. png (default: the input\'s)')
    video = parser.add_argument_group('videos')
    video.add_argument('--codec', default=None,
                       help='video encoder, e.g. libx264 (H.264), libx265, libvpx-vp9, libsvtav1 '
                       '(default: libx264; libvpx-vp9 for .webm, which cannot hold H.264)')
    video.add_argument('--crf', type=number(0, 63, integer=True),
                       help=f'constant rate factor, lower is better and larger (default: '
                       f'{DEFAULT_CRF} for libx264/libx265, visually transparent)')
    video.add_argument('--preset', help=f'encoder speed preset (default: {DEFAULT_PRESET} for '
                       'libx264/libx265: real time at 1080p on 2 cores; slower presets give '
                       'smaller files)')
    video.add_argument('--no-temporal-denoise', action='store_true',
                       help='do not average the noise of static regions over frames')
    video.add_argument('--temporal-frames', type=positive_int, default=8, metavar='N',
                       help='most frames averaged where nothing moves: the denoising strength '
                       '(static noise falls to 1/sqrt(2N-1))')
    video.add_argument('--noise-sigma', type=number(0), metavar='GREY_LEVELS',
                       help='noise standard deviation of the input in grey levels (0-255) '
                       '(default: estimated in every frame)')
    video.add_argument('--motion-threshold', type=positive_float, default=1.0, metavar='SIGMAS',
                       help='local difference, in noise sigmas, where a pixel starts to count '
                       'as moving (it stops being averaged from twice that); lower: fewer '
                       'trails, more noise left')
    video.add_argument('--static-camera', action='store_true',
                       help='do not follow the camera\'s motion (by default the temporal '
                       'denoiser moves its state with pans, shake and forward motion; a tripod '
                       'clip saves the estimates, about 7 ms per 1080p frame)')
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    args = parser.parse_args(argv)
    if args.max_level_rise is not None:
        start, full, level = args.max_level_rise
        if not start < full or level <= 0:
            parser.error(f'argument --max-level-rise: must be START < FULL and LEVEL > 0, got '
                         f'{start:g} {full:g} {level:g}')
    return args


def temporal_denoiser_config(args: argparse.Namespace):
    """The ``temporal_denoiser`` argument of enhance_files for the command line options."""
    if args.no_temporal_denoise:
        return False
    return dict(type='MotionAdaptiveTemporalDenoiser', max_frames=args.temporal_frames,
                noise_sigma=args.noise_sigma, motion_low=args.motion_threshold,
                motion_high=2 * args.motion_threshold, follow_motion=not args.static_camera)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmlowlight.apis import enhance_files, init_enhancer
    from mmlowlight.apis.cli_errors import exit_on_user_error
    overrides = {} if args.scale_factor is None else dict(scale_factor=args.scale_factor)
    exposure = {}
    if args.night_level is not None:
        exposure['light_level'] = None if args.night_level == _OFF else args.night_level
    if args.max_level is not None:
        exposure['max_level'] = args.max_level
    if args.max_level_rise is not None:
        exposure['max_level_rise'] = tuple(args.max_level_rise)
    if exposure:
        overrides['exposure_control'] = exposure
    with exit_on_user_error():  # a bad checkpoint or device: one line, no traceback
        model = init_enhancer(args.config, args.checkpoint, device=args.device, **overrides)
    report = enhance_files(
        model, args.inputs, args.out_dir, batch_size=args.batch_size, ext=args.ext,
        overwrite=args.overwrite, side_by_side=args.side_by_side,
        temporal_denoiser=temporal_denoiser_config(args), codec=args.codec, crf=args.crf,
        preset=args.preset, progress=not args.no_progress)
    print(report.format(), file=sys.stderr)
    return report.exit_code


if __name__ == '__main__':
    sys.exit(main())
