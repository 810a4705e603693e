#!/usr/bin/env python
"""Indexing speed of msls_nb.data on a large MSLS-shaped tree of empty files, one JSON line per step.

    python bench/data_index.py                       # 200,000 files: 25 cities x {query, database} x 4,000
    python bench/data_index.py --files 1200000 --dir /data/scratch/idx

The tree is `<city>/<subset>/images/<key>.jpg` (empty files) with `postprocessed.csv` and `raw.csv` per subset,
built once (reused when --dir already holds it). Steps: listing all files (`list_images`), the plain selection
(`select_images`), a selection that reads the CSVs (`time_of_day='day'`, `exclude_pano=True`), the per-city count
table, the source fingerprint the packed cache checks (one stat per file), and `suspect_files`, the look at the first
and last bytes of every file that training without the cache takes before it starts (`find_bad_files` then decodes the
suspects; here every file is empty, so every one is a suspect). Each line: step, files, seconds,
files/s, and the seconds extrapolated to MSLS's 1.2 million files. The file system cache is warm (the tree was just
listed); a cold first listing on a network disk can be many times slower.
"""
import argparse, csv, json, os, platform, shutil, tempfile, time
from pathlib import Path
from msls_nb.data import list_images, select_images, city_counts
from msls_nb.cache import source_fingerprint
from msls_nb.pipeline import suspect_files

def build_tree(root:Path, n_files:int, n_cities:int=25) -> int:
    "Empty `.jpg` files in the MSLS layout plus the two CSVs per subset; returns the number of files."
    per = n_files // (n_cities * 2)
    for c in range(n_cities):
        for subset in ('query', 'database'):
            folder = root / f'city{c:02d}' / subset
            (folder / 'images').mkdir(parents=True, exist_ok=True)
            keys = [f'k{c:02d}{subset[0]}{i:07d}' for i in range(per)]
            for k in keys: os.close(os.open(folder / 'images' / f'{k}.jpg', os.O_CREAT | os.O_WRONLY, 0o644))
            with open(folder / 'postprocessed.csv', 'w', newline='') as f:
                w = csv.writer(f); w.writerow(['', 'key', 'lat', 'lon', 'ca', 'captured_at', 'night', 'control_panel', 'view_direction', 'unique_cluster'])
                w.writerows([i, k, 52.0, 4.0, 90.0, 1500000000000, i % 10 == 0, False, 'Forward', i // 100] for i, k in enumerate(keys))
            with open(folder / 'raw.csv', 'w', newline='') as f:
                w = csv.writer(f); w.writerow(['', 'key', 'lon', 'lat', 'ca', 'captured_at', 'pano'])
                w.writerows([i, k, 4.0, 52.0, 90.0, 1500000000000, i % 50 == 0] for i, k in enumerate(keys))
    return per * n_cities * 2

def timed(fn):
    t = time.perf_counter(); out = fn(); return out, time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--files', type=int, default=200_000)
    ap.add_argument('--dir', default=None, help='where to build the tree (default: a temporary folder, removed after)')
    a = ap.parse_args()
    root = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix='msls_nb_index_'))
    try:
        marker = root / f'.built-{a.files}'
        if not marker.exists():
            _, t = timed(lambda: build_tree(root, a.files)); marker.touch()
            print(json.dumps(dict(bench='data_index', step='build tree (not timed below)', seconds=round(t, 2))), flush=True)
        files = list_images(root)                      # warm the dentry cache once
        n = len(files)
        steps = [('list_images', lambda: list_images(root)),
                 ('select_images', lambda: select_images(root)),
                 ('select_images day + exclude_pano (CSVs)', lambda: select_images(root, time_of_day='day', exclude_pano=True)),
                 ('city_counts', lambda: city_counts(root)),
                 ('source_fingerprint (stat per file)', lambda: source_fingerprint(root, files)),
                 ('suspect_files (2 reads per file, 8 threads)', lambda: suspect_files([str(root / f) for f in files]))]
        for name, fn in steps:
            out, t = timed(fn)
            extra = dict(selected=len(out)) if hasattr(out, 'files') else {}
            if name.startswith('suspect'): extra = dict(suspects=len(out))
            print(json.dumps(dict(bench='data_index', step=name, files=n, **extra, seconds=round(t, 3), files_per_s=round(n / t),
                                  est_seconds_1_2M=round(t * 1_200_000 / n, 1), cpu=platform.processor() or platform.machine(), cores=os.cpu_count())), flush=True)
    finally:
        if not a.dir: shutil.rmtree(root, ignore_errors=True)

if __name__ == '__main__': main()
