"Data layer across processes: two processes racing to generate the sample, and a packed-cache build killed and resumed."
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

def python(code:str, **kw) -> subprocess.Popen:
    "Start `python -c code` in the repository with unbuffered output."
    return subprocess.Popen([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, 'PYTHONUNBUFFERED': '1'}, **kw)

def test_two_processes_race_for_the_sample(tmp_path):
    code = f"from msls_nb.sample import sample_data_root; print(sample_data_root(cache_dir={str(tmp_path)!r}))"
    procs = [python(code) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    roots = {o.strip() for o, _ in outs}
    assert len(roots) == 1
    root = Path(roots.pop())
    assert len(list(root.rglob('*.jpg'))) == 4 * (24 + 48)
    assert [p.name for p in tmp_path.iterdir()] == [root.parent.name]      # the loser's temporary folder is gone

BUILD = """
import json, sys
from msls_nb.config import TrainingConfig
from msls_nb.data import resolve_data_root, select_for, packed_cache, cache_settings, strip_loader
cfg = TrainingConfig(img_size=32, data_root={root!r}, cache_dir={cache!r}, translate=0.25)
root = resolve_data_root(cfg.data_root)
files = select_for(cfg, root).files
r = packed_cache(cfg, root).build(root, files, strip_loader(cfg), (3, 32, 48), cache_settings(cfg, root), workers=1, chunk=8, progress=False)
print(json.dumps(dict(r, n=len(files), folder=str(packed_cache(cfg, root).folder))))
"""

def test_cache_build_killed_then_resumed(tmp_path):
    from msls_nb.sample import make_sample_dataset
    from msls_nb.pipeline import load_strip
    from msls_nb.cache import PackedCache
    root = make_sample_dataset(tmp_path / 'data', cities=['tokyo', 'helsinki'], n_query=24, n_database=40, size=(320, 240))
    code = BUILD.format(root=str(root), cache=str(tmp_path / 'cache'))
    first = python(code)
    chunks = None
    deadline = time.time() + 120
    while time.time() < deadline and first.poll() is None:           # wait for a few finished chunks, then kill -9
        found = [p for p in (tmp_path / 'cache' / 'packed').glob('*/chunks/*.json') if p.stem.isdigit()]
        if len(found) >= 3: chunks = found[0].parent; break
        time.sleep(0.05)
    assert chunks is not None, first.communicate()
    first.send_signal(signal.SIGKILL); first.wait()
    done_at_kill = len([p for p in chunks.glob('*.json') if p.stem.isdigit()])   # temporary files of the killed writer do not count
    assert not (chunks.parent / 'manifest.json').exists()
    second = python(code)
    out, err = second.communicate(timeout=240)
    assert second.returncode == 0, err
    r = json.loads(out.strip().splitlines()[-1])
    assert r['n'] == 128 and r['n_bad'] == 0
    assert r['built'] <= r['n'] - 8 * done_at_kill                       # finished chunks were not decoded again
    packed = PackedCache(r['folder']).open()
    assert len(packed) == 128
    rows = [0, 7, 8, 63, 127]                                            # rows from before and after the kill
    got = packed.read_batch(rows).numpy()
    want = np.stack([load_strip(root / packed.files[i], 32, 1.0, 0.25) for i in rows])
    assert (got == want).all()
