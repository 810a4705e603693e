#!/usr/bin/env python
"""Training-step throughput of msls_nb's DCGAN step, one JSON line per configuration.

    python bench/train_throughput.py --preset naive-64 --batch-size 64 --compare-classic
    python bench/train_throughput.py --preset safe-128 --batch-size 256 --sweep          # every switch on/off
    python bench/train_throughput.py --preset cpu-32 --batch-size 64 --data              # real batches from the packed cache

Every loop is built first and then timed in turns (`--repeats` rounds of `--steps` steps; the median is reported), so
the drift of a shared machine hits all of them alike. Each line: preset, batch size, device, the switches (amp, channels_last, optimizer, compile), images/s, ms/step,
analytic FLOPs per image (msls_nb.models.train_flops_per_image), achieved TFLOP/s and fraction of the device's peak.
`--compare-classic` also times, on the same networks and batch in the same process, the classic eager fp32 loop (two
backward passes for D, D's weight gradients in the G step, non-fused Adam, one `.item()` per metric per step) and the
same loop tuned by hand in ten lines (bf16 autocast, channels_last, fused AdamW, no host syncs: what any user gets by
flipping three switches), and prints msls_nb's ratio to each. `--recipe` picks the training recipe of the msls_nb loop
(default: the default recipe); `--sweep` also times the `classic` recipe (the recipe's cost per step), and `--recipes A B`
times those recipes (their networks and step) beside it. `--data` times the
step on real batches from the data pipeline against synthetic tensors.
"""
import argparse, json, os, platform, sys, time
from contextlib import nullcontext
import torch
import torch.nn.functional as F
from msls_nb.config import make_train_config, PRESETS, RECIPE_KEYS
from msls_nb.device import get_accelerator, cpu_has_fast_bf16
from msls_nb.models import Generator, Discriminator, weights_init, train_flops_per_image
from msls_nb.step import build_gan, dcgan_step
from msls_nb.graphs import use_cuda_graphs

# Dense peak TFLOP/s by device name fragment: (bf16/fp16 tensor core, fp32 without TF32).
GPU_PEAKS = {'H200': (989.0, 67.0), 'H100': (989.0, 67.0), 'A100': (312.0, 19.5), 'A10G': (125.0, 31.2), 'L4': (121.0, 30.3),
             'V100': (125.0, 15.7), 'T4': (65.0, 8.1)}

def measured_cpu_peak(dtype=torch.float32, n=2048, reps=5) -> float:
    "Empirical fp32 matmul TFLOP/s of this CPU (best of `reps` n x n matmuls)."
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = min(_timeit(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best / 1e12

def _timeit(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def device_peak(acc) -> tuple[float, str]:
    "(peak TFLOP/s for the step's precision, where the figure comes from)."
    if acc.kind == 'cuda':
        name = torch.cuda.get_device_name(acc.device)
        for k, (half, fp32) in GPU_PEAKS.items():
            if k in name: return (half if acc.amp != 'off' else fp32), f'datasheet {name}'
        return float('nan'), f'unknown GPU {name}'
    if acc.kind == 'cpu':
        dtype = acc.amp_dtype or torch.float32
        return measured_cpu_peak(dtype), f'measured {str(dtype).split(".")[1]} matmul'
    return float('nan'), 'unknown'

def sync(acc):
    acc.synchronize()

def time_steps(step, n_warmup, n_steps, acc) -> float:
    "Seconds per step (after warm-up), synchronised with the device."
    for _ in range(n_warmup): step()
    sync(acc); t = time.perf_counter()
    for _ in range(n_steps): step()
    sync(acc)
    return (time.perf_counter() - t) / n_steps

def classic_networks(cfg) -> tuple:
    "DCGAN's G and D at the sizes of `cfg`, whatever networks its recipe chooses: the anchors' networks never move."
    return Generator(cfg.nz, cfg.ngf, cfg.nc, cfg.img_size), Discriminator(cfg.ndf, cfg.nc, cfg.img_size)

def classic_step_fn(cfg, acc, real):
    "The classic DCGAN loop of the original package: eager fp32, two D backward passes, .item() per metric."
    G, D = (net.to(acc.device) for net in classic_networks(cfg))
    G.apply(weights_init); D.apply(weights_init)
    oG = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), foreach=False)
    oD = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), foreach=False)
    log = []
    def step():
        b = real.shape[0]
        D.zero_grad()
        out = D(real); errD_real = F.binary_cross_entropy_with_logits(out, torch.ones(b, device=acc.device)); errD_real.backward()
        D_x = torch.sigmoid(out).mean().item()
        fake = G(torch.randn(b, cfg.nz, 1, 1, device=acc.device))
        out = D(fake.detach()); errD_fake = F.binary_cross_entropy_with_logits(out, torch.zeros(b, device=acc.device)); errD_fake.backward()
        D_G_z1 = torch.sigmoid(out).mean().item()
        errD = errD_real + errD_fake; oD.step()
        G.zero_grad()
        out = D(fake); errG = F.binary_cross_entropy_with_logits(out, torch.ones(b, device=acc.device)); errG.backward()
        D_G_z2 = torch.sigmoid(out).mean().item(); oG.step()
        log.append((errG.item(), errD.item(), D_x, D_G_z1, D_G_z2))
    return step

def device_has_bf16(acc) -> bool:
    "Whether the device runs bf16 matrix work natively (what a user tuning by hand would pick, whatever msls_nb uses)."
    if acc.kind == 'cuda': return torch.cuda.is_bf16_supported()
    if acc.kind == 'cpu': return cpu_has_fast_bf16()
    return acc.kind == 'hpu'

def tuned_step_fn(cfg, acc, real, bf16=None):
    """The classic loop tuned by hand, an anchor that does not move with msls_nb's defaults: bf16 autocast on any device
    that has it (`bf16`: None asks the device; msls_nb's own `amp` is never read), channels_last, fused AdamW, no host
    syncs. It still runs the classic algorithm: both D losses in one backward, D's weight gradients in the G step."""
    cl, bf16 = torch.channels_last, device_has_bf16(acc) if bf16 is None else bf16
    G, D = (net.to(acc.device, memory_format=cl).apply(weights_init) for net in classic_networks(cfg))
    opt = lambda m: torch.optim.AdamW(m.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=acc.kind in ('cuda', 'cpu'))
    oG, oD, real = opt(G), opt(D), real.to(acc.device).contiguous(memory_format=cl)
    amp = lambda: torch.autocast(acc.kind, dtype=torch.bfloat16) if bf16 else nullcontext()
    def step():
        b = real.shape[0]
        with amp(): out_real, fake = D(real).float(), G(torch.randn(b, cfg.nz, 1, 1, device=acc.device)); out_fake = D(fake.detach()).float()
        errD = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real)) + F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
        oD.zero_grad(set_to_none=True); errD.backward(); oD.step()
        with amp(): out = D(fake).float()
        errG = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        oG.zero_grad(set_to_none=True); errG.backward(); oG.step()
    step.amp, step.nets = ('bf16' if bf16 else 'off'), (G, D)
    return step

def build(cfg, acc):
    "The GAN as a run builds it (CUDA graphs where asked, or by default on CUDA, and possible)."
    gan = build_gan(cfg, acc)
    return use_cuda_graphs(gan, cfg, acc, quiet=cfg.cuda_graphs is None) if acc.try_cuda_graphs(cfg.cuda_graphs) else gan

def fast_step_fn(cfg, acc, real):
    gan = build(cfg, acc)
    real = acc.to_device(real)
    step = lambda: dcgan_step(gan, real, acc)
    step.used = dict(compiled=gan.compiled, graphed=gan.graphed is not None)   # after any fallback
    return step

def loader_ms_per_batch(data, acc, epochs) -> float:
    "Milliseconds per batch of the loader alone over `epochs`: batches ready on the device, the device's copies included."
    t = time.perf_counter(); n = sum(1 for e in epochs for _ in data.batches(e)); sync(acc)
    return (time.perf_counter() - t) / n * 1e3

def data_step_fn(cfg, acc):
    """The step fed by the real data pipeline (packed cache by default), cycling through epochs. The loader alone is
    timed twice: its first epoch (every row checked against its CRC, pages mapped, pinned buffers allocated: once per
    process) and then in steady state, which is what the step sees for the rest of a run."""
    from msls_nb.data import prepare_data, make_train_data
    prepare_data(cfg)
    data, gan = make_train_data(cfg, acc), build(cfg, acc)
    first_ms = loader_ms_per_batch(data, acc, [100])
    loader_ms = loader_ms_per_batch(data, acc, range(101, 104))
    state = dict(it=iter(data.batches(1)), epoch=1)
    def step():
        try: real = next(state['it'])
        except StopIteration:
            state['epoch'] += 1; state['it'] = iter(data.batches(state['epoch'])); real = next(state['it'])
        dcgan_step(gan, real, acc)
    step.loader_ms, step.first_epoch_ms, step.batches_per_epoch = loader_ms, first_ms, data.batches_per_epoch
    return step

def result(cfg, acc, sec, flops, peak, label, **extra):
    ips = cfg.batch_size / sec
    tflops = ips * flops['train_step'] / 1e12
    return dict(bench='train_throughput', loop=label, preset=extra.pop('preset'), batch_size=cfg.batch_size, img_size=cfg.img_size,
                device=str(acc.device), device_name=torch.cuda.get_device_name(acc.device) if acc.kind == 'cuda' else platform.processor() or platform.machine(),
                threads=torch.get_num_threads(), **{k: v for k, v in acc.describe().items() if k in ('amp', 'channels_last', 'optimizer')},
                compile=cfg.compile, cuda_graphs=cfg.cuda_graphs, recipe=cfg.recipe, images_per_s=round(ips, 1), ms_per_step=round(sec * 1e3, 2), gflop_per_image=round(flops['train_step'] / 1e9, 3),
                tflops=round(tflops, 4), peak_tflops=round(peak[0], 3), peak_source=peak[1], fraction_of_peak=round(tflops / peak[0], 4) if peak[0] == peak[0] else None,
                torch=torch.__version__, **extra)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--preset', default='naive-64', choices=list(PRESETS))
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--device', default='auto')
    p.add_argument('--amp', default='auto', choices=['auto', 'off', 'bf16', 'fp16'])
    p.add_argument('--channels-last', default='auto', choices=['auto', 'on', 'off'])
    p.add_argument('--optimizer', default='auto', choices=['auto', 'fused', 'foreach', 'default'])
    p.add_argument('--compile', action='store_true')
    p.add_argument('--cuda-graphs', default='auto', choices=['auto', 'on', 'off'],
                   help='replay the whole step as one CUDA graph (auto: as a run does, on CUDA where the trial passes)')
    p.add_argument('--recipe', default=None, help='training recipe of the msls_nb loop (default: the default recipe)')
    p.add_argument('--recipes', nargs='*', default=[], metavar='RECIPE', help='also time these recipes on the same networks and batch (speedup_vs_default)')
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--repeats', type=int, default=3, help='rounds of timing, taken in turns; the median is reported')
    p.add_argument('--compare-classic', action='store_true', help='also time the classic loop and print the ratio')
    p.add_argument('--sweep', action='store_true', help='each switch on/off against the default configuration')
    p.add_argument('--skip', nargs='*', default=[], metavar='LABEL', help='sweep variants to leave out, e.g. compile=True')
    p.add_argument('--data', action='store_true', help='real batches from the data pipeline vs synthetic tensors')
    p.add_argument('--data-root', default=None, help='images for --data (default: the embedded sample, 288 images)')
    p.add_argument('--profile', type=int, default=0, metavar='N', help='also profile 3 steps of the default loop and print its top N kernels/ops')
    a = p.parse_args(argv)
    cl = {'auto': None, 'on': True, 'off': False}[a.channels_last]
    base = make_train_config(preset=a.preset, batch_size=a.batch_size, compile=a.compile, cuda_graphs={'auto': None, 'on': True, 'off': False}[a.cuda_graphs], **({'recipe': a.recipe} if a.recipe else {}))
    acc = get_accelerator(a.device, a.amp, cl, None if a.optimizer == 'auto' else a.optimizer)
    if acc.kind == 'cuda': torch.backends.cudnn.benchmark = True
    flops, peak = train_flops_per_image(base), device_peak(acc)
    torch.manual_seed(0)
    real = torch.rand(a.batch_size, base.nc, base.img_size, base.img_size) * 2 - 1
    variants, graphs_on = [('msls_nb', acc, base)], acc.try_cuda_graphs(base.cuda_graphs)
    if a.sweep:
        alt = lambda **kw: get_accelerator(a.device, kw.get('amp', acc.amp), kw.get('channels_last', acc.channels_last), kw.get('optimizer', acc.optimizer_impl))
        variants += [('amp=off', alt(amp='off'), base), ('channels_last=' + str(not acc.channels_last), alt(channels_last=not acc.channels_last), base),
                     ('optimizer=default', alt(optimizer='default'), base), ('compile=' + str(not base.compile), acc, base.replace(compile=not base.compile))]
        if acc.kind == 'cuda':
            other = 'bf16' if acc.amp == 'fp16' else 'fp16'
            variants += [(f'amp={other}', alt(amp=other), base),
                         ('cuda_graphs=' + str(not graphs_on), acc, base.replace(cuda_graphs=not graphs_on))]
        if base.recipe != 'classic': variants += [('recipe=classic', acc, make_train_config(preset=a.preset, batch_size=a.batch_size, compile=a.compile, cuda_graphs=base.cuda_graphs, recipe='classic'))]
    variants += [(f'recipe={r}', acc, base.replace(recipe=r, **{k: None for k in RECIPE_KEYS}, lr_g=None, lr_d=None))
                 for r in a.recipes if r != base.recipe and f'recipe={r}' not in [v[0] for v in variants]]
    variants = [v for v in variants if v[0] not in a.skip]
    # Build every loop first, then time them in turns (`--repeats` rounds) so that drift of a shared machine hits all alike.
    runs = [(label, vacc, vcfg, fast_step_fn(vcfg, vacc, real), None) for label, vacc, vcfg in variants]
    if a.compare_classic:
        classic_acc = get_accelerator(a.device, 'off', False, 'default')
        anchor = base.replace(compile=False, cuda_graphs=False)
        runs.append(('classic', classic_acc, anchor, classic_step_fn(base, acc, acc.to_device(real).contiguous()), None))
        tuned = tuned_step_fn(base, acc, real)     # its own precision (bf16 where the device has it), whatever acc.amp is
        runs.append(('hand-tuned classic', get_accelerator(a.device, tuned.amp, True, 'fused'), anchor, tuned, None))
    if a.data:
        cfg = base.replace(limit=max(16 * a.batch_size, 256), data_root=a.data_root)
        data_step = data_step_fn(cfg, acc)
        runs.append(('msls_nb+data', acc, cfg, data_step, None))
    times = {r[0]: [] for r in runs}
    for label, vacc, _, step, _ in runs: time_steps(step, a.warmup, 1, vacc)          # warm-up (and compilation) once
    for _ in range(a.repeats):
        for label, vacc, _, step, _ in runs: times[label].append(time_steps(step, 0, a.steps, vacc))
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for label, vacc, vcfg, step, _ in runs:
        extra = dict(repeats=a.repeats, ms_per_step_all=[round(t * 1e3, 1) for t in times[label]], **getattr(step, 'used', {}))
        if label in ('classic', 'hand-tuned classic'): extra['speedup_of_msls_nb'] = round(med[label] / med['msls_nb'], 3)
        if label == 'msls_nb+data': extra.update(batches_per_epoch=data_step.batches_per_epoch, synthetic_ms_per_step=round(med['msls_nb'] * 1e3, 2), data_overhead=round(med[label] / med['msls_nb'] - 1, 4),
                                                 loader_alone_ms_per_batch=round(data_step.loader_ms, 2), loader_fraction_of_step=round(data_step.loader_ms / (med['msls_nb'] * 1e3), 4),
                                                 loader_first_epoch_ms_per_batch=round(data_step.first_epoch_ms, 2))
        if label not in ('msls_nb', 'classic', 'hand-tuned classic', 'msls_nb+data'): extra['speedup_vs_default'] = round(med['msls_nb'] / med[label], 3)
        print(json.dumps(result(vcfg, vacc, med[label], flops, device_peak(vacc) if vacc.amp != acc.amp else peak, label, preset=a.preset, **extra)), flush=True)

    if a.profile:   # kernels of the eager step (a graph replays the same ones) and of the hand-tuned anchor
        for label, _, _, step, _ in runs:
            if label in ('cuda_graphs=False', 'hand-tuned classic') or (label == 'msls_nb' and not graphs_on):
                profile_top_ops(step, acc, a.profile, loop=label, preset=a.preset, batch_size=a.batch_size)

def profile_top_ops(step, acc, n, **info):
    "torch.profiler over 3 steps: one JSON line per top op by self time on the device (CPU time on the CPU)."
    from torch.profiler import profile
    step(); sync(acc)
    with profile(activities=acc.profiler_activities()) as prof:
        for _ in range(3): step()
        sync(acc)
    dev = acc.kind == 'cuda'
    key = 'self_device_time_total' if dev else 'self_cpu_time_total'
    events = [e for e in prof.key_averages() if getattr(e, key, 0) > 0]
    total = sum(getattr(e, key) for e in events)
    for e in sorted(events, key=lambda e: -getattr(e, key))[:n]:
        print(json.dumps(dict(bench='train_step_profile', **info, op=e.key, calls=e.count // 3, ms_per_step=round(getattr(e, key) / 3 / 1e3, 3),
                              share=round(getattr(e, key) / total, 4), clock='device' if dev else 'cpu')), flush=True)

if __name__ == '__main__':
    main()
