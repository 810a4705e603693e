#!/usr/bin/env python
"""Sample quality per training recipe at the same data, networks and epochs, one JSON line per result.

    python bench/quality.py                                   # sample streets and digits, classic vs efficient, 3 seeds
    python bench/quality.py --datasets digits --recipes classic efficient --epochs 20 --seeds 0 1 2

Each run trains through the library itself (`msls_nb.train.start_or_resume_training_run`, the command line's code path)
on a folder of images, 32 px, nz = ngf = ndf = 32, batch 64, then samples the generator a user gets from the run's slim
checkpoint (`load_generator`: the EMA generator where the recipe has one, in eval mode) and compares it with real images
held aside from training:
- SWD: sliced Wasserstein distance of Laplacian-pyramid patches (`msls_nb.metrics.swd`, x1e3; lower is better);
- Parzen NLL: negative log-likelihood of held-aside images under a Gaussian Parzen window on the generated ones, sigma
  chosen on another half of them (`msls_nb.metrics.parzen_nll`, nats; lower is better);
- digits only: a classifier score exp(E KL(p(y|x) || p(y))) and the number of classes generated (each with at least a
  quarter of the uniform share), from a small CNN trained on the digits' training split (real images score about 9.6);
- ms/step: wall time of a training step of this run (data loading included), from its images/s.
Datasets: `sample`: the 288 embedded street scenes (192 train, 96 held aside); `digits`: scikit-learn's 1,797 handwritten
digits (8x8, shipped with the package), upscaled to 32 px grey (1,497 train, 300 held aside). The last lines compare each
recipe with `classic` (SWD ratio, ms/step ratio); `--figure` writes classic next to the default recipe, same latents, per dataset.
"""
import argparse, contextlib, json, math, os, platform, shutil, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

def load_folder(folder:Path, nc:int) -> tuple[torch.Tensor, torch.Tensor]:
    "Every image under `folder` decoded as training decodes it (`load_strip`, 32 px) in [-1, 1], and its folder's digit (or -1)."
    from msls_nb.pipeline import load_strip
    paths = sorted(Path(folder).rglob('*.png')) + sorted(Path(folder).rglob('*.jpg'))
    x = torch.from_numpy(np.stack([load_strip(p, 32, 1.0, 0.0, nc) for p in paths])).float() / 127.5 - 1
    y = torch.tensor([int(p.parent.name) if p.parent.name.isdigit() else -1 for p in paths])
    return x, y

def digits_folders(dest:Path, seed:int=0) -> tuple[Path, Path]:
    "scikit-learn's 1,797 digits as 8x8 PNGs in `dest/train/<digit>/` (1,497) and `dest/held/<digit>/` (300)."
    from sklearn.datasets import load_digits
    d = load_digits()
    order = np.random.default_rng(seed).permutation(len(d.images))
    imgs = (d.images / 16 * 255).round().astype(np.uint8)
    for split, idx in (('held', order[:300]), ('train', order[300:])):
        for i in idx:
            p = dest / split / str(d.target[i]) / f'{i:04d}.png'
            p.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(imgs[i]).save(p)
    return dest / 'train', dest / 'held'

def sample_folders(dest:Path, seed:int=0) -> tuple[Path, Path]:
    "The 288 embedded sample streets split into `dest/train/` (192) and `dest/held/` (96)."
    from msls_nb.data import resolve_data_root, select_images
    root = resolve_data_root(None)
    files = select_images(root).files
    order = np.random.default_rng(seed).permutation(len(files))
    for split, idx in (('held', order[192:]), ('train', order[:192])):
        for i in idx:
            p = dest / split / files[i].replace('/', '_')
            p.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / files[i], p)
    return dest / 'train', dest / 'held'

class Judge(torch.nn.Module):
    "A small CNN digit classifier (the classifier score's judge)."
    def __init__(self):
        super().__init__()
        c = lambda i, o: [torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.BatchNorm2d(o), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        self.net = torch.nn.Sequential(*c(1, 32), *c(32, 64), *c(64, 128), torch.nn.Flatten(), torch.nn.Linear(128 * 16, 10))
    def forward(self, x): return self.net(x)

def train_judge(x:torch.Tensor, y:torch.Tensor, epochs:int=15, seed:int=0) -> Judge:
    "The judge, trained on the training split with +-2 px shifts."
    torch.manual_seed(seed)
    judge, g = Judge(), torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(judge.parameters(), 1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(64):
            s = torch.randint(-2, 3, (2,), generator=g).tolist()
            loss = F.cross_entropy(judge(torch.roll(x[idx], s, (2, 3))), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
    return judge.eval()

@torch.no_grad()
def classifier_stats(judge:Judge, x:torch.Tensor) -> dict:
    "Classifier score exp(E KL(p(y|x) || p(y))) and the classes that get at least a quarter of the uniform share."
    p = torch.cat([F.softmax(judge(b), 1) for b in x.split(256)])
    score = torch.exp((p * (p.clamp_min(1e-12).log() - p.mean(0, keepdim=True).clamp_min(1e-12).log())).sum(1).mean()).item()
    share = torch.bincount(p.argmax(1), minlength=10).float() / len(p)
    return dict(score=round(score, 3), modes=int((share >= 0.025).sum()))

def train_run(folder:Path, nc:int, recipe:str, seed:int, epochs:int, root:Path, extra:dict) -> tuple:
    "Train one run through the library; returns (slim checkpoint, ms per step)."
    from msls_nb.config import make_train_config, ModelCheckpointConfig
    from msls_nb.train import start_or_resume_training_run
    cfg = make_train_config(None, None, nc=nc, nz=32, ngf=32, ndf=32, img_size=32, batch_size=64, data_root=str(folder), recipe=recipe,
                            seed=seed, cache_dir=str(root / 'cache'), **extra)
    mc = ModelCheckpointConfig(name=f'{folder.parent.name}-{recipe}-{seed}', root=str(root / 'runs'), save_frequency=epochs, log_frequency=10**9)
    with contextlib.redirect_stdout(sys.stderr):   # the run's log lines go to stderr; stdout is JSON lines
        r = start_or_resume_training_run(cfg, mc, n_epoch=epochs, logging=False, progress=False, device='cpu')
    return r.slim_checkpoint, 1000 * cfg.batch_size / r.images_per_s

def evaluate(slim:Path, held:torch.Tensor, n:int, seed:int, judge=None) -> dict:
    "SWD and Parzen NLL of `n` samples of the slim checkpoint's generator against `held` (and the judge's verdict)."
    from msls_nb.checkpoint import load_generator
    from msls_nb.slerp import generate, latents
    from msls_nb.metrics import swd, parzen_nll
    G = load_generator(slim)
    fake = generate(G, latents(n, G.nz, seed=10_000 + seed))
    k = min(len(held), len(fake))
    out = dict(swd=round(swd(held[:k], fake[:k], seed=seed)['swd'], 3))
    half = len(held) // 2
    out['parzen_nll'] = round(parzen_nll(fake, held[:half], held[half:])['parzen_nll'], 1)
    if judge is not None: out.update(classifier_stats(judge, fake))
    return out

def summarize(rows:list, key:str) -> dict:
    vals = [r[key] for r in rows if key in r]
    return dict(mean=round(statistics.mean(vals), 3), std=round(statistics.stdev(vals), 3) if len(vals) > 1 else 0.0) if vals else {}

def figure(slims:dict, path:Path, n:int=64):
    "Samples of the same latents from the first seed's classic and default-recipe generators, side by side."
    from msls_nb.checkpoint import load_generator
    from msls_nb.slerp import generate, latents
    from msls_nb.files import make_image_grid, save_png
    grids = []
    for name, slim in slims.items():
        G = load_generator(slim)
        grids.append(make_image_grid(generate(G, latents(n, G.nz, seed=1)), nrow=8).float())
    gap = torch.full((3, grids[0].shape[1], 8), 255.0)
    save_png(torch.cat([grids[0], gap, grids[1]], 2).to(torch.uint8), path)

def main():
    from msls_nb.config import DEFAULT_RECIPE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--datasets', nargs='+', default=['sample', 'digits'])
    ap.add_argument('--recipes', nargs='+', default=['classic', DEFAULT_RECIPE])
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--samples', type=int, default=1024, help='generated images per evaluation')
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1: steadier timings on a shared machine)')
    ap.add_argument('-t', '--train_params', default='{}', help='JSON of further TrainingConfig fields for every run')
    ap.add_argument('--figure', default=None, help='write classic next to the default recipe (first seed) to <FIGURE>_<dataset>.png')
    ap.add_argument('--work', default=None, help='folder for data and runs (default: a temporary one)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    work = Path(a.work or tempfile.mkdtemp(prefix='msls_quality_'))
    extra = json.loads(a.train_params)
    meta = dict(torch=torch.__version__, cpu=platform.processor() or platform.machine(), threads=a.threads, epochs=a.epochs)
    for ds in a.datasets:
        folder, held_dir = (digits_folders if ds == 'digits' else sample_folders)(work / ds)
        nc = 1 if ds == 'digits' else 3
        held = load_folder(held_dir, nc)[0]
        judge = train_judge(*load_folder(folder, nc)) if ds == 'digits' else None
        results, first = {}, {}
        for recipe in a.recipes:
            for seed in a.seeds:
                t0 = time.perf_counter()
                slim, ms = train_run(folder, nc, recipe, seed, a.epochs, work, extra)
                row = dict(kind='run', dataset=ds, recipe=recipe, seed=seed, ms_per_step=round(ms, 2), **evaluate(slim, held, a.samples, seed, judge),
                           seconds=round(time.perf_counter() - t0, 1), **meta)
                print(json.dumps(row), flush=True)
                results.setdefault(recipe, []).append(row); first.setdefault(recipe, slim)
        for recipe, rows in results.items():
            s = {k: summarize(rows, k) for k in ('swd', 'parzen_nll', 'score', 'modes', 'ms_per_step') if summarize(rows, k)}
            line = dict(kind='recipe', dataset=ds, recipe=recipe, seeds=len(rows), **s, **meta)
            if recipe != 'classic' and 'classic' in results:
                c = {k: summarize(results['classic'], k)['mean'] for k in ('swd', 'ms_per_step')}
                line.update(swd_vs_classic=round(s['swd']['mean'] / c['swd'], 3), step_time_vs_classic=round(s['ms_per_step']['mean'] / c['ms_per_step'], 3))
            print(json.dumps(line), flush=True)
        if a.figure and len(first) >= 2:
            figure({k: first[k] for k in ('classic', DEFAULT_RECIPE) if k in first}, Path(f'{a.figure}_{ds}.png'))

if __name__ == '__main__': main()
