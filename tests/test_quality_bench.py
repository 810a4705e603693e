"bench/quality.py's coverage measures: the sample streets keep their (city, time of day) labels, and the judge's verdicts count."
import importlib.util
from collections import Counter
import torch
from conftest import REPO

spec = importlib.util.spec_from_file_location('quality', REPO / 'bench' / 'quality.py')
bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)

def test_sample_streets_keep_city_and_time_of_day(tmp_path):
    train, held = bench.sample_folders(tmp_path)
    labels, classes = bench.sample_labels(tmp_path)
    assert classes == [f'{c} {t}' for c in ('amsterdam', 'helsinki', 'melbourne', 'tokyo') for t in ('day', 'night')]
    x, y = bench.load_folder(train, 3, labels)
    xh, yh = bench.load_folder(held, 3, labels)
    assert (x.shape, xh.shape) == ((192, 3, 32, 32), (96, 3, 32, 32))
    # every city: 9 sequences of 8 frames, 3 of them at night (postprocessed.csv's `night`)
    assert Counter(torch.cat([y, yh]).tolist()) == {i: 24 if i % 2 else 48 for i in range(8)}

class Constant(torch.nn.Module):
    "A judge that gives every image the same class."
    def __init__(self, cls:int, n:int=8): super().__init__(); self.logits = torch.nn.functional.one_hot(torch.tensor(cls), n) * 20.
    def forward(self, x): return self.logits.expand(len(x), -1)

def test_a_collapsed_generator_is_counted_as_collapsed():
    images = torch.zeros(64, 3, 32, 32)
    stats = bench.classifier_stats(Constant(2), images, reference_shares=[2, 1] * 4)
    assert (stats['modes'], stats['complete']) == (1, False)
    assert abs(stats['max_share_ratio'] - 6) < 1e-9 and abs(stats['score'] - 1) < 1e-3

def test_precision_recall_sets_are_unseen_by_the_judge_and_of_equal_size():
    held, train = torch.randn(300, 4), torch.randn(1497, 4)
    reals, pairs = bench.pr_sets(held, train, judge_saw_train=True)
    assert [len(r) for r in reals] == [150, 150] and all(len(a) == len(b) == 150 for a, b in pairs)
    reals, pairs = bench.pr_sets(held[:96], train[:192], judge_saw_train=False)
    assert [len(r) for r in reals] == [96] and len(pairs) == 1
