#!/usr/bin/env python
"""Images per second of three ways to feed a DCGAN from the same 640x480 JPEGs, one JSON line per pipeline.

    python bench/data_pipeline.py                          # 2,048 rendered sample images, 64 px, batch 128
    python bench/data_pipeline.py --img-size 128 --images 4096 --data /tmp/bench_imgs
    python bench/data_pipeline.py --data /tmp/bench_imgs --load 1     # the same while a CPU-burning process runs

(a) the classic pipeline: torchvision `ImageFolder` + PIL, `CenterCrop(img_size)`, `ToTensor`, `Normalize`, in a
    shuffling `DataLoader`;
(b) msls_nb's JPEG pipeline: `make_train_data(cache=False)` (draft decoding in DataLoader workers, augmentation on
    the device);
(c) msls_nb's packed cache: `make_train_data(cache=True)` after `prepare_data` (whose build speed is its own line).
All three produce the same center crops (the `center-crop` transform preset: `crop=img_size`, no resize), use the
same number of worker processes, and run one untimed warm-up epoch first, so every pipeline reads from a warm page
cache; then each of `--epochs` epochs is timed on its own and the median and the best epoch rate are reported (on a
shared machine the other tenants make single timings swing several-fold). On a CPU device the float conversion of (c)
competes with everything else on the CPU; `c_uint8_loader_only` times the loader alone (what a GPU host must do), at
`--img-size` and at each of `--loader-sizes` (a packed cache of the same images per size). (b) is also timed with the
`downscale` preset (crop the short side, resize), where `draft` pays off. The last line holds the ratios c/a and b/a.
`--load N` starts N processes that burn a core each for the whole run (every line then says `load_procs`), for the
ratios on a busy machine. The images are rendered by `msls_nb.sample` (unique scenes, MSLS layout).
"""
import argparse, contextlib, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from msls_nb.config import TrainingConfig
from msls_nb.device import get_accelerator
from msls_nb.sample import make_sample_dataset, SAMPLE_CITIES
from msls_nb.data import prepare_data, make_train_data, resolve_data_root
from msls_nb.pipeline import default_workers, transform_preset

def imagefolder_loader(root, img_size:int, batch_size:int, workers:int):
    "(a): the classic torchvision pipeline."
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.CenterCrop(img_size), transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    ds = datasets.ImageFolder(str(root), transform=tf)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True,
                                       prefetch_factor=2 if workers else None), len(ds)

def time_epochs(make_iter, acc, epochs:int) -> list[tuple[int, float]]:
    "(images, seconds) of each of `epochs` timed epochs, after one warm-up epoch."
    def run(e):
        t, n = time.perf_counter(), 0
        for x in make_iter(e):
            x = x[0] if isinstance(x, (list, tuple)) else x
            x = acc.to_device(x); n += x.shape[0]
        acc.synchronize()
        return n, time.perf_counter() - t
    run(0)
    return [run(e) for e in range(1, epochs + 1)]

@contextlib.contextmanager
def cpu_load(n:int):
    "`n` processes that each keep a core busy while the block runs."
    procs = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(n)]
    try: yield
    finally:
        for p in procs: p.kill(); p.wait()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--images', type=int, default=2048)
    ap.add_argument('--img-size', type=int, default=64)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--epochs', type=int, default=5, help='timed epochs per pipeline (each timed on its own)')
    ap.add_argument('--workers', type=int, default=None, help='DataLoader workers for (a) and (b); default: msls_nb.pipeline.default_workers()')
    ap.add_argument('--data', default=None, help='folder for the rendered images (reused when present)')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--torch-threads', type=int, default=None, help="torch intra-op threads of the main process (default: torch's own choice)")
    ap.add_argument('--loader-sizes', type=int, nargs='*', default=[128],
                    help='also time the loader alone at these image sizes')
    ap.add_argument('--load', type=int, default=0, help='processes burning a core each during the timings')
    a = ap.parse_args()
    with cpu_load(a.load): run(a)

def run(a):
    if a.torch_threads: torch.set_num_threads(a.torch_threads)
    base = Path(a.data or tempfile.mkdtemp(prefix='msls_nb_pipe_'))
    per_city = a.images // len(SAMPLE_CITIES)
    if not (base / 'train_val').is_dir():
        t = time.perf_counter()
        make_sample_dataset(base, n_query=per_city // 3, n_database=per_city - per_city // 3)
        print(json.dumps(dict(bench='data_pipeline', step='render images (not timed below)', seconds=round(time.perf_counter() - t, 1))), flush=True)
    root = resolve_data_root(base / 'train_val')
    acc = get_accelerator(a.device)
    workers = default_workers() if a.workers is None else a.workers
    cfg = TrainingConfig(img_size=a.img_size, batch_size=a.batch_size, data_root=str(root), workers=workers,
                         cache_dir=str(base / 'cache'), **transform_preset('center-crop', a.img_size))
    common = dict(bench='data_pipeline', img_size=a.img_size, batch_size=a.batch_size, workers=workers, device=str(acc.device),
                  cpu_cores=os.cpu_count(), torch_threads=torch.get_num_threads(), load_procs=a.load,
                  load_avg_1min=round(os.getloadavg()[0], 2), python=platform.python_version(), torch=torch.__version__)
    results = {}
    def report(name, runs, **kw):
        rates = sorted(n / t for n, t in runs)
        results[name] = (statistics.median(rates), rates[-1])
        print(json.dumps(dict(**common, pipeline=name, epochs=len(runs), images=sum(n for n, _ in runs), seconds=round(sum(t for _, t in runs), 3),
                              images_per_s=round(results[name][0], 1), images_per_s_best_epoch=round(results[name][1], 1), **kw)), flush=True)

    loader, n_files = imagefolder_loader(root, a.img_size, a.batch_size, workers)
    report('a_imagefolder_pil', time_epochs(lambda e: loader, acc, a.epochs), files=n_files)
    for preset in ('center-crop', 'downscale'):
        data = make_train_data(cfg.replace(cache=False, **transform_preset(preset, a.img_size)), acc)
        report(f'b_msls_nb_jpeg_{preset}', time_epochs(data.batches, acc, a.epochs), files=data.n_images)
    t = time.perf_counter()
    info = prepare_data(cfg, progress=False)
    build = time.perf_counter() - t
    print(json.dumps(dict(**common, step='build packed cache (all cores)', images=info['built'], seconds=round(build, 2),
                          images_per_s=round(info['built'] / build, 1), cache_workers=os.cpu_count())), flush=True)
    data = make_train_data(cfg, acc)
    report('c_msls_nb_packed_cache', time_epochs(data.batches, acc, a.epochs), files=data.n_images)
    report('c_uint8_loader_only', time_epochs(lambda e: (x for _, x in data.uint8_batches(e)), acc, a.epochs), files=data.n_images,
           note='the loader part of (c): uint8 batches on the device, before the float conversion and augmentation that run on the device')
    for size in a.loader_sizes:
        if size == a.img_size: continue
        scfg = cfg.replace(img_size=size, **transform_preset('center-crop', size))
        prepare_data(scfg, progress=False)
        sdata = make_train_data(scfg, acc)
        runs = time_epochs(lambda e: (x for _, x in sdata.uint8_batches(e)), acc, a.epochs)
        report(f'c_uint8_loader_only_{size}px', runs, files=sdata.n_images, loader_img_size=size)
    ratio = lambda x, y, i: round(results[x][i] / results[y][i], 2)
    print(json.dumps(dict(**common, ratio_c_over_a=ratio('c_msls_nb_packed_cache', 'a_imagefolder_pil', 0), ratio_b_over_a=ratio('b_msls_nb_jpeg_center-crop', 'a_imagefolder_pil', 0),
                          ratio_c_over_a_best_epochs=ratio('c_msls_nb_packed_cache', 'a_imagefolder_pil', 1), ratio_b_over_a_best_epochs=ratio('b_msls_nb_jpeg_center-crop', 'a_imagefolder_pil', 1))), flush=True)

if __name__ == '__main__': main()
