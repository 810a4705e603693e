#!/usr/bin/env python
"""Conditional generation and projection on the sample data, one JSON line per result.

    python bench/conditional.py                       # 32 px, 300 epochs, seed 0; projection at 64 px
    python bench/conditional.py --epochs 100 --seeds 0 1 --skip-projection

Each run trains through the library (`start_or_resume_training_run`, the command line's code path) on the embedded
sample streets with a quarter of them held aside (the MSLS layout and its CSVs kept, so the labels are read as a user's
run reads them), 32 px, nz = ngf = ndf = 32, batch 64, the default recipe, once unconditional and once with
`condition=["city", "time_of_day"]`, at equal epochs. Then:
- `kind: judge`: a small CNN with a city head and a time-of-day head, trained on the training images' own labels; its
  accuracy on the held-aside real images says how far it can be trusted;
- `kind: conditional`: the judge's accuracy on the conditional generator's samples for the condition asked for (the
  same number of samples for each of the 8 conditions; chance is 25% for city, 50% for time of day: the sample's CSVs
  mark night only, dusk counts as day);
- `kind: quality`: SWD (x1e3, lower is better) of unconditional and conditional samples (labels drawn as the training
  images have them) against the held-aside images, and their ratio (the target: within 10%);
- `kind: projection`: `msls_nb.project.project` on held-aside images with the conditional generator and its own
  discriminator (32 px), and with an unconditional 64 px run: pixel MSE and feature distance of the projection against
  the best of 1,000 random latents (the target: 2x closer on both), and seconds per image on this CPU.
"""
import argparse, contextlib, json, platform, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

def split_sample(dest:Path, seed:int=0, held:int=72) -> tuple[Path, list]:
    "A copy of the sample data root without `held` images (its CSVs kept); returns it and the held-aside files' paths."
    from msls_nb.data import resolve_data_root, select_images
    root = resolve_data_root(None)
    shutil.copytree(root, dest)
    files = select_images(dest).files
    order = np.random.default_rng(seed).permutation(len(files))
    held_files = sorted(files[i] for i in order[:held])
    (dest.parent / 'held').mkdir(exist_ok=True)
    for f in held_files: shutil.move(dest / f, dest.parent / 'held' / f.replace('/', '__'))
    return dest, [(dest.parent / 'held' / f.replace('/', '__'), f) for f in held_files]

def load(paths:list, img_size:int=32) -> torch.Tensor:
    from msls_nb.pipeline import load_strip
    return torch.from_numpy(np.stack([load_strip(p, img_size) for p in paths])).float() / 127.5 - 1

class Judge(torch.nn.Module):
    "A small CNN with one head per label."
    def __init__(self, counts:list):
        super().__init__()
        c = lambda i, o: [torch.nn.Conv2d(i, o, 3, padding=1), torch.nn.BatchNorm2d(o), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        self.body = torch.nn.Sequential(*c(3, 32), *c(32, 64), *c(64, 128), torch.nn.Flatten())
        self.heads = torch.nn.ModuleList(torch.nn.Linear(128 * 16, k) for k in counts)
    def forward(self, x): h = self.body(x); return [head(h) for head in self.heads]

def train_judge(x, y, counts, epochs:int=40, seed:int=0) -> Judge:
    torch.manual_seed(seed)
    judge, g = Judge(counts), torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(judge.parameters(), 1e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(32):
            xb = x[idx]
            flip = torch.rand(len(xb), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            loss = sum(F.cross_entropy(o, y[idx, j]) for j, o in enumerate(judge(xb)))
            opt.zero_grad(); loss.backward(); opt.step()
    return judge.eval()

@torch.no_grad()
def accuracy(judge, x, y) -> list:
    out = [torch.cat(o) for o in zip(*[judge(b) for b in x.split(256)])]
    return [round((o.argmax(1) == y[:, j]).float().mean().item(), 3) for j, o in enumerate(out)]

def train_run(root:Path, work:Path, name:str, epochs:int, seed:int, **extra):
    from msls_nb.config import make_train_config, ModelCheckpointConfig
    from msls_nb.train import start_or_resume_training_run
    cfg = make_train_config(None, None, **{**dict(nz=32, ngf=32, ndf=32, img_size=32, batch_size=64, data_root=str(root),
                                              seed=seed, cache_dir=str(work / 'cache')), **extra})
    mc = ModelCheckpointConfig(name=name, root=str(work / 'runs'), save_frequency=epochs, log_frequency=10**9)
    with contextlib.redirect_stdout(sys.stderr):
        r = start_or_resume_training_run(cfg, mc, n_epoch=epochs, logging=False, progress=False, device='cpu')
    return r, 1000 * cfg.batch_size / r.images_per_s

def projection_rows(G, D, photos, size:str, steps:int, meta:dict):
    "Projection of each photo against the best of 1,000 random latents (pixel MSE and feature distance)."
    from msls_nb.project import project, projection_distance
    from msls_nb.conditional import is_conditional, random_labels
    rows = []
    with torch.no_grad():
        z = torch.randn(1000, G.nz, generator=torch.Generator().manual_seed(123))
        y = random_labels(G.vocab, 1000, generator=torch.Generator().manual_seed(124)) if is_conditional(G) else None
        rand = torch.cat([(G(zb, yb) if y is not None else G(zb)) for zb, yb in zip(z.split(250), (y.split(250) if y is not None else [None] * 4))])
    for i, photo in enumerate(photos):
        p = project(G, photo, D, steps=steps, seed=i)
        with torch.no_grad(): px, ft = projection_distance(rand, p.photo[None], D)
        rows.append(dict(kind='projection', generator=size, image=i, pixel=round(p.pixel_distance, 4),
                         feature=round(p.feature_distance, 4), random_best_pixel=round(px.min().item(), 4),
                         random_best_feature=round(ft.min().item(), 4),
                         pixel_ratio=round(px.min().item() / max(p.pixel_distance, 1e-12), 2),
                         feature_ratio=round(ft.min().item() / max(p.feature_distance, 1e-12), 2),
                         seconds=p.seconds, labels=p.labels, **meta))
        print(json.dumps(rows[-1]), flush=True)
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=300)
    ap.add_argument('--epochs64', type=int, default=100, help='epochs of the 64 px run for the projection')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0])
    ap.add_argument('--samples', type=int, default=512, help='generated images per condition (judge) and per SWD')
    ap.add_argument('--projections', type=int, default=8, help='held-aside images projected per generator')
    ap.add_argument('--steps', type=int, default=200, help='projection steps')
    ap.add_argument('--skip-projection', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--work', default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from msls_nb.data import read_labels, label_vocabulary, encode_labels, select_images
    from msls_nb.checkpoint import load_generator, get_checkpoint, discriminator_from_checkpoint
    from msls_nb.slerp import generate, latents
    from msls_nb.conditional import all_conditions, labels_tensor
    from msls_nb.metrics import swd
    work = Path(a.work or tempfile.mkdtemp(prefix='msls_conditional_'))
    root, held = split_sample(work / 'train_val')
    names = ['city', 'time_of_day']
    train_files = select_images(root).files
    train_labels = read_labels(root, train_files, names)
    vocab = label_vocabulary(train_labels)
    held_x = load([p for p, _ in held])
    held_y = torch.from_numpy(encode_labels(_held_labels(root, held, names), vocab))
    train_x, train_y = load([root / f for f in train_files]), torch.from_numpy(encode_labels(train_labels, vocab))
    meta = dict(torch=torch.__version__, cpu=platform.processor() or platform.machine(), threads=a.threads, epochs=a.epochs)
    judge = train_judge(train_x, train_y, [len(v) for v in vocab.values()])
    print(json.dumps(dict(kind='judge', held_accuracy=dict(zip(names, accuracy(judge, held_x, held_y))),
                          n_train=len(train_x), n_held=len(held_x), vocab=vocab, **meta)), flush=True)
    for seed in a.seeds:
        runs = {}
        for cond in (None, names):
            t0 = time.perf_counter()
            r, ms = train_run(root, work, f"{'cond' if cond else 'uncond'}-{seed}", a.epochs, seed, condition=cond)
            runs['conditional' if cond else 'unconditional'] = (r, ms, time.perf_counter() - t0)
        r, ms, secs = runs['conditional']
        G = load_generator(r.slim_checkpoint)
        conds = all_conditions(G.vocab)
        z = latents(a.samples * len(conds), G.nz, seed=10_000 + seed)
        y = torch.cat([labels_tensor(G.vocab, c, a.samples) for c in conds])
        fake = generate(G, z, labels=y)
        acc = dict(zip(names, accuracy(judge, fake, y)))
        per = {f"{c['city']}/{c['time_of_day']}": dict(zip(names, accuracy(judge, fake[i * a.samples:(i + 1) * a.samples],
                                                                             y[i * a.samples:(i + 1) * a.samples])))
               for i, c in enumerate(conds)}
        print(json.dumps(dict(kind='conditional', seed=seed, accuracy=acc, per_condition=per, ms_per_step=round(ms, 2),
                              train_seconds=round(secs, 1), **meta)), flush=True)
        n = min(a.samples, len(held_x))
        pick = torch.randint(len(train_y), (n,), generator=torch.Generator().manual_seed(seed))
        sw = {}
        for kind, (rr, ms_, _) in runs.items():
            Gk = load_generator(rr.slim_checkpoint)
            zk = latents(n, Gk.nz, seed=20_000 + seed)
            xk = generate(Gk, zk, labels=train_y[pick]) if kind == 'conditional' else generate(Gk, zk)
            sw[kind] = round(swd(held_x[:n], xk[:n], seed=seed)['swd'], 3)
        print(json.dumps(dict(kind='quality', seed=seed, swd=sw, swd_ratio=round(sw['conditional'] / sw['unconditional'], 3),
                              ms_per_step=dict(unconditional=round(runs['unconditional'][1], 2), conditional=round(ms, 2)),
                              **meta)), flush=True)
        if a.skip_projection or seed != a.seeds[0]: continue
        D = discriminator_from_checkpoint(get_checkpoint(r.checkpoint))
        projection_rows(G, D, [p for p, _ in held[:a.projections]], 'conditional-32', a.steps, meta)
        r64, _ = train_run(root, work, f'uncond64-{seed}', a.epochs64, seed, img_size=64, recipe='efficient')
        G64 = load_generator(r64.slim_checkpoint)
        D64 = discriminator_from_checkpoint(get_checkpoint(r64.checkpoint))
        projection_rows(G64, D64, [p for p, _ in held[:a.projections]], 'unconditional-64', a.steps, dict(meta, epochs=a.epochs64))

def _held_labels(root:Path, held:list, names:list) -> dict:
    "The labels of the held-aside images, read from the CSVs of the data root they were taken from."
    from msls_nb.data import read_flags
    out = {n: [] for n in names}
    for _, f in held:
        city, subset, _, name = f.split('/', 3)
        out['city'].append(city)
        night = read_flags(root / city / subset, 'postprocessed.csv', 'night')[name.rsplit('.', 1)[0]]
        out['time_of_day'].append('night' if night else 'day')
    return out

if __name__ == '__main__': main()
