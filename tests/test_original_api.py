"""Code written the way users of the original msls package wrote it, unchanged but for the package name: the trainer run
as a file from the package folder, then their restore / grid / GIF code on what it saved, and on checkpoints laid out
as the original package wrote them (DDP's `module.` prefixes, unused keys set to None)."""
import collections, json, os, subprocess, sys, uuid
from pathlib import Path
import imageio.v3 as iio
import pytest
import torch
import torchvision.utils as vutils
import msls_nb
from msls_nb.config import TrainingConfig, ModelCheckpointConfig
from msls_nb.models import Generator
from msls_nb.checkpoint import get_checkpoint, restore_G_for_inference
from msls_nb.slerp import gen_img_sequence_array, slerp_noise_vect
from conftest import TINY

TRAIN_CFG = TrainingConfig(nc=3, img_size=32, nz=TINY['nz'], ngf=TINY['ngf'], ndf=TINY['ndf'])

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A one-epoch tiny run trained the original workaround's way: `cd <package folder> && python run_dcgan.py ...`."
    root = tmp_path_factory.mktemp('original')
    site = Path(msls_nb.__file__).parent
    r = subprocess.run([sys.executable, 'run_dcgan.py',
                        '-c', json.dumps({'name': 'orig-dcgan-32', 'root': str(root), 'log_frequency': 2}),
                        '-t', json.dumps({**TINY, 'nc': 3, 'img_size': 32}), '--s_epoch', '0', '--n_epoch', '1',
                        '--logging', 'False', '--profile', 'False', '--preset', 'cpu-32', '--progress', 'False'],
                       cwd=site, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return ModelCheckpointConfig(name='orig-dcgan-32', root=str(root))

def original_user_code(slim_checkpoint_path:str, MODEL_CFG) -> tuple:
    "What their Flask app and notebooks did with a checkpoint: restore G, a grid with torchvision, a SLERP GIF."
    checkpoint = get_checkpoint(path=slim_checkpoint_path, cpu=True)
    G = Generator(TRAIN_CFG)                      # the original `Generator64(cfg)`: a network from the config object
    restore_G_for_inference(checkpoint, G)
    Z = torch.randn(16, TRAIN_CFG.nz, 1, 1)
    g = vutils.make_grid(G(Z).detach(), padding=4, normalize=True, nrow=4).cpu()
    tmp_img_hash = uuid.uuid4().__str__()
    vutils.save_image(g, f"{MODEL_CFG.root}/{tmp_img_hash}.png")
    tmp_gif_location = gen_img_sequence_array(MODEL_CFG, G, n_frames=10, Z_size=TRAIN_CFG.nz)
    Z_h, Z_l = torch.randn(4, TRAIN_CFG.nz), torch.randn(4, TRAIN_CFG.nz)
    frames = [G(slerp_noise_vect(ratio, Z_l, Z_h)).detach() for ratio in torch.linspace(0.0, 1.0, 5)]
    return G, g, f"{MODEL_CFG.root}/{tmp_img_hash}.png", tmp_gif_location, frames

def check_outputs(G, g, png, gif, frames):
    assert not G.training                                   # restored for inference: BatchNorm uses running statistics
    assert g.shape == (3, 4 * 36 + 4, 4 * 36 + 4) and Path(png).stat().st_size > 0
    assert iio.imread(gif, index=None).shape == (10, 4 * 34 + 2, 4 * 34 + 2, 3)
    assert len(frames) == 5 and all(f.shape == (4, 3, 32, 32) and torch.isfinite(f).all() for f in frames)

def test_trained_by_the_file_run_cli(run):
    assert {'checkpoint_1.pt', 'slim_checkpoint_1.pt'} <= {p.name for p in run.run_dir.iterdir()}
    check_outputs(*original_user_code(str(run.slim_checkpoint_path(1)), run))
    checkpoint = get_checkpoint(str(run.checkpoint_path(1)), True)        # positional, the original bool
    G = restore_G_for_inference(checkpoint, Generator(TRAIN_CFG))
    full = Generator(TRAIN_CFG).eval()
    full.load_state_dict(checkpoint.get('G_ema_state_dict', checkpoint['G_state_dict']))   # for inference: the EMA generator
    z = torch.randn(4, TRAIN_CFG.nz)
    assert torch.equal(G(z), full(z))
    assert restore_G_for_inference(Generator(TRAIN_CFG), checkpoint).training is False   # our order works too

@pytest.mark.parametrize('layout', ['original checkpoint', 'bare weights'])
def test_checkpoints_laid_out_as_the_original_package_wrote_them(run, tmp_path, layout):
    weights = get_checkpoint(run.checkpoint_path(1), cpu=True)['G_state_dict']
    ddp = collections.OrderedDict((f'module.{k}', v) for k, v in weights.items())   # saved from a DDP-wrapped G
    slim = {'epoch': 1, 'G_state_dict': ddp, 'D_state_dict': None, 'G_optim': None, 'D_optim': None, 'losses': None,
            'img_list': None}                                   # the original slim checkpoint: unused keys set to None
    saved = ddp if layout == 'bare weights' else slim
    path = tmp_path / 'slim_checkpoint_1.pt'
    torch.save(saved, path)
    MODEL_CFG = ModelCheckpointConfig(name='orig', root=str(tmp_path))
    G, *rest = original_user_code(str(path), MODEL_CFG)
    check_outputs(G, *rest)
    expected = Generator(TRAIN_CFG).eval()
    expected.load_state_dict(weights)
    z = torch.randn(4, TRAIN_CFG.nz)
    assert torch.equal(G(z), expected(z))
    assert get_checkpoint(str(path), True).keys() == saved.keys()
