#!/usr/bin/env python
"""Time of one explorer re-render after a slider move, one JSON line per (preset, grid).

    python bench/explore_render.py                                 # CPU, the naive-64 and safe-128 presets, grid 1 and 4
    python bench/explore_render.py --presets cpu-32 naive-64 safe-128 --grids 1 2 4 --device cuda

Each line: preset, img_size, nz, ngf, grid (the picture is grid x grid images), device, threads, and the median over
--repeats moves of the t slider (each to a new value) of: `render_s` (`render_png`: latents, generator, grid, PNG
encoding), `generator_s` (the generator's forward pass alone) and `png_bytes`. The weights are DCGAN-initialised with
calibrated BatchNorm statistics: the time does not depend on training. What a browser adds (the widget message and
the image decode) is not included.
"""
import argparse, json, statistics, time
import torch
from msls_nb.config import make_train_config
from msls_nb.models import Generator, weights_init
from msls_nb.slerp import generate
from msls_nb.models import calibrate_batchnorm
from msls_nb.explore import ExplorerState, principal_directions, render_png, state_latents

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--presets', nargs='+', default=['naive-64', 'safe-128'])
    p.add_argument('--grids', type=int, nargs='+', default=[1, 4])
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeats', type=int, default=7)
    a = p.parse_args()
    for preset in a.presets:
        cfg = make_train_config(preset=preset)
        torch.manual_seed(0)
        G = calibrate_batchnorm(Generator(cfg).apply(weights_init), n_batches=2, batch_size=32).to(a.device)
        dirs = principal_directions(G, k=4, n=256)
        for grid in a.grids:
            states = [ExplorerState(0, 1, t, (0.5, 0, 0, 0), grid) for t in torch.linspace(0, 1, a.repeats + 1).tolist()]
            render_png(G, states[0], dirs)                     # warm-up
            render, gen, size = [], [], 0
            for s in states[1:]:
                t0 = time.perf_counter(); size = len(render_png(G, s, dirs)); render.append(time.perf_counter() - t0)
                z = state_latents(s, G.nz, dirs)
                t0 = time.perf_counter(); generate(G, z); gen.append(time.perf_counter() - t0)
            print(json.dumps(dict(preset=preset, img_size=cfg.img_size, nz=cfg.nz, ngf=cfg.ngf, grid=grid, images=grid ** 2,
                                  device=a.device, threads=torch.get_num_threads(), render_s=round(statistics.median(render), 4),
                                  generator_s=round(statistics.median(gen), 4), png_bytes=size)), flush=True)

if __name__ == '__main__':
    main()
