"The bench's anchors do not move with msls_nb's defaults: the hand-tuned loop autocasts bf16 wherever the device has it."
import importlib.util, sys
import pytest, torch
from conftest import REPO
from msls_nb.config import make_train_config
from msls_nb.device import get_accelerator

spec = importlib.util.spec_from_file_location('train_throughput', REPO / 'bench' / 'train_throughput.py')
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)

def conv_dtypes(step) -> set:
    "The dtypes of G's and D's first convolution outputs during one step of `step`."
    seen, hooks = set(), [net.main[0].register_forward_hook(lambda m, i, o: seen.add(o.dtype)) for net in step.nets]
    try: step()
    finally:
        for h in hooks: h.remove()
    return seen

@pytest.mark.parametrize('amp', ['off', 'bf16', 'fp16'])
def test_the_hand_tuned_loop_autocasts_bf16_whatever_msls_nb_uses(amp):
    cfg = make_train_config(preset='cpu-32', ngf=8, ndf=8, nz=16, batch_size=4)
    acc, real = get_accelerator('cpu', amp=amp), torch.rand(4, 3, 32, 32) * 2 - 1
    step = bench.tuned_step_fn(cfg, acc, real, bf16=True)          # a device that has bf16
    assert (step.amp, conv_dtypes(step)) == ('bf16', {torch.bfloat16})
    step = bench.tuned_step_fn(cfg, acc, real, bf16=False)         # one that has none: fp32
    assert (step.amp, conv_dtypes(step)) == ('off', {torch.float32})
    # by default it asks the device, never msls_nb's amp
    assert bench.tuned_step_fn(cfg, acc, real).amp == ('bf16' if bench.device_has_bf16(acc) else 'off')

def test_the_anchors_train_dcgan_networks_whatever_the_default_recipe_builds():
    cfg = make_train_config(preset='cpu-32', ngf=8, ndf=8, nz=16, batch_size=4, g_upsample='nearest-conv', d_mbstd=4)
    acc, real = get_accelerator('cpu', amp='off'), torch.rand(4, 3, 32, 32) * 2 - 1
    G, D = bench.tuned_step_fn(cfg, acc, real).nets
    assert (G.g_upsample, D.d_norm, D.d_mbstd) == ('transposed', 'batch', 0)
    assert [type(m) for m in G.main] == [type(m) for m in bench.Generator(16, 8, 3, 32).main]
