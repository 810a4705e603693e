"Network options (d_norm, d_mbstd, g_upsample): exact resume, rebuilt from slim checkpoints, classic networks unchanged."
import contextlib, io
import pytest
import torch
from msls_nb.config import TrainingConfig, ModelCheckpointConfig, DCGAN_NETWORKS
from msls_nb.models import Generator, Discriminator
from msls_nb.checkpoint import load_generator
from msls_nb.train import start_or_resume_training_run

OPTIONS = dict(d_norm='spectral', d_mbstd=4, g_upsample='nearest-conv')

def train(root, name, n_epoch, s_epoch=0, **fields):
    cfg = TrainingConfig(img_size=32, nz=16, ngf=8, ndf=8, batch_size=8, limit=32, **fields)
    mc = ModelCheckpointConfig(name=name, root=str(root))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return start_or_resume_training_run(cfg, mc, n_epoch, s_epoch, logging=False, progress=False, device='cpu'), mc

def tensors(ckpt_path):
    ck = torch.load(ckpt_path, weights_only=False)
    return {f'{part}.{k}': v for part in ('G_state_dict', 'D_state_dict') for k, v in ck[part].items()}

@pytest.mark.parametrize('opts', [OPTIONS, dict(d_norm='none', d_mbstd=2, g_upsample='transposed')])
def test_options_resume_exactly_and_rebuild_from_the_slim_checkpoint(tmp_path, opts):
    _, whole = train(tmp_path, 'whole', 2, **opts)
    train(tmp_path, 'cut', 1, **opts)
    _, cut = train(tmp_path, 'cut', 1, s_epoch=1, **opts)
    a, b = tensors(whole.checkpoint_path(2)), tensors(cut.checkpoint_path(2))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), 'resume diverged'
    if opts['d_norm'] == 'spectral': assert any('parametrizations.weight.original' in k for k in a)   # u, v resumed too
    G = load_generator(whole.slim_checkpoint_path(2))   # told nothing: the slim checkpoint's config says how to build it
    assert G.g_upsample == opts['g_upsample']
    assert G(torch.randn(2, 16)).shape == (2, 3, 32, 32)

def test_a_run_keeps_its_networks_when_the_default_recipe_changes(tmp_path):
    "A run started with the classic networks resumes with them whatever the recipe's default networks are now."
    train(tmp_path, 'old', 1, recipe='efficient')
    ck = torch.load(tmp_path / 'old' / 'checkpoint_1.pt', weights_only=False)
    for k in DCGAN_NETWORKS: ck['train_cfg'].pop(k)                 # as written before network options existed
    ck.pop('checksum', None)
    torch.save(ck, tmp_path / 'old' / 'checkpoint_1.pt')
    r, _ = train(tmp_path, 'old', 1, s_epoch=1, **OPTIONS)           # asks for other options: the checkpoint's win
    assert {k: getattr(r.train_cfg, k) for k in DCGAN_NETWORKS} == DCGAN_NETWORKS
    assert r.train_cfg.recipe == 'efficient'
    G = load_generator(tmp_path / 'old' / 'slim_checkpoint_2.pt')
    assert G.g_upsample == 'transposed'

def test_classic_networks_are_the_original_ones_key_for_key():
    cfg = TrainingConfig(recipe='classic', img_size=64, nz=100, ngf=64, ndf=64)
    assert {k: getattr(cfg, k) for k in DCGAN_NETWORKS} == DCGAN_NETWORKS
    G, D = Generator.from_config(cfg), Discriminator.from_config(cfg)
    g0, d0 = Generator(nz=100, ngf=64, img_size=64), Discriminator(ndf=64, img_size=64)   # no options: DCGAN's
    assert [(k, v.shape) for k, v in G.state_dict().items()] == [(k, v.shape) for k, v in g0.state_dict().items()]
    assert [(k, v.shape) for k, v in D.state_dict().items()] == [(k, v.shape) for k, v in d0.state_dict().items()]
    assert list(G.state_dict())[:3] == ['main.0.weight', 'main.1.weight', 'main.1.bias']
