"Data-layer faults: a packed cache damaged on disk, killed builders' leftovers, bad JPEGs without the cache."
import os, re, signal, socket, subprocess, sys, textwrap, time, warnings
from pathlib import Path
import numpy as np
import pytest
from conftest import REPO, cli, tiny_args

def python(code:str) -> subprocess.Popen:
    "Start `python -c code` in the repository, unbuffered."
    return subprocess.Popen([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, 'PYTHONUNBUFFERED': '1'})

@pytest.fixture(scope='module')
def images(tmp_path_factory):
    "A small MSLS-shaped tree (64 images of 160x120)."
    from msls_nb.sample import make_sample_dataset
    return make_sample_dataset(tmp_path_factory.mktemp('data'), cities=['tokyo', 'helsinki'], n_query=8, n_database=24,
                               size=(160, 120), frames_per_sequence=4)

def config(images, tmp_path, **kw):
    from msls_nb.config import TrainingConfig
    return TrainingConfig(img_size=32, batch_size=8, data_root=str(images), cache_dir=str(tmp_path / 'cache'), translate=0.125,
                          workers=1, **kw)

def recorded(fn, *args, **kw):
    "(result, [warning messages]) of `fn(*args, **kw)`."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        out = fn(*args, **kw)
    return out, [str(x.message) for x in w]

def rows_match_images(cfg, images):
    "Whether every usable row of the config's cache holds what decoding its image gives."
    from msls_nb.data import packed_cache, strip_loader
    packed = packed_cache(cfg, images).open()
    want = np.stack([strip_loader(cfg, channels_last=True)(images / packed.files[i]) for i in packed.rows])
    return (packed.read_batch(np.arange(len(packed))).numpy() == want).all()

def poke(path:Path, offset:int, data:bytes):
    with open(path, 'r+b') as f: f.seek(offset); f.write(data)

def test_damaged_rows_of_one_chunk_are_found_and_only_that_chunk_decoded_again(images, tmp_path):
    from msls_nb.data import prepare_data, verify_cache, packed_cache, select_for, strip_loader, cache_settings
    cfg, chunk = config(images, tmp_path), 16
    cache, files = packed_cache(cfg, images), select_for(cfg, images).files
    cache.build(images, files, strip_loader(cfg, channels_last=True), (32, 40, 3), cache_settings(cfg, images), workers=1, chunk=chunk,
                progress=False)
    row = 32 * 40 * 3
    poke(cache.folder / 'images.npy', cache.manifest['offset'] + 20 * row + 7, b'\x00\xff' * 50)   # in row 20: the chunk at 16
    assert prepare_data(cfg, progress=False)['built'] == 0                    # the cheap look does not read rows
    report, said = recorded(verify_cache, cfg, progress=False)
    assert (report['built'], report['damaged'], report['checked']) == (chunk, [16], len(files))
    assert len(said) == 1 and str(cache.folder) in said[0] and 'chunk at row 16 damaged (1 of 4)' in said[0], said
    assert rows_match_images(cfg, images)
    assert verify_cache(cfg, progress=False)['damaged'] == []

def test_truncated_cache_is_reported_in_one_line_and_rebuilt_before_training(images, tmp_path):
    args = tiny_args(tmp_path, 'cut', data_root=str(images), cache_dir=str(tmp_path / 'cache'), limit=None, translate=0.125)
    cli(*args, '-ne', '1', '--logging', 'False', check=0)
    cache = next(p for p in (tmp_path / 'cache' / 'packed').iterdir() if p.is_dir())
    size = (cache / 'images.npy').stat().st_size
    os.truncate(cache / 'images.npy', size - 5000)                            # the last rows are gone
    r = cli(*args, '-se', '1', '-ne', '1', '--logging', 'False', check=0)
    said = [l for l in r.stderr.splitlines() if 'CacheRepairWarning' in l]
    assert len(said) == 1 and str(cache) in said[0] and 'images.npy is truncated' in said[0] and 'decoding again' in said[0], r.stderr
    assert 'Traceback' not in r.stderr
    assert (cache / 'images.npy').stat().st_size == size

def test_overwritten_header_is_mended_in_one_line(images, tmp_path):
    from msls_nb.data import prepare_data, make_train_data, packed_cache
    from msls_nb.device import get_accelerator
    from msls_nb.cache import CacheCorruptError, npy_header
    cfg = config(images, tmp_path)
    prepare_data(cfg, progress=False)
    cache = packed_cache(cfg, images)
    header = npy_header((cache.manifest['n'], *cache.manifest['shape']))
    poke(cache.folder / 'images.npy', 0, header.replace(b"'|u1'", b"'|O' "))   # numpy would unpickle objects
    with pytest.raises(CacheCorruptError, match='header says object'): cache.open()
    data, said = recorded(make_train_data, cfg, get_accelerator('cpu'))     # mends it before it opens it
    assert len(said) == 1 and 'header says object' in said[0] and 'no row damaged: mended' in said[0], said
    assert len(list(data.batches(1))) == data.batches_per_epoch
    assert rows_match_images(cfg, images) and (cache.folder / 'images.npy').read_bytes()[:len(header)] == header

def test_clean_cache_opens_without_hashing_its_rows(tmp_path):
    from msls_nb.cache import PackedCache
    n, shape = 4000, (16, 16, 3)
    files = [f'f{i:05d}.jpg' for i in range(n)]                                 # no such files: the loader makes the rows
    def load(path): return np.full(shape, int(path[-9:-4]) % 251, np.uint8)
    cache = PackedCache(tmp_path / 'tiny')
    cache.build(tmp_path, files, load, shape, {}, workers=0, progress=False)
    t = time.perf_counter(); packed = cache.open(); t_open = time.perf_counter() - t
    t = time.perf_counter(); assert cache.verify()['ok']; t_verify = time.perf_counter() - t
    print(f'open {t_open * 1e3:.1f} ms, verify {t_verify * 1e3:.1f} ms ({n} rows of {np.prod(shape)} bytes)')
    assert packed.checked.sum() == 0 and t_open < 1.0
    packed.read_batch(np.arange(100))
    assert packed.checked.sum() == 100

BUILDER = """
import sys, time
from pathlib import Path
from msls_nb.sample import build_once
def make(folder):
    folder.mkdir(); print(folder, flush=True); time.sleep(60)
build_once(Path(sys.argv[1]), make)
"""

def test_killed_builder_leaves_a_folder_the_next_call_removes_and_a_live_one_keeps(tmp_path):
    from msls_nb.sample import build_once
    from msls_nb.files import TMP_TAG, _host
    def start():
        p = subprocess.Popen([sys.executable, '-c', BUILDER, str(tmp_path / 'data')], cwd=REPO, stdout=subprocess.PIPE, text=True)
        return p, Path(p.stdout.readline().strip())
    live, working = start()                                                     # a builder at work
    killed, leftover = start()                                                  # and one killed: its start keeps the live one's folder
    killed.send_signal(signal.SIGKILL); killed.wait()
    try:
        for folder, proc in ((leftover, killed), (working, live)):
            assert re.fullmatch(rf'\.data{re.escape(TMP_TAG)}{re.escape(_host())}-{proc.pid}-[0-9a-f]+', folder.name), folder.name
        assert leftover.is_dir() and working.is_dir()
        build_once(tmp_path / 'data', lambda f: f.mkdir())
        assert not leftover.exists() and working.is_dir() and (tmp_path / 'data').is_dir()
    finally: live.kill(); live.wait()
    build_once(tmp_path / 'data', lambda f: 1 / 0)                                # already built: only the cleaning
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']

def test_bad_jpegs_without_the_cache_are_counted_in_the_run_summary(tmp_path):
    from msls_nb.sample import make_sample_dataset
    root = make_sample_dataset(tmp_path / 'data', cities=['tokyo'], n_query=8, n_database=32, size=(160, 120), frames_per_sequence=4)
    jpgs = sorted(root.rglob('*.jpg'))
    for victim in jpgs[3], jpgs[17]: victim.write_bytes(victim.read_bytes()[:800])   # downloads cut short
    jpgs[30].write_text('<html>403 Forbidden</html>')                            # an error page saved as an image
    args = tiny_args(tmp_path, 'jpeg', data_root=str(root), cache=False, limit=None, workers=1)
    r = cli(*args, '-ne', '1', '--logging', 'False', check=0)
    summary = next(l for l in r.stdout.splitlines() if l.startswith('new run:'))
    assert 'data_bad_files=3' in summary and 'data_n_images=37' in summary, summary
    assert r.stderr.count('skipped unreadable image') == 3, r.stderr
