"""Speed and memory of SGZ inference on the CPU, side by side in one run.

    python tools/benchmark.py --checkpoint Epoch99.pth --threads 2

Rows, at each ``--sizes`` (images/s, median of ``--repeats`` timed runs after one warm-up):
  copy            bare frame copy: cv2.imread + cv2.imwrite of a JPEG (quality 95)
  official s=12   the official ``enhance_net_nopool.forward`` op by op (EFE on the 1/12 image,
                  UpsamplingBilinear2d, 8 allocating ``x + r * (x**2 - x)`` steps), float
                  tensor in -> out, under no_grad: what the official inference script runs
  official s=1    the same at full resolution (the training-time setting; --full-res)
  fast s=12       ``SGZEnhancer`` under inference_mode (in-place, cache-blocked RIE) on the
                  channels-last tensor that ``enhance``/``enhance_batch`` hand it
  RIE plain       the 8 curve steps alone as written in the official code (4 allocating ops each)
  RIE in place    the same steps in place, cache-blocked (``recurrent_enhance_``, incl. a copy)
  fast file->file read_image + enhance_batch + encode_image + atomic write (JPEG q95):
                  what tools/enhance.py does per image, without its read/write overlap
Then: peak extra memory (RSS) of one forward at --memory-size, official vs fast, in units of
the float32 input tensor. Video throughput and temporal noise: ``tools/benchmark_video.py``.
Speed does not depend on the weights: without --checkpoint random weights are used.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict

# Before torch loads OpenMP (see tools/enhance.py): passive waiting at barriers, so that timings
# on a shared machine measure the code rather than preempted spinning threads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from mmlowlight.apis import (DecodedImage, enhance_batch, encode_image,  # noqa: E402
                             init_enhancer, read_image)
from mmlowlight.apis.demo_data import demo_images, synthesize_low_light  # noqa: E402
from mmlowlight.apis.image_io import atomic_write_bytes  # noqa: E402
from mmlowlight.apis.inference import to_model_input  # noqa: E402
from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance  # noqa: E402
from mmlowlight.models.enhancers.rie_inplace import recurrent_enhance_  # noqa: E402
from mmlowlight.utils.timing import median_seconds  # noqa: E402


def official_style_forward(model: SGZEnhancer, x: torch.Tensor, scale_factor: int):
    """``enhance_net_nopool.forward`` of the official code, op by op, on our weights: resize,
    EFE, ``UpsamplingBilinear2d``, and the 8 allocating curve steps with ``torch.pow``."""
    x_down = x if scale_factor == 1 else F.interpolate(
        x, scale_factor=1 / scale_factor, mode='bilinear')
    x_r = model.efe(x_down)  # FactorExtractor.forward is the official e_conv1..7 code as is
    if scale_factor != 1:
        x_r = nn.UpsamplingBilinear2d(scale_factor=scale_factor)(x_r)
    for _ in range(8):
        x = x + x_r * (torch.pow(x, 2) - x)
    return x, x_r


def dark_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A realistic dark RGB frame of the given size (a resized sample photo, underexposed)."""
    photo = cv2.resize(demo_images()['coffee'], (width, height), interpolation=cv2.INTER_CUBIC)
    return synthesize_low_light(photo, seed=seed)


def load_model(args: argparse.Namespace, scale_factor: int) -> SGZEnhancer:
    if args.checkpoint:
        return init_enhancer(checkpoint=args.checkpoint, scale_factor=scale_factor)
    torch.manual_seed(0)
    model = SGZEnhancer(scale_factor=scale_factor)
    model.init_weights()
    return model.eval()


def image_rows(args: argparse.Namespace, width: int, height: int, work: str) -> Dict[str, float]:
    rgb = dark_frame(width, height)
    src, dst = osp.join(work, 'frame.jpg'), osp.join(work, 'out.jpg')
    cv2.imwrite(src, rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    fast = load_model(args, 12)
    # The official script's layout (NCHW contiguous) for the official rows; the layout our API
    # hands the model (channels-last, free from H x W x 3 arrays) for the fast row.
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).contiguous()
    x_api = to_model_input(rgb[None], 'cpu')
    rows = {}
    rows['copy'] = median_seconds(lambda: cv2.imwrite(
        dst, cv2.imread(src), [cv2.IMWRITE_JPEG_QUALITY, 95]), args.repeats)
    with torch.no_grad():
        rows['official s=12'] = median_seconds(
            lambda: official_style_forward(fast, x, 12), args.repeats)
        if args.full_res:
            rows['official s=1'] = median_seconds(lambda: official_style_forward(fast, x, 1), 1)
    with torch.inference_mode():
        rows['fast s=12'] = median_seconds(lambda: fast(x_api), args.repeats)
        factor = fast.estimate_factor(x_api)
        x_rie = x_api.clone()
        rows['RIE plain'] = median_seconds(lambda: recurrent_enhance(x_api, factor), args.repeats)
        rows['RIE in place'] = median_seconds(
            lambda: recurrent_enhance_(x_rie.copy_(x_api), factor), args.repeats)

    def file_to_file() -> None:
        image = read_image(src)
        out = enhance_batch(fast, image.rgb[None])[0]
        atomic_write_bytes(dst, encode_image(DecodedImage(out, format=image.format), '.jpg'))

    rows['fast file->file'] = median_seconds(file_to_file, args.repeats)
    return rows


def memory_probe(variant: str, width: int, height: int, threads: int) -> None:
    """Run one forward in this (fresh) process and print its peak extra RSS as JSON."""
    torch.set_num_threads(threads)
    model = SGZEnhancer(scale_factor=12).eval()
    with torch.inference_mode():
        model(torch.rand(1, 3, 24, 24))  # load kernels and thread pools outside the figure
    x = torch.rand(1, 3, height, width)
    if variant == 'fast':
        x = x.contiguous(memory_format=torch.channels_last)  # as the API hands it over
    page = os.sysconf('SC_PAGE_SIZE')
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the peak RSS to the current RSS (Linux >= 4.0)
    with open('/proc/self/statm') as f:
        before = int(f.read().split()[1]) * page
    if variant == 'official':
        with torch.no_grad():
            official_style_forward(model, x, 12)
    else:
        with torch.inference_mode():
            model(x)
    # VmHWM, not getrusage's ru_maxrss: the latter keeps the parent's peak across fork+exec.
    with open('/proc/self/status') as f:
        peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmHWM:'))
    print(json.dumps(dict(extra=peak - before, input=x.numel() * x.element_size())))


def memory_rows(args: argparse.Namespace) -> Dict[str, float]:
    width, height = args.memory_size
    rows = {}
    for variant in ('official', 'fast'):
        result = subprocess.run(
            [sys.executable, __file__, '--memory-probe', variant, '--memory-size',
             f'{width}x{height}', '--threads', str(args.threads)],
            capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f'memory probe ({variant}) failed:\n{result.stderr}')
        probe = json.loads(result.stdout.strip().splitlines()[-1])
        rows[variant] = probe['extra'] / probe['input']
        rows['input MiB'] = probe['input'] / 2**20
    return rows


def parse_size(text: str):
    width, height = (int(v) for v in text.lower().split('x'))
    return width, height


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', help='weights (speed does not depend on them; flicker '
                        'does: use real weights for that figure)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--sizes', nargs='+', type=parse_size,
                        default=[(1200, 900), (1920, 1080)])
    parser.add_argument('--full-res', action='store_true',
                        help='also time the official forward at scale_factor=1 (slow)')
    parser.add_argument('--memory-size', type=parse_size, default=(3840, 2160))
    parser.add_argument('--skip', nargs='*', default=[], choices=['images', 'memory'])
    parser.add_argument('--memory-probe', choices=['official', 'fast'], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        memory_probe(args.memory_probe, *args.memory_size, args.threads)
        return 0
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(f'torch {torch.__version__}, {args.threads} threads, '
          f'{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as work:
        if 'images' not in args.skip:
            for width, height in args.sizes:
                rows = image_rows(args, width, height, work)
                print(f'\n{width}x{height}: {"row":<16} {"ms":>9} {"images/s":>9}')
                for name, seconds in rows.items():
                    print(f'{"":>{len(str(width)) + len(str(height)) + 2}} {name:<16} '
                          f'{seconds * 1e3:9.1f} {1 / seconds:9.2f}')
                print(f'  official s=12 / fast s=12: '
                      f'{rows["official s=12"] / rows["fast s=12"]:.1f}x;  '
                      f'fast file->file / copy: {rows["fast file->file"] / rows["copy"]:.2f}x;  '
                      f'RIE plain / in place: {rows["RIE plain"] / rows["RIE in place"]:.1f}x')
                if 'official s=1' in rows:
                    print(f'  official s=1 / fast s=12: '
                          f'{rows["official s=1"] / rows["fast s=12"]:.0f}x')
        if 'memory' not in args.skip:
            rows = memory_rows(args)
            print(f'\npeak extra memory of one forward at {args.memory_size[0]}x'
                  f'{args.memory_size[1]} (input tensor {rows["input MiB"]:.0f} MiB): '
                  f'official {rows["official"]:.2f}x input, fast {rows["fast"]:.2f}x input')
    return 0


if __name__ == '__main__':
    sys.exit(main())
