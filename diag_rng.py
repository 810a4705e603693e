import subprocess, sys
CODE = r'''
import torch, sys
saved = torch.cuda.get_rng_state()
x = torch.zeros(4, device='cuda')
g = torch.cuda.CUDAGraph()
try:
    with torch.cuda.graph(g, capture_error_mode='thread_local'):
        y = torch.randn(4, device='cuda') + x
        y.sum().item()          # a sync: the capture fails
except Exception as e: print('capture failed:', type(e).__name__, str(e)[:80])
m = sys.argv[1]
try:
    gen = torch.cuda.default_generators[0]
    if m == 'B': torch.cuda.set_rng_state(saved)
    if m == 'C': gen.graphsafe_set_state(gen.clone_state())
    if m == 'D': gen.graphsafe_set_state(torch.Generator(device='cuda').graphsafe_get_state()); torch.cuda.set_rng_state(saved)
    if m == 'E': del g; import gc; gc.collect(); torch.cuda.synchronize()
except Exception as e: print(m, 'recovery raised', type(e).__name__, str(e)[:100])
try:
    a = torch.randn(3, device='cuda'); torch.cuda.synchronize(); print(m, 'RNG OK', a.sum().item())
    torch.cuda.set_rng_state(saved); b = torch.randn(3, device='cuda'); torch.cuda.set_rng_state(saved); c = torch.randn(3, device='cuda'); print(m, 'repeatable', torch.equal(b, c))
except Exception as e: print(m, 'RNG BROKEN', type(e).__name__, str(e)[:80])
'''
for m in 'ABCDE':
    r = subprocess.run([sys.executable, '-c', CODE, m], capture_output=True, text=True, timeout=60)
    print(r.stdout.strip(), r.stderr.strip()[-300:] if r.returncode else '', flush=True)
