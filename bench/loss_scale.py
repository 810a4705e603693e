#!/usr/bin/env python
"""fp16 loss scaling in the GAN step: one GradScaler per network (msls_nb's choice) against one shared, one JSON line each.

    python bench/loss_scale.py --steps 300

Trains the default recipe at 32 px (nz = ngf = ndf = 32, batch 32) on the 192 training images of the embedded sample
streets, with fp16 autocast on this machine's device, from the same weights, batches and random state, and reports per
network: steps whose update the scaler skipped (an overflow in that loss's gradients), the final loss scale, and the
mean losses of the last 50 steps; bf16 (no scaler) as a reference. On the CPU, fp16 autocast is slow but numerically
the same as on CUDA, which is what this measures.
"""
import argparse, json, sys, tempfile, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from quality import sample_folders, load_folder
from msls_nb.config import make_train_config
from msls_nb.device import get_accelerator
from msls_nb.step import build_gan, dcgan_step, loss_scale

def optimizer_steps(optim) -> int:
    "Updates an optimizer has made (a skipped fp16 step makes none)."
    st = next(iter(optim.state.values()), {})
    return int(st.get('step', 0))

def run(images, mode:str, steps:int, batch:int, seed:int) -> dict:
    acc = get_accelerator('auto', amp='bf16' if mode == 'bf16' else 'fp16')
    cfg = make_train_config(img_size=32, nz=32, ngf=32, ndf=32, batch_size=batch)
    torch.manual_seed(seed)
    gan = build_gan(cfg, acc)
    if mode == 'shared': gan.scalers = {'D': gan.scalers['D'], 'G': gan.scalers['D']}
    g = torch.Generator().manual_seed(seed)
    losses, t = [], time.perf_counter()
    for i in range(steps):
        real = acc.in_memory_format(acc.to_device(images[torch.randint(len(images), (batch,), generator=g)]))
        m = dcgan_step(gan, real, acc)
        losses.append((float(m['Loss_D']), float(m['Loss_G'])))
    tail = losses[-50:]
    out = dict(bench='loss_scale', mode=mode, device=str(acc.device), steps=steps, batch_size=batch, seed=seed,
               mean_loss_D_last50=round(sum(l[0] for l in tail) / len(tail), 4),
               mean_loss_G_last50=round(sum(l[1] for l in tail) / len(tail), 4),
               s_per_step=round((time.perf_counter() - t) / steps, 4))
    for k, optim in (('D', gan.D_optim), ('G', gan.G_optim)):
        out[f'skipped_{k}'] = steps - optimizer_steps(optim)
        if gan.scalers: out[f'final_scale_{k}'] = float(loss_scale(gan.scalers[k], acc))
    return out

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--modes', nargs='+', default=['per-network', 'shared', 'bf16'])
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        images, _ = load_folder(sample_folders(Path(tmp))[0], 3)
    for seed in a.seeds:
        for mode in a.modes: print(json.dumps(run(images, mode, a.steps, a.batch_size, seed)), flush=True)

if __name__ == '__main__': main()
