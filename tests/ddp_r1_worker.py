"Run under torchrun by test_ddp.py: train the tiny model with DDP and a lazy R1 penalty, then each rank saves G's and D's states."
import json, sys, torch, torch.distributed as dist
from msls_nb.config import ModelCheckpointConfig, make_train_config
from msls_nb.train import start_or_resume_training_run

root, out, r1_gamma = sys.argv[1], sys.argv[2], float(sys.argv[3])
cfg = make_train_config(preset='cpu-32', ngf=8, ndf=8, nz=16, batch_size=4, limit=32, r1_gamma=r1_gamma, r1_every=2)
torch.distributed.init_process_group('gloo')
r = start_or_resume_training_run(cfg, ModelCheckpointConfig(name=f'r1_{r1_gamma}', root=root, log_frequency=1), n_epoch=2,
                                 device='cpu', progress=False, logging=False)
torch.save({'G': {k: v.clone() for k, v in r.G.state_dict().items()}, 'D': {k: v.clone() for k, v in r.D.state_dict().items()},
            'losses': r.losses}, f'{out}/rank{dist.get_rank()}_{r1_gamma}.pt')
dist.destroy_process_group()
