#!/usr/bin/env python
"""Sample quality per training recipe at the same data, networks and epochs, one JSON line per result.

    python bench/quality.py                                   # sample streets and digits, classic vs efficient, 3 seeds
    python bench/quality.py --datasets digits --recipes classic efficient --epochs 20 100 --seeds 0 1 2

Each run trains through the library itself (`msls_nb.train.start_or_resume_training_run`, the command line's code path)
on a folder of images, 32 px, nz = ngf = ndf = 32, batch 64, then samples the generator a user gets from the run's slim
checkpoint (`load_generator`: the EMA generator where the recipe has one, in eval mode) and compares it with real images
held aside from training:
- SWD: sliced Wasserstein distance of Laplacian-pyramid patches (`msls_nb.metrics.swd`, x1e3; lower is better);
- Parzen NLL: negative log-likelihood of held-aside images under a Gaussian Parzen window on the generated ones, sigma
  chosen on another half of them (`msls_nb.metrics.parzen_nll`, nats; lower is better);
- a judge, a small CNN classifier of the dataset's own labels (the digit; for the sample streets city x time of day,
  8 classes, from postprocessed.csv's `night`), labels the samples: classifier score exp(E KL(p(y|x) || p(y)))
  (`score`); classes produced, each with at least a quarter of its reference share (`modes`: against the uniform share
  for digits, the training split's shares for the streets); the largest class share over its reference share
  (`max_share_ratio`, 1 is ideal; issue 21 asks for at most 2); evenness exp(-KL(shares || reference)) (`evenness`, 1 is
  ideal); `complete` (every class produced, none above twice its share), all by `msls_nb.metrics.mode_coverage`.
  The digits' judge learns from their training split; the streets' judge from 576 new streets of the same kind (the
  sample rendered with seeds 1 and 2: new scenes), so that all 288 bench streets test it;
- precision and recall (Kynkaanniemi et al. 2019, k = 3; `msls_nb.metrics.precision_recall`) in the judge's
  penultimate features (2,048), against real images the judge never saw (the streets' 96 held aside; the digits' held
  aside halves, 150 each: the judge's features of its own training images are tighter than of others), each against
  as many samples at a time, averaged over the samples' chunks (and halves);
- grid artefacts: peaks of the samples' mean power spectrum at the frequencies of a pattern fixed to the pixel grid,
  repeating every 2, 4 and 8 px (the checkerboard of transposed convolutions; `msls_nb.metrics.grid_artefacts`,
  `grid_period_<p>`; the judge line gives real images' figures);
- ms/step: wall time of a training step of this run (data loading included), from its images/s.
A `judge` line per dataset says how far the judge can be trusted: its accuracy on images it never saw (`unseen_accuracy`)
and what real held-aside images get on the same measures (`real_held`; precision/recall: real against real sets of the
runs' size: the streets' held aside against their training split, the digits' two held-aside halves).
Datasets: `sample`: the 288 embedded street scenes (192 train, 96 held aside; 36 scenes of 8 frames each, so the held-aside
frames mostly show scenes of the training split); `digits`: scikit-learn's 1,797 handwritten
digits (8x8, shipped with the package), upscaled to 32 px grey (1,497 train, 300 held aside). `--epochs` takes several
values (each is its own run). The `recipe` lines summarise each recipe and epochs over the seeds and compare it with
`classic` (SWD ratio, ms/step ratio); `--figure` writes every recipe given, in order, side by side, same latents, per dataset.
"""
import argparse, contextlib, json, platform, shutil, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

def load_folder(folder:Path, nc:int, labels:dict|None=None) -> tuple[torch.Tensor, torch.Tensor]:
    "Every image under `folder` decoded as training decodes it (`load_strip`, 32 px) in [-1, 1], and its class: `labels[name]`, else its folder's digit (or -1)."
    from msls_nb.pipeline import load_strip
    paths = sorted(Path(folder).rglob('*.png')) + sorted(Path(folder).rglob('*.jpg'))
    x = torch.from_numpy(np.stack([load_strip(p, 32, 1.0, 0.0, nc) for p in paths])).float() / 127.5 - 1
    y = torch.tensor([labels[p.name] if labels and p.name in labels else int(p.parent.name) if p.parent.name.isdigit() else -1
                      for p in paths])
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

def street_classes(root:Path) -> dict:
    "`{relative file: 'city day' or 'city night'}` of the sample streets under `root` (postprocessed.csv's `night`)."
    from msls_nb.data import select_images, read_flags
    out, night = {}, {}
    for f in select_images(root).files:
        city, subset = f.split('/')[:2]
        flags = night.setdefault((city, subset), read_flags(root / city / subset, 'postprocessed.csv', 'night') or {})
        out[f] = f"{city} {'night' if flags[Path(f).stem] else 'day'}"
    return out

def sample_folders(dest:Path, seed:int=0) -> tuple[Path, Path]:
    "The 288 embedded sample streets split into `dest/train/` (192) and `dest/held/` (96); `sample_labels(dest)` gives their classes."
    from msls_nb.data import resolve_data_root
    root = resolve_data_root(None)
    classes = street_classes(root)
    files = sorted(classes)
    order = np.random.default_rng(seed).permutation(len(files))
    labels = {}
    for split, idx in (('held', order[192:]), ('train', order[:192])):
        for i in idx:
            p = dest / split / files[i].replace('/', '_')
            p.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / files[i], p)
            labels[p.name] = classes[files[i]]
    (dest / 'labels.json').write_text(json.dumps(labels, indent=0, sort_keys=True))
    return dest / 'train', dest / 'held'

def sample_labels(dest:Path) -> tuple[dict, list]:
    "`{file name: class index}` of the sample streets under `dest` (city x time of day), and the class names."
    names = json.loads((dest / 'labels.json').read_text())
    classes = sorted(set(names.values()))
    return {f: classes.index(c) for f, c in names.items()}, classes

def fresh_streets(dest:Path, classes:list, seeds=(1, 2)) -> tuple[torch.Tensor, torch.Tensor]:
    "New streets of the same kind (the sample rendered with other seeds: 288 new scenes each) and their classes: the streets' judge learns from them."
    from msls_nb.pipeline import load_strip
    from msls_nb.sample import sample_data_root
    xs, ys = [], []
    for seed in seeds:
        root = sample_data_root(seed=seed, cache_dir=dest)
        for f, c in street_classes(root).items():
            xs.append(load_strip(root / f, 32, 1.0, 0.0, 3)); ys.append(classes.index(c))
    return torch.from_numpy(np.stack(xs)).float() / 127.5 - 1, torch.tensor(ys)

class Judge(torch.nn.Module):
    "A small CNN classifier (the judge of the classifier score, the mode count and the precision/recall features)."
    def __init__(self, nc:int=1, n_classes:int=10):
        super().__init__()
        c = lambda i, o: [torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.BatchNorm2d(o), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        self.net = torch.nn.Sequential(*c(nc, 32), *c(32, 64), *c(64, 128), torch.nn.Flatten(), torch.nn.Linear(128 * 16, n_classes))
    def forward(self, x): return self.net(x)
    @torch.no_grad()
    def features(self, x:torch.Tensor) -> torch.Tensor:
        "The penultimate layer (2,048 features a picture): the feature space of precision and recall."
        return torch.cat([self.net[:-1](b) for b in x.split(256)])

def train_judge(x:torch.Tensor, y:torch.Tensor, epochs:int=15, seed:int=0, flip:bool=False) -> Judge:
    "The judge, trained on `x`, `y` with +-2 px shifts (and each image mirrored with probability 1/2 where `flip`)."
    torch.manual_seed(seed)
    judge, g = Judge(x.shape[1], int(y.max()) + 1), torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(judge.parameters(), 1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(64):
            s = torch.randint(-2, 3, (2,), generator=g).tolist()
            xb = torch.roll(x[idx], s, (2, 3))
            if flip: xb = torch.where(torch.rand(len(xb), 1, 1, 1, generator=g) < 0.5, xb.flip(3), xb)
            loss = F.cross_entropy(judge(xb), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
    return judge.eval()

@torch.no_grad()
def accuracy(judge:Judge, x:torch.Tensor, y:torch.Tensor) -> float:
    "The share of `x` the judge labels `y`."
    return round(torch.cat([judge(b).argmax(1) for b in x.split(256)]).eq(y).float().mean().item(), 3)

@torch.no_grad()
def classifier_stats(judge:Judge, x:torch.Tensor, reference_shares=None) -> dict:
    "Classifier score exp(E KL(p(y|x) || p(y))) and the judge's classes counted against `reference_shares` (None: uniform)."
    from msls_nb.metrics import mode_coverage
    p = torch.cat([F.softmax(judge(b), 1) for b in x.split(256)])
    score = torch.exp((p * (p.clamp_min(1e-12).log() - p.mean(0, keepdim=True).clamp_min(1e-12).log())).sum(1).mean()).item()
    m = mode_coverage(p.argmax(1), p.shape[1], reference_shares)
    return dict(score=round(score, 3), modes=m['modes'], max_share_ratio=round(m['max_share_ratio'], 3),
                evenness=round(m['evenness'], 3), complete=m['complete'])

def judged_precision_recall(judge:Judge, reals:list, fake:torch.Tensor, k:int=3) -> dict:
    "Precision and recall in the judge's features: each real set against each whole chunk of as many `fake` images, averaged."
    from msls_nb.metrics import precision_recall
    ff = judge.features(fake)
    prs = []
    for real in reals:
        fr = judge.features(real)
        prs += [precision_recall(fr, c, k) for c in ff.split(len(fr)) if len(c) == len(fr)]
    return {key: round(statistics.mean(pr[key] for pr in prs), 3) for key in ('precision', 'recall')}

def pr_sets(held:torch.Tensor, train:torch.Tensor, judge_saw_train:bool) -> tuple[list, list]:
    """The real sets precision and recall compare samples with, all unseen by the judge (whose features of its own
    training images are tighter), and pairs of real sets of that size that show what real images get: the held-aside
    split against the training split, or, where the judge learnt from the training split, the held-aside split's halves."""
    if not judge_saw_train: return [held], [(held, train)]
    h = len(held) // 2
    halves = [held[:h], held[h:2 * h]]
    return halves, [(halves[0], halves[1]), (halves[1], halves[0])]

def train_run(folder:Path, nc:int, recipe:str, seed:int, epochs:int, root:Path, extra:dict) -> tuple:
    "Train one run through the library; returns (slim checkpoint, ms per step)."
    from msls_nb.config import make_train_config, ModelCheckpointConfig
    from msls_nb.train import start_or_resume_training_run
    cfg = make_train_config(None, None, nc=nc, nz=32, ngf=32, ndf=32, img_size=32, batch_size=64, data_root=str(folder), recipe=recipe,
                            seed=seed, cache_dir=str(root / 'cache'), **extra)
    mc = ModelCheckpointConfig(name=f'{folder.parent.name}-{recipe}-{seed}-{epochs}ep', root=str(root / 'runs'), save_frequency=epochs, log_frequency=10**9)
    with contextlib.redirect_stdout(sys.stderr):   # the run's log lines go to stderr; stdout is JSON lines
        r = start_or_resume_training_run(cfg, mc, n_epoch=epochs, logging=False, progress=False, device='cpu')
    return r.slim_checkpoint, 1000 * cfg.batch_size / r.images_per_s

def evaluate(slim:Path, held:torch.Tensor, n:int, seed:int, judge=None, reference_shares=None, pr_reals=None) -> dict:
    "SWD and Parzen NLL of `n` samples of the slim checkpoint's generator against `held` (and the judge's verdicts)."
    from msls_nb.checkpoint import load_generator
    from msls_nb.slerp import generate, latents
    from msls_nb.metrics import swd, parzen_nll, grid_artefacts
    G = load_generator(slim)
    fake = generate(G, latents(n, G.nz, seed=10_000 + seed))
    k = min(len(held), len(fake))
    out = dict(swd=round(swd(held[:k], fake[:k], seed=seed)['swd'], 3))
    out.update({f'grid_{k}': round(v, 2) for k, v in grid_artefacts(fake).items()})
    half = len(held) // 2
    out['parzen_nll'] = round(parzen_nll(fake, held[:half], held[half:])['parzen_nll'], 1)
    if judge is not None: out.update(**classifier_stats(judge, fake, reference_shares), **judged_precision_recall(judge, pr_reals, fake))
    return out

def judge_line(ds:str, judge:Judge, learnt:tuple, unseen:tuple, held:torch.Tensor, reference_shares, classes:list, pr_pairs:list) -> dict:
    """How far the judge can be trusted: its accuracy on images it never saw, and what real held-aside images get on the
    generators' measures (precision/recall: real sets of the runs' size against each other)."""
    from msls_nb.metrics import grid_artefacts
    pr = [judged_precision_recall(judge, [a], b) for a, b in pr_pairs]
    return dict(kind='judge', dataset=ds, classes=classes, judge_images=len(learnt[0]), judge_accuracy=accuracy(judge, *learnt),
                unseen_images=len(unseen[0]), unseen_accuracy=accuracy(judge, *unseen),
                real_held=dict(**classifier_stats(judge, held, reference_shares),
                               **{f'grid_{k}': round(v, 2) for k, v in grid_artefacts(held).items()},
                               **{k: round(statistics.mean(p[k] for p in pr), 3) for k in ('precision', 'recall')}))

def summarize(rows:list, key:str) -> dict:
    vals = [float(r[key]) for r in rows if key in r]
    return dict(mean=round(statistics.mean(vals), 3), std=round(statistics.stdev(vals), 3) if len(vals) > 1 else 0.0) if vals else {}

def figure(slims:dict, path:Path, n:int=64):
    "Samples of the same latents from each recipe's generator (first seed), side by side in the order given."
    from msls_nb.checkpoint import load_generator
    from msls_nb.slerp import generate, latents
    from msls_nb.files import make_image_grid, save_png
    parts = []
    for name, slim in slims.items():
        G = load_generator(slim)
        grid = make_image_grid(generate(G, latents(n, G.nz, seed=1)), nrow=8).float()
        parts += [torch.full((3, grid.shape[1], 8), 255.0), grid] if parts else [grid]
    save_png(torch.cat(parts, 2).to(torch.uint8), path)

KEYS = ('swd', 'parzen_nll', 'score', 'modes', 'max_share_ratio', 'evenness', 'complete', 'precision', 'recall', 'ms_per_step')

def main():
    from msls_nb.config import DEFAULT_RECIPE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--datasets', nargs='+', default=['sample', 'digits'])
    ap.add_argument('--recipes', nargs='+', default=['classic', DEFAULT_RECIPE])
    ap.add_argument('--epochs', type=int, nargs='+', default=[20], help='epochs of each run; several values: a run for each')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--samples', type=int, default=1024, help='generated images per evaluation')
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1: steadier timings on a shared machine)')
    ap.add_argument('-t', '--train_params', default='{}', help='JSON of further TrainingConfig fields for every run')
    ap.add_argument('--figure', default=None, help='write every recipe (first seed) side by side, in the order of --recipes, '
                    'to <FIGURE>_<dataset>.png (<FIGURE>_<dataset>_<epochs>.png for several --epochs)')
    ap.add_argument('--work', default=None, help='folder for data and runs (default: a temporary one)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    work = Path(a.work or tempfile.mkdtemp(prefix='msls_quality_'))
    extra = json.loads(a.train_params)
    meta = dict(torch=torch.__version__, cpu=platform.processor() or platform.machine(), threads=a.threads)
    for ds in a.datasets:
        folder, held_dir = (digits_folders if ds == 'digits' else sample_folders)(work / ds)
        nc = 1 if ds == 'digits' else 3
        labels, classes = sample_labels(work / ds) if ds == 'sample' else (None, [str(d) for d in range(10)])
        train, held = load_folder(folder, nc, labels), load_folder(held_dir, nc, labels)
        # digits: counted against the uniform share (as before); streets: against the training split's shares
        reference = None if ds == 'digits' else torch.bincount(train[1], minlength=len(classes)).tolist()
        if ds == 'digits':     # the judge learns from the training split and is tested on the held-aside one
            learnt, unseen = train, held
        else:                  # new scenes teach it; all 288 sample streets test it
            learnt, unseen = fresh_streets(work / 'streets', classes), (torch.cat([train[0], held[0]]), torch.cat([train[1], held[1]]))
        judge = train_judge(*learnt) if ds == 'digits' else train_judge(*learnt, epochs=40, flip=True)
        pr_reals, pr_pairs = pr_sets(held[0], train[0], judge_saw_train=ds == 'digits')
        print(json.dumps(dict(**judge_line(ds, judge, learnt, unseen, held[0], reference, classes, pr_pairs), **meta)), flush=True)
        results, first = {}, {}
        for epochs in a.epochs:
            for recipe in a.recipes:
                for seed in a.seeds:
                    t0 = time.perf_counter()
                    slim, ms = train_run(folder, nc, recipe, seed, epochs, work, extra)
                    row = dict(kind='run', dataset=ds, recipe=recipe, seed=seed, ms_per_step=round(ms, 2),
                               **evaluate(slim, held[0], a.samples, seed, judge, reference, pr_reals),
                               seconds=round(time.perf_counter() - t0, 1), **meta, epochs=epochs)
                    print(json.dumps(row), flush=True)
                    results.setdefault((recipe, epochs), []).append(row); first.setdefault(epochs, {}).setdefault(recipe, slim)
        for (recipe, epochs), rows in results.items():
            s = {k: summarize(rows, k) for k in KEYS if summarize(rows, k)}
            line = dict(kind='recipe', dataset=ds, recipe=recipe, seeds=len(rows), **s, **meta, epochs=epochs)
            if recipe != 'classic' and ('classic', epochs) in results:
                c = {k: summarize(results['classic', epochs], k)['mean'] for k in ('swd', 'ms_per_step')}
                line.update(swd_vs_classic=round(s['swd']['mean'] / c['swd'], 3), step_time_vs_classic=round(s['ms_per_step']['mean'] / c['ms_per_step'], 3))
            print(json.dumps(line), flush=True)
        if a.figure:
            for epochs, slims in first.items():
                if len(slims) >= 2: figure(slims, Path(f'{a.figure}_{ds}.png' if len(a.epochs) == 1 else f'{a.figure}_{ds}_{epochs}.png'))

if __name__ == '__main__': main()
