"Run under torchrun by test_elastic.py: the msls-train command line as users type it, then each rank saves its generator."
import os, sys, torch
from msls_nb.run_dcgan import build_parser, run_command, train

out, argv = sys.argv[1], sys.argv[2:]
result = {}
rc = run_command('msls-train', lambda: result.setdefault('r', train(build_parser().parse_args(argv))) and 0)
if rc == 0: torch.save({k: v.clone() for k, v in result['r'].G.state_dict().items()}, f"{out}/rank{os.environ['RANK']}.pt")
sys.exit(rc)
