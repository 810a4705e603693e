#!/usr/bin/env python
"""Milliseconds of the default recipe's extra work per step, one JSON line per piece:

    python bench/augment_speed.py --device cuda --batch-size 256 --img-size 128

- translation, forward and backward, on the D step's real+fake batch (2B images) and the G step's fakes (B images), in
  the step's precision and layout: msls_nb's (two gathers, DiffAugment's way; backward by atomic scatter_add) against
  an alternative tried and measured slower on an H200 (`Shift`: one indexing pass over a zero-padded copy, backward by
  the opposite shift);
- the EMA update of a `safe-128` generator (`msls_nb.step.update_ema`, foreach lerp of every weight).
"""
import argparse, json, time
import torch
from msls_nb.augment import AUGMENT_OPS
from msls_nb.config import make_train_config
from msls_nb.device import get_accelerator
from msls_nb.models import Generator
from msls_nb.step import update_ema

def shift_images(x, ty, tx, sy:int, sx:int):
    "Image i moved by (ty[i], tx[i]) pixels, zeros where nothing comes in: one indexing pass over a zero-padded copy."
    B, C, H, W = x.shape
    padded = torch.nn.functional.pad(x, (sx, sx, sy, sy))
    rows = (torch.arange(H, device=x.device) + sy - ty[:, None])[:, :, None]
    cols = (torch.arange(W, device=x.device) + sx - tx[:, None])[:, None, :]
    out = padded[torch.arange(B, device=x.device)[:, None, None], :, rows, cols]      # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)

class Shift(torch.autograd.Function):
    "`shift_images` whose gradient is the opposite shift (a gather, where autograd's would scatter with atomics)."
    @staticmethod
    def forward(ctx, x, ty, tx, sy, sx):
        ctx.save_for_backward(ty, tx); ctx.bounds = (sy, sx); return shift_images(x, ty, tx, sy, sx)
    @staticmethod
    def backward(ctx, grad):
        ty, tx = ctx.saved_tensors
        return Shift.apply(grad, -ty, -tx, *ctx.bounds), None, None, None, None

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
        u, on = torch.rand(n, 2, device=acc.device), torch.ones(n, dtype=torch.bool, device=acc.device)
        ty, tx = (torch.randint(-s, s + 1, (n,), device=acc.device) for _ in range(2))
        translation = AUGMENT_OPS['translation'][0]
        for impl, fn in (('two gathers', lambda: translation(x, u, on)), ('Shift', lambda: Shift.apply(x, ty, tx, s, s))):
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
