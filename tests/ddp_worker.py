"Run under torchrun by test_ddp.py: train the tiny model with DDP, then each rank saves its generator state."
import sys, torch, torch.distributed as dist
from msls_nb.config import ModelCheckpointConfig, make_train_config
from msls_nb.train import start_or_resume_training_run

root, out = sys.argv[1], sys.argv[2]
cfg = make_train_config(preset='cpu-32', ngf=8, ndf=8, nz=16, batch_size=4, limit=32)
torch.distributed.init_process_group('gloo')
r = start_or_resume_training_run(cfg, ModelCheckpointConfig(name='ddp', root=root, log_frequency=2), n_epoch=2, device='cpu', progress=False)
torch.save({k: v.clone() for k, v in r.G.state_dict().items()}, f'{out}/rank{dist.get_rank()}.pt')
dist.destroy_process_group()
