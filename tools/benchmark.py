"""How fast SGZ enhances photos on this CPU, against the official SGZ code, in one run.

    python tools/benchmark.py --quick              # a first look: 1920x1080 only, ~1 minute
    python tools/benchmark.py                      # 1200x900, 1920x1080, 3840x2160: ~5 minutes
    python tools/benchmark.py --official-checkpoint /path/to/Epoch99.pth --sizes 1280x720

Each size is timed on a dark photo (a sample image, resized and darkened). All rows run in turn,
several rounds, and each row reports its median, so that a busy machine slows all rows alike;
in each round a row's timed calls follow an untimed one of its own (as frame follows frame).
The rows, in plain words:
  frame copy        copying the frame once: the fastest anything can touch every pixel
  official code     the original SGZ code (its network, as its test script runs it), in a
                    separate process with PyTorch's default settings, its memory allocator
                    told to keep the buffers it frees (see --official-memory); its calls
                    come from --official-processes fresh processes in turn, pooled
  official, flushed the same code with "denormal" numbers flushed to zero, a PyTorch setting
                    (torch.set_flush_denormal) that makes the official weights several times
                    faster on x86 CPUs: the fairest, fastest version of the official code
  fast, official    this package's fast CPU path with the official weights (uint8 in and out)
  default path      what `tools/enhance.py` runs: the package's default weights and pipeline
  NAME              each --candidate: another model or pipeline, e.g. without the denoiser
  reference         the plain PyTorch version of the same computation (slow, for checking)
then the speed-ups against both official rows, the same from each row's fastest call (these
shared cores slow a run now and then, the official code's long calls most), how closely the
fast path matches the reference (largest difference in grey levels), the fast path's time per
pixel on a frame 5 pixels narrower and 7 lower against the full size (an odd size must not cost
more; the two sizes alternate, each timed call right after an untimed one of its own size,
because a row's time depends on what ran before it), and the network's time per backend.
Last, the peak memory of one large frame and the time of the first frame of a new process (what
a user waits for once), each in fresh processes (--skip-memory and --skip-first-frame leave them
out).

The official weights are not part of this package: download ``weight/Epoch99.pth`` from the
official repository (github.com/ShenZheng2000/Semantic-Guided-Low-Light-Image-Enhancement) and
pass it with --official-checkpoint. Without it, the official rows run the package's weights at
the official settings, which takes the same time (only the agreement figures then differ).
"""
import argparse
import contextlib
import json
import logging
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/: cli_types
from cli_types import parse_candidate, positive_int  # noqa: E402


def parse_size(text: str) -> Tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected WIDTHxHEIGHT, got {text!r}') from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f'sizes must be >= 1, got {text!r}')
    return width, height


def build_parser() -> argparse.ArgumentParser:
    """The command line (standard library only: --help and bad options answer before torch
    loads)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split('\n', 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--official-checkpoint', default=None,
                        help='the official SGZ Epoch99.pth (see above; default: the package '
                        'weights at the official settings, which run at the same speed)')
    parser.add_argument('--quick', action='store_true',
                        help='a first look in about a minute: 1920x1080 only, 3 rounds, no '
                        'memory or first-frame figures')
    parser.add_argument('--threads', type=positive_int, default=2,
                        help='threads of PyTorch, onnxruntime and the fused pass (default: 2)')
    parser.add_argument('--official-processes', type=positive_int, default=2,
                        help='fresh pairs of official-code processes per size, one after the '
                             'other, their calls pooled')
    parser.add_argument('--official-memory', choices=['kept', 'returned'], default='kept',
                        help='kept (default): the official code\'s processes keep the buffers '
                        'they free (glibc: no mmap up to 32 MiB, no trimming), its steady '
                        'speed; returned: glibc\'s defaults, under which a process may give '
                        'its large buffers back to the kernel after every call and fault them '
                        'in again (1080p: about 115,000 page faults and twice the time per '
                        'call), by chance per process and per call')
    parser.add_argument('--repeats', type=positive_int, default=7,
                        help='timed rounds per size; each row reports its median (default: 7)')
    parser.add_argument('--sizes', nargs='+', type=parse_size,
                        default=[(1200, 900), (1920, 1080), (3840, 2160)],
                        help='frame sizes WIDTHxHEIGHT, any size (default: 1200x900 '
                        '1920x1080 3840x2160)')
    parser.add_argument('--candidate', action='append', type=parse_candidate, default=[],
                        metavar='NAME=PATH[:JSON]',
                        help='another model to time beside the default path, in the same '
                        'rounds (repeatable): a checkpoint (empty: the package\'s weights) and '
                        'init_enhancer overrides, e.g. \'no-denoiser=:{"denoiser": null}\'')
    parser.add_argument('--memory-size', type=parse_size, default=(3840, 2160),
                        help='frame size of the peak-memory figure (default: 3840x2160)')
    parser.add_argument('--skip-memory', action='store_true',
                        help='leave out the peak-memory figure (three fresh processes)')
    parser.add_argument('--first-frame-size', type=parse_size, default=(1920, 1080),
                        help='frame size of the first-frame latency figure (fresh processes '
                        'with a cold and a warm numba cache; default: 1920x1080)')
    parser.add_argument('--skip-first-frame', action='store_true',
                        help='leave out the first-frame latency figure')
    parser.add_argument('--memory-probe', choices=['official', 'reference', 'fast'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--first-frame-probe', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--official-server', type=parse_size, help=argparse.SUPPRESS)
    parser.add_argument('--flush-denormals', action='store_true', help=argparse.SUPPRESS)
    return parser


if __name__ == '__main__':
    build_parser().parse_args()  # --help and bad options: answered here, in well under a second

# Before torch and onnxruntime load their thread pools (see tools/enhance.py): passive waiting
# at barriers, so that timings on a shared machine measure the code, not spinning threads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from mmlowlight import ops  # noqa: E402
from mmlowlight.apis import enhance, enhance_batch, init_enhancer  # noqa: E402
from mmlowlight.apis.cli_errors import exit_on_user_error  # noqa: E402
from mmlowlight.apis.demo_data import demo_images, synthesize_low_light  # noqa: E402
from mmlowlight.apis.inference import fast_path_unsupported  # noqa: E402
from mmlowlight.models.enhancers import SGZEnhancer  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
OFFICIAL_WEIGHTS = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'sgz_official',
                            'Epoch99.pth')
OFFICIAL_SCALE = 12
#: The environment of the official code's processes with ``--official-memory kept``: glibc's
#: allocator keeps the buffers it frees (blocks up to 32 MiB, the most glibc allows, from the
#: heap rather than mmap, and the heap's top never trimmed). Under glibc's defaults a process
#: may give a 1080p call's tensors (about 25 MB each) back to the kernel and fault them in
#: again on the next call: on a 2-core Xeon, flushed calls with 115,201 minor page faults
#: took 181-195 ms and calls with none 82-94 ms, the same process switching between the two
#: from call to call; with these settings every call had none and took 72-83 ms. Other C
#: libraries ignore the variables. Set in the caller's environment, the caller's values win.
KEPT_MEMORY_ENV = {'MALLOC_MMAP_THRESHOLD_': str(32 << 20), 'MALLOC_TRIM_THRESHOLD_': str(1 << 40)}


def official_forward(model: SGZEnhancer, x: torch.Tensor) -> torch.Tensor:
    """``enhance_net_nopool.forward`` of the official code, op by op, at scale 12."""
    x_down = F.interpolate(x, scale_factor=1 / OFFICIAL_SCALE, mode='bilinear')
    x_r = model.efe(x_down)  # FactorExtractor.forward is the official e_conv1..7 code as is
    x_r = nn.UpsamplingBilinear2d(scale_factor=OFFICIAL_SCALE)(x_r)
    for _ in range(8):
        x = x + x_r * (torch.pow(x, 2) - x)
    return x


def dark_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A realistic dark H x W x 3 uint8 RGB frame (a resized sample photo, underexposed)."""
    photo = cv2.resize(demo_images()['coffee'], (width, height), interpolation=cv2.INTER_CUBIC)
    return synthesize_low_light(photo, seed=seed)


def official_input(width: int, height: int) -> torch.Tensor:
    """The official test code's input: the frame cropped to a multiple of 12 (at least 12 x 12),
    float (1, 3, h, w) in [0, 1], contiguous."""
    cropped_h = max(OFFICIAL_SCALE, height // OFFICIAL_SCALE * OFFICIAL_SCALE)
    cropped_w = max(OFFICIAL_SCALE, width // OFFICIAL_SCALE * OFFICIAL_SCALE)
    frame = dark_frame(max(width, cropped_w), max(height, cropped_h))[:cropped_h, :cropped_w]
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float().div(
        255).contiguous()


class OfficialCodeProcess:
    """The official code op by op (:func:`official_forward`) on one frame, timed in a process of
    its own: the state of the calling process (threads started, the floating-point mode of
    each) cannot change its speed. Each :meth:`run` is one forward pass there.

    Args:
        width, height (int): Frame size (cropped to multiples of 12, see
            :func:`official_input`).
        threads (int): PyTorch's threads there.
        flush_denormals (bool): ``torch.set_flush_denormal(True)`` before PyTorch starts its
            threads (they inherit the mode), i.e. the official code at its fastest.
        checkpoint (str, optional): The official weights (default: the package weights at
            scale 12, which run at the same speed).
        keep_memory (bool): Run the process with :data:`KEPT_MEMORY_ENV`. Defaults to True.
    """

    def __init__(self, width: int, height: int, threads: int, flush_denormals: bool,
                 checkpoint: Optional[str], keep_memory: bool = True) -> None:
        command = [sys.executable, __file__, '--official-server', f'{width}x{height}',
                   '--threads', str(threads)]
        if flush_denormals:
            command.append('--flush-denormals')
        if checkpoint:
            command += ['--official-checkpoint', checkpoint]
        env = dict(KEPT_MEMORY_ENV, **os.environ) if keep_memory else None
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        #: The minor page faults of each :meth:`run` there (the memory it had to map afresh;
        #: NaN where the platform does not count them).
        self.page_faults: List[float] = []
        #: (height, width) of the frame there, after the crop to multiples of 12.
        self.shape = tuple(int(v) for v in self._request('shape').split())

    def _request(self, line: str) -> str:
        self.process.stdin.write(line + '\n')
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f'the official-code process exited ({self.process.wait()})')
        return answer.strip()

    def run(self) -> float:
        """One forward pass there; returns its seconds as timed there."""
        seconds, faults = self._request('run').split()
        self.page_faults.append(float(faults))
        return float(seconds)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()

    def __enter__(self) -> 'OfficialCodeProcess':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def minor_page_faults() -> float:
    """This process's minor page faults so far (NaN where the platform does not count them)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return float('nan')
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)


def official_server(width: int, height: int, threads: int, flush_denormals: bool,
                    checkpoint: Optional[str]) -> None:
    """The other end of :class:`OfficialCodeProcess`: one line in, one line out."""
    if flush_denormals:
        torch.set_flush_denormal(True)  # before PyTorch's threads exist: they inherit it
    torch.set_num_threads(threads)
    model = init_enhancer(checkpoint=checkpoint, scale_factor=OFFICIAL_SCALE)
    x = official_input(width, height)
    for line in sys.stdin:
        if line.strip() == 'shape':
            answer = f'{x.shape[-2]} {x.shape[-1]}'
        else:
            faults = minor_page_faults()
            start = time.perf_counter()
            with torch.no_grad():
                official_forward(model, x)
            seconds = time.perf_counter() - start
            answer = f'{seconds:.9f} {minor_page_faults() - faults}'
        print(answer, flush=True)


def interleaved_times(rows: Dict[str, Callable[[], object]], repeats: int
                      ) -> Dict[str, List[float]]:
    """Seconds of each call of each callable over ``repeats`` rounds (after one untimed warm-up
    round); in each round every row runs once, or 3 times where its warm-up took < 0.1 s (more
    samples of the fast rows at little cost), each time right after an untimed call of its
    own: a row's first call after other work was slower (the fast path with the official
    weights, 1080p: 6-10 ms right after the official code's processes, 5 ms in a row), so
    every row is timed as it runs frame after frame."""
    calls = {}
    for name, fn in rows.items():
        start = time.perf_counter()
        fn()
        calls[name] = 3 if time.perf_counter() - start < 0.1 else 1
    times: Dict[str, List[float]] = {name: [] for name in rows}
    for _ in range(repeats):
        for name, fn in rows.items():
            fn()
            for _ in range(calls[name]):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return times


def medians(samples: Dict[str, List[float]]) -> Dict[str, float]:
    """The median of each row's samples."""
    return {name: statistics.median(values) for name, values in samples.items()}


def interleaved_medians(rows: Dict[str, Callable[[], object]], repeats: int) -> Dict[str, float]:
    """The median of each row's :func:`interleaved_times`."""
    return medians(interleaved_times(rows, repeats))


class ProcessMedians(NamedTuple):
    """One official-code process's medians: seconds per call and minor page faults per call."""
    seconds: float
    page_faults: float


def official_process_times(rows: Dict[str, object], width: int, height: int, threads: int,
                           checkpoint: Optional[str], repeats: int, processes: int,
                           keep_memory: bool = True
                           ) -> Tuple[Dict[str, List[float]], Dict[str, List[ProcessMedians]],
                                      Tuple[int, int]]:
    """:func:`interleaved_times` of ``rows``, in which a row given as ``False`` or ``True``
    is the official code in an :class:`OfficialCodeProcess` of its own (denormals flushed with
    ``True``; ``keep_memory`` passed on), run ``processes`` times with fresh processes, the
    samples pooled.

    The official code's speed moved between processes and calls by up to 2x (1080p on one
    shared 2-core machine: 79-200 ms for the same code). The slow calls were those whose
    buffers the C library had given back to the kernel (see :data:`KEPT_MEMORY_ENV`), which
    ``keep_memory`` rules out; each process's page faults per call are returned, so a run
    shows whether that happened. Pooling fresh processes covers what else a process draws.

    Returns:
        tuple: The pooled seconds per row, the medians of each process of each official row
        (in order), and the official code's (height, width) crop.
    """
    samples: Dict[str, List[float]] = {name: [] for name in rows}
    per_process: Dict[str, List[ProcessMedians]] = {
        name: [] for name, row in rows.items() if isinstance(row, bool)}
    crop = (height, width)
    for _ in range(processes):
        with contextlib.ExitStack() as stack:
            callables, servers = {}, {}
            for name, row in rows.items():
                if isinstance(row, bool):
                    servers[name] = official = stack.enter_context(OfficialCodeProcess(
                        width, height, threads, row, checkpoint, keep_memory))
                    crop, row = official.shape, official.run
                callables[name] = row
            times = interleaved_times(callables, repeats)
        for name, values in times.items():
            samples[name] += values
        for name, server in servers.items():
            per_process[name].append(ProcessMedians(statistics.median(times[name]),
                                                    statistics.median(server.page_faults)))
    return samples, per_process, crop


def agreement(fast: np.ndarray, reference: np.ndarray) -> Tuple[int, float]:
    diff = np.abs(fast.astype(np.int32) - reference.astype(np.int32))
    return int(diff.max()), float((diff == 0).mean())


def size_rows(official: SGZEnhancer, default: SGZEnhancer, width: int, height: int,
              args: argparse.Namespace, candidates: Dict[str, SGZEnhancer]) -> None:
    frame = dark_frame(width, height)[None]
    odd = np.ascontiguousarray(frame[:, :max(1, height - 7), :max(1, width - 5)])
    copy = np.empty_like(frame)
    rows = {
        'frame copy': lambda: np.copyto(copy, frame),
        'official code': False,
        'official, flushed': True,
        'fast, official': lambda: enhance_batch(official, frame),
        'default path': lambda: enhance_batch(default, frame),
        **{name: (lambda model=model: enhance_batch(model, frame))
           for name, model in candidates.items()},
        'reference': lambda: enhance_batch(official, frame, fast=False),
    }
    samples, per_process, crop = official_process_times(
        rows, width, height, args.threads, args.official_checkpoint, args.repeats,
        args.official_processes, args.official_memory == 'kept')
    seconds = medians(samples)
    names = list(rows)
    pixels = {name: height * width for name in names}
    pixels['official code'] = pixels['official, flushed'] = crop[0] * crop[1]
    note = '' if crop == (height, width) else \
        f'  (official code on the {crop[1]}x{crop[0]} crop)'
    print(f'\n{width}x{height}{note}')
    print(f'  {"row":<22} {"ms":>9} {"ns/pixel":>9} {"x official":>11} {"x flushed":>10}')
    per_pixel_official = seconds['official code'] / pixels['official code']
    per_pixel_flushed = seconds['official, flushed'] / pixels['official, flushed']
    for name in names:
        per_pixel = seconds[name] / pixels[name]
        print(f'  {name:<22} {seconds[name] * 1e3:9.2f} {per_pixel * 1e9:9.2f} '
              f'{per_pixel_official / per_pixel:10.1f}x {per_pixel_flushed / per_pixel:9.1f}x')
    # These shared cores slow a run now and then: each row's fastest call is the figure such
    # bursts do not move.
    best = {name: min(values) for name, values in samples.items()}
    best_pixel = {name: best[name] / pixels[name] for name in names}
    print(f'  fastest calls: official {best["official code"] * 1e3:.2f} / flushed '
          f'{best["official, flushed"] * 1e3:.2f} ms; ' + '; '.join(
              f'{name} {best[name] * 1e3:.2f} ms '
              f'({best_pixel["official code"] / best_pixel[name]:.1f}x / '
              f'{best_pixel["official, flushed"] / best_pixel[name]:.1f}x)'
              for name in ('fast, official', 'default path', *candidates)))
    print(f'  official code per process (medians; page faults per call; memory '
          f'{args.official_memory}): ' + '; '.join(
              f'{name.replace("official code", "as shipped").replace("official, ", "")} '
              + ' / '.join(f'{v.seconds * 1e3:.1f} ms ({v.page_faults:.0f})' for v in values)
              for name, values in per_process.items()))
    fast_max, fast_equal = agreement(enhance_batch(official, frame),
                                     enhance_batch(official, frame, fast=False))
    odd_cost = odd_size_cost(official, frame, odd, args.repeats)
    print(f'  fast vs reference: max {fast_max} grey level(s), {100 * fast_equal:.4f} % equal; '
          f'fast, {odd.shape[2]}x{odd.shape[1]}: {odd_cost:.2f}x the time per pixel of '
          f'{width}x{height}')
    efe_rows(official, frame)


def odd_size_cost(model: SGZEnhancer, frame: np.ndarray, odd: np.ndarray, rounds: int) -> float:
    """Time per pixel of the fast path on ``odd`` over that on ``frame``: the two sizes
    alternate, and each timed call follows an untimed one of its own size. In the interleaved
    rows whichever of the two sizes ran first after other work was slower for all its calls
    (1080p, 2026-12-06, ``--quick``: 5.3 against 4.7 ns/pixel with 1920x1080 first, 5.9 against
    4.8 with the odd size first; likely the allocator state the previous row leaves), so that
    comparison measured the order, not the size."""
    times: Dict[int, List[float]] = {0: [], 1: []}
    for _ in range(rounds):
        for index, image in enumerate((frame, odd)):
            enhance_batch(model, image)
            start = time.perf_counter()
            enhance_batch(model, image)
            times[index].append((time.perf_counter() - start) / image[0, ..., 0].size)
    return statistics.median(times[1]) / statistics.median(times[0])


def efe_rows(model: SGZEnhancer, frame: np.ndarray) -> None:
    small = ops.downscale_frames(frame, model.scale_factor)
    threads = torch.get_num_threads()
    in_use = ops.default_efe_backend()
    backends = [b for b in ops.EFE_BACKENDS
                if b != 'onnxruntime' or ops.efe_runtime.onnx_available()]
    variants = {backend: (lambda backend=backend: ops.efe_forward(model.efe, small, backend,
                                                                  threads))
                for backend in backends}
    if 'onnxruntime' in backends:  # as the default path runs it, beside its statistics worker
        variants['onnxruntime, no spinning'] = lambda: ops.efe_forward(
            model.efe, small, 'onnxruntime', threads, spin=False)
    seconds = interleaved_medians(variants, 20)
    layout = ops.efe_runtime.plan_efe(model.efe, small.shape, in_use, threads).describe()
    cells = ', '.join(f'{name} {value * 1e3:.2f} ms' + (' (in use)' if name == in_use else '')
                      for name, value in seconds.items())
    print(f'  EFE on the {small.shape[3]}x{small.shape[2]} thumbnail ({layout}, {threads} '
          f'threads): {cells}')


def memory_probe(variant: str, width: int, height: int, threads: int,
                 official_weights: Optional[str]) -> None:
    """Enhance one frame in this (fresh) process and print its peak extra RSS as JSON."""
    torch.set_num_threads(threads)
    model = init_enhancer(checkpoint=official_weights, scale_factor=OFFICIAL_SCALE)
    frame = dark_frame(width, height)[None]
    warm = dark_frame(48, 36)[None]
    if variant == 'official':
        x = official_input(width, height)
        with torch.no_grad():
            official_forward(model, x[..., :24, :24])  # kernels and pools outside the figure
        run = lambda: official_forward(model, x)  # noqa: E731
    else:
        enhance_batch(model, warm, fast=variant == 'fast')
        run = lambda: enhance_batch(model, frame, fast=variant == 'fast')  # noqa: E731
    page = os.sysconf('SC_PAGE_SIZE')
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the peak RSS to the current RSS (Linux >= 4.0)
    with open('/proc/self/statm') as f:
        before = int(f.read().split()[1]) * page
    with torch.no_grad():
        run()
    # VmHWM, not getrusage's ru_maxrss: the latter keeps the parent's peak across fork+exec.
    with open('/proc/self/status') as f:
        peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmHWM:'))
    # The kernel samples RSS counters lazily (per-thread caches), so on a frame that adds almost
    # nothing the difference can come out a few pages below zero: that is no extra memory.
    print(json.dumps(dict(extra=max(0, peak - before), frame=frame.nbytes)))


def memory_rows(args: argparse.Namespace) -> None:
    width, height = args.memory_size
    cells = []
    for variant in ('official', 'reference', 'fast'):
        command = [sys.executable, __file__, '--memory-probe', variant, '--memory-size',
                   f'{width}x{height}', '--threads', str(args.threads)]
        if args.official_checkpoint:
            command += ['--official-checkpoint', args.official_checkpoint]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f'memory probe ({variant}) failed:\n{result.stderr}')
        probe = json.loads(result.stdout.strip().splitlines()[-1])
        cells.append(f'{variant} {probe["extra"] / probe["frame"]:.2f}x')
    print(f'\npeak extra memory of one {width}x{height} frame, in units of the uint8 frame '
          f'({width * height * 3 / 2**20:.1f} MiB): {", ".join(cells)}')


def first_frame_probe(width: int, height: int, threads: int) -> None:
    """In this (fresh) process: seconds of the first and the second ``enhance`` of a frame with
    the default weights, as tools/enhance.py runs them (the first one loads the compiled
    kernels from numba's cache, or compiles them, and builds the onnxruntime session)."""
    torch.set_num_threads(threads)
    model = init_enhancer()
    frame = dark_frame(width, height)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        enhance(model, frame)
        times.append(time.perf_counter() - start)
    print(json.dumps(dict(first=times[0], second=times[1])))


def first_frame_rows(args: argparse.Namespace) -> None:
    width, height = args.first_frame_size
    cells = []
    with tempfile.TemporaryDirectory() as empty_cache:
        for label, extra_env in (('cold numba cache', dict(NUMBA_CACHE_DIR=empty_cache)),
                                 ('warm cache', {}), ('warm cache', {})):
            result = subprocess.run(
                [sys.executable, __file__, '--first-frame-probe', '--first-frame-size',
                 f'{width}x{height}', '--threads', str(args.threads)],
                capture_output=True, text=True, env={**os.environ, **extra_env})
            if result.returncode:
                raise RuntimeError(f'first-frame probe failed:\n{result.stderr}')
            probe = json.loads(result.stdout.strip().splitlines()[-1])
            cells.append(f'{label}: first {probe["first"]:.2f} s, second '
                         f'{probe["second"] * 1e3:.1f} ms')
    print(f'\nfresh process, default weights, {width}x{height}: ' + '; '.join(cells))


def describe(model: SGZEnhancer) -> str:
    reason = fast_path_unsupported(model)
    path = 'fast CPU runtime' if reason is None else f'PyTorch reference ({reason})'
    return f'scale_factor={model.scale_factor}, {path}'


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = [(1920, 1080)], min(args.repeats, 3)
        args.skip_memory = args.skip_first_frame = True
    logging.getLogger('mmengine').setLevel(logging.WARNING)
    if args.official_checkpoint is None and osp.isfile(OFFICIAL_WEIGHTS):
        args.official_checkpoint = OFFICIAL_WEIGHTS
    if args.official_server:
        official_server(*args.official_server, args.threads, args.flush_denormals,
                        args.official_checkpoint)
        return 0
    if args.first_frame_probe:
        first_frame_probe(*args.first_frame_size, args.threads)
        return 0
    if args.memory_probe:
        memory_probe(args.memory_probe, *args.memory_size, args.threads,
                     args.official_checkpoint)
        return 0
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    with exit_on_user_error():  # a bad --official-checkpoint: one line naming it, no traceback
        official = init_enhancer(checkpoint=args.official_checkpoint,
                                 scale_factor=OFFICIAL_SCALE)
        default = init_enhancer()
        candidates = {name: init_enhancer(checkpoint=path, **overrides)
                      for name, path, overrides in args.candidate}
    print(f'torch {torch.__version__}, {args.threads} threads (PyTorch, onnxruntime, fused '
          f'pass), {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.2f}')
    print(f'EFE backend in use: {ops.default_efe_backend()}')
    if args.official_checkpoint:
        print(f'official weights: {args.official_checkpoint}')
    else:
        print(f'official weights ABSENT ({OFFICIAL_WEIGHTS} not found): the "official" rows use '
              'the package weights at scale 12 (same speed; parity figures then compare '
              'against our reference only)')
    print(f'official rows: {describe(official)}; default path: {describe(default)}')
    for name, model in candidates.items():
        print(f'{name}: {describe(model)}; {model.pipeline_description}')
    for width, height in args.sizes:
        size_rows(official, default, width, height, args, candidates)
    if not args.skip_memory:
        memory_rows(args)
    if not args.skip_first_frame:
        first_frame_rows(args)
    print(f'\nload average at the end {os.getloadavg()[0]:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
