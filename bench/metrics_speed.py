#!/usr/bin/env python
"""Time of each sample-quality metric of msls_nb.metrics, one JSON line per (metric, image size, n).

    python bench/metrics_speed.py                          # CPU, 32 and 128 px, n = 500
    python bench/metrics_speed.py --sizes 32 64 --n 250 1000 --device cuda

Each line: metric, img_size, n (real and generated images each), device, seconds (best of --repeats). Parzen NLL
runs in float64 (21 sigmas), SWD with the default 128 patches per image and 512 directions; `fid_kid_features`
times the FID+KID arithmetic of torchmetrics on 2048-dimensional features (the Inception forward pass is not
included: it needs weights this script does not assume).
"""
import argparse, json, time
import torch
import torch.nn.functional as F
from msls_nb.metrics import parzen_nll, swd, fid_kid_from_features

def images(n, size, seed, device):
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.randn(n, 3, 8, 8, generator=g), size=size, mode='bilinear').tanh().to(device)

def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return min(times)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[32, 128])
    p.add_argument('--n', type=int, nargs='+', default=[500])
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeats', type=int, default=2)
    a = p.parse_args()
    for size in a.sizes:
        for n in a.n:
            real, fake = images(n, size, 0, a.device), images(n, size, 1, a.device)
            fr, ff = torch.randn(n, 2048), torch.randn(n, 2048) + 0.1
            cases = {'parzen_nll': lambda: parzen_nll(fake, real[0::2], real[1::2]),
                     'swd': lambda: swd(real, fake),
                     'fid_kid_features': lambda: fid_kid_from_features(fr, ff)}
            for name, fn in cases.items():
                print(json.dumps(dict(metric=name, img_size=size, n=n, device=a.device, threads=torch.get_num_threads(),
                                      seconds=round(best_time(fn, a.repeats), 3))), flush=True)

if __name__ == '__main__':
    main()
