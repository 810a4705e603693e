import json, sys, time, torch
from msls_nb.config import make_train_config
from msls_nb.device import get_accelerator
from msls_nb.step import build_gan, dcgan_step, snapshot, synthetic_batch
from msls_nb.graphs import GraphedStep, _trained, _gap
def trial(amp, bench=True, bs=256):
    torch.backends.cudnn.benchmark = bench
    acc = get_accelerator('cuda', amp=amp); torch.backends.cudnn.benchmark = bench
    cfg = make_train_config(preset='safe-128', batch_size=bs)
    gan = build_gan(cfg, acc)
    batches = [synthetic_batch(cfg, acc) for _ in range(5)]
    restore = snapshot(gan, acc)
    em = [dcgan_step(gan, x, acc) for x in batches]; e = _trained(gan, em)
    es = {k: s.get_scale() for k, s in (gan.scalers or {}).items()}
    restore()
    st = GraphedStep(gan, acc, 2, None, fall_back=False)
    gm = [st(x) for x in batches]; g = _trained(gan, gm)
    gs = {k: s.get_scale() for k, s in (gan.scalers or {}).items()}
    gaps = [_gap([a], [b]) for a, b in zip(g, e)]
    print(json.dumps(dict(amp=amp, bench=bench, bs=bs, gap=max(gaps), metric_gaps=[round(x, 4) for x in gaps[:5]],
        worst_weights=sorted(gaps[5:])[-3:], eager_scales=es, graphed_scales=gs,
        eager_m=[{k: round(v.item(), 4) for k, v in m.items()} for m in em[:3]],
        graphed_m=[{k: round(v.item(), 4) for k, v in m.items()} for m in gm[:3]])), flush=True)
    restore()
    torch.randn(3, device='cuda'); print('rng ok', flush=True)
import sys
for args in [tuple(a.split(',')) for a in sys.argv[1:]]:
    args = (args[0], args[1] == '1')
    try: trial(*args)
    except Exception as ex: print('FAIL', args, type(ex).__name__, str(ex)[:300], flush=True)
