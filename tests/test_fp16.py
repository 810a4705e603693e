"fp16 with a GradScaler per network, end to end on the CPU: trained, checkpointed with its loss scales, resumed from them."
import torch
from conftest import cli, tiny_args
from msls_nb.config import TrainingConfig
from msls_nb.device import get_accelerator
from msls_nb.step import build_gan

def test_fp16_run_checkpoints_its_loss_scales_and_resumes_from_them(tmp_path):
    r = cli(*tiny_args(tmp_path, 'half', amp='fp16'), '-ne', '1', '--logging', 'False', '--device', 'cpu', check=0)
    assert 'amp=fp16' in r.stdout and 'grad_scaler=True' in r.stdout, r.stdout[:2000]
    ck = torch.load(tmp_path / 'half' / 'checkpoint_1.pt', weights_only=False)
    saved = {k: s['scale'] for k, s in ck['loop_state']['grad_scalers'].items()}
    assert set(saved) == {'D', 'G'} and min(saved.values()) < 65536.0, saved   # the first steps lowered a scale
    assert all(torch.isfinite(torch.tensor(ck['losses'][k])).all() for k in ('_G', '_D'))
    cfg = TrainingConfig(**{k: v for k, v in ck['train_cfg'].items() if k in TrainingConfig.__dataclass_fields__})
    gan = build_gan(cfg, get_accelerator('cpu', amp='fp16'), ck)
    assert {k: s.get_scale() for k, s in gan.scalers.items()} == saved        # not a fresh 65536
    r = cli(*tiny_args(tmp_path, 'half', amp='fp16'), '-se', '-1', '-ne', '1', '--logging', 'False', '--device', 'cpu', check=0)
    assert 'resuming from' in r.stdout
