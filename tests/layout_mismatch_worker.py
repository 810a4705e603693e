"""torch.compile of msls_nb's networks where the convolution backend returns other gradient layouts than inductor predicts.

On CUDA, cuDNN returns NHWC gradients from a channels_last ConvTranspose2d backward where inductor's meta kernel predicts
NCHW (pytorch#171622), and the first compiled backward dies in `assert_size_stride`. The CPU kernels agree with the meta
kernels, so this process makes them disagree the same way: `aten::convolution_backward` on the CPU is replaced by one
that returns its gradients in the other layout. Prints one JSON line: what happened without and with the layout-stable
convolutions (switched on for the CPU here, as they are for CUDA), and how far the compiled gradients are from eager ones."""
import json, sys, warnings
import torch
warnings.simplefilter('ignore')
from msls_nb import models
from msls_nb.config import TrainingConfig
from msls_nb.device import get_accelerator
from msls_nb.step import build_gan, dcgan_step

_backward = torch.ops.aten.convolution_backward.default
_composite = torch._C.DispatchKeySet(torch._C.DispatchKey.CompositeExplicitAutograd)

def flip(t): return t.contiguous() if t.is_contiguous(memory_format=torch.channels_last) else t.contiguous(memory_format=torch.channels_last)

def backward_in_other_layout(*args):
    return tuple(o if o is None or o.dim() != 4 else flip(o) for o in _backward.redispatch(_composite, *args))

lib = torch.library.Library('aten', 'IMPL')
lib.impl('convolution_backward', backward_in_other_layout, 'CPU')

def grads(G, z):
    G.zero_grad(set_to_none=True)
    G(z).square().mean().backward()
    return [p.grad.clone() for p in G.parameters()]

def g_step(stable:bool) -> dict:
    "Compiled G forward and backward in channels_last, against eager; the error or the largest relative difference."
    models.STABLE_LAYOUT_DEVICES = {'cpu'} if stable else set()   # as for CUDA
    torch._dynamo.reset()
    torch.manual_seed(0)
    G = models.Generator(nz=16, ngf=8, img_size=32).apply(models.weights_init).to(memory_format=torch.channels_last)
    z = torch.randn(8, 16)
    try: compiled = grads(torch.compile(G), z)
    except Exception as e: return dict(error=f'{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}')
    eager = grads(G, z)
    return dict(rel_diff=max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(compiled, eager)))

def train_steps() -> dict:
    "build_gan(compile=True) on the CPU with channels_last and bf16: compiled steps that run, or the eager fallback."
    models.STABLE_LAYOUT_DEVICES = {'cpu'}
    torch._dynamo.reset()
    cfg = TrainingConfig(img_size=32, nz=16, ngf=8, ndf=8, batch_size=8, compile=True)
    acc = get_accelerator('cpu', amp='bf16', channels_last=True)
    gan = build_gan(cfg, acc)
    real = acc.in_memory_format(torch.rand(8, 3, 32, 32) * 2 - 1)
    m = [dcgan_step(gan, real, acc) for _ in range(2)][-1]
    return dict(compiled=gan.compiled, finite=all(bool(torch.isfinite(v)) for v in m.values()))

print(json.dumps(dict(plain=g_step(False), stable=g_step(True), train=train_steps())))
