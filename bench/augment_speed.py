#!/usr/bin/env python
"""Milliseconds of the default recipe's extra work per step, one JSON line per piece:

    python bench/augment_speed.py --device cuda --batch-size 256 --img-size 128

- translation, forward and backward, on the D step's real+fake batch (2B images) and the G step's fakes (B images), in
  the step's precision and layout: two gathers (DiffAugment's way; backward by atomic scatter_add) against
  `msls_nb.augment.Shift` (one indexing pass; backward by the opposite shift);
- the EMA update of a `safe-128` generator (`msls_nb.step.update_ema`, foreach lerp of every weight).
"""
import argparse, json, time
import torch
from msls_nb.augment import Shift
from msls_nb.config import make_train_config
from msls_nb.device import get_accelerator
from msls_nb.models import Generator
from msls_nb.step import update_ema

def gathers(x, ty, tx):
    "DiffAugment's translation: two gathers and a mask."
    B, C, H, W = x.shape
    iy = torch.arange(H, device=x.device) - ty[:, None]
    ix = torch.arange(W, device=x.device) - tx[:, None]
    valid = ((iy >= 0) & (iy < H))[:, :, None] & ((ix >= 0) & (ix < W))[:, None, :]
    out = x.gather(2, iy.clamp(0, H - 1)[:, None, :, None].expand(B, C, H, W))
    out = out.gather(3, ix.clamp(0, W - 1)[:, None, None, :].expand(B, C, H, W))
    return out * valid[:, None].to(x.dtype)

def ms(fn, acc, n):
    for _ in range(3): fn()
    acc.synchronize(); t = time.perf_counter()
    for _ in range(n): fn()
    acc.synchronize()
    return (time.perf_counter() - t) / n * 1e3

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='auto'); p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--img-size', type=int, default=128); p.add_argument('--steps', type=int, default=20)
    a = p.parse_args()
    acc = get_accelerator(a.device)
    dtype = acc.amp_dtype or torch.float32
    s = int(a.img_size * 0.125 + 0.5)
    for what, n, dt in (('D step: real+fake', 2 * a.batch_size, torch.float32), ('G step: fakes', a.batch_size, dtype)):
        x = acc.in_memory_format(torch.randn(n, 3, a.img_size, a.img_size, device=acc.device, dtype=dt)).requires_grad_(True)
        g = torch.randn_like(x)
        ty, tx = (torch.randint(-s, s + 1, (n,), device=acc.device) for _ in range(2))
        for impl, fn in (('two gathers', lambda: gathers(x, ty, tx)), ('Shift', lambda: Shift.apply(x, ty, tx, s, s))):
            fwd = ms(lambda: fn(), acc, a.steps)
            both = ms(lambda: torch.autograd.grad(fn(), x, g), acc, a.steps)
            print(json.dumps(dict(bench='augment_speed', piece='translation', batch=what, impl=impl, images=n,
                                  dtype=str(dt).split('.')[1], forward_ms=round(fwd, 3), forward_backward_ms=round(both, 3),
                                  device=str(acc.device), torch=torch.__version__)), flush=True)
    cfg = make_train_config(preset='safe-128')
    G = acc.prepare(Generator.from_config(cfg)); G_ema = acc.prepare(Generator.from_config(cfg)).requires_grad_(False)
    beta = torch.tensor(0.99, device=acc.device)
    print(json.dumps(dict(bench='augment_speed', piece='ema', params=sum(p.numel() for p in G.parameters()),
                          ms=round(ms(lambda: update_ema(G_ema, G, beta), acc, a.steps), 3), device=str(acc.device))), flush=True)

if __name__ == '__main__':
    main()
