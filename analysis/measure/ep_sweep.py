"""Runs ep_step.py once per configuration and GPU count (one process each) and appends each row to
OUT/h200-ep-steps.csv as it finishes.  Usage: python3 ep_sweep.py OUT GPU_COUNTS [budget_s]
(GPU_COUNTS a comma list, e.g. 1 or 2,4,8).  A row's name ends in -xN, N its GPUs.  Weak scaling: every GPU holds 16 sequences of 512 tokens
(8192 encoder tokens), so a configuration on n GPUs has a batch of 8192 n tokens."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ep_step import HEADER  # noqa: E402
from sweep import COMMON, M, S, run_configs  # noqa: E402

TOKENS_PER_GPU = 8192


def cfg(fam, name, E, cf=1.25, k=1):
    c = dict(fam)
    c.update(COMMON)
    c.update(name=name, expert_every=2 if E > 1 else 0, experts=E, capacity_factor=cf, top_k=k,
             group_size=2048 if fam is M else 1024, split='holdout')
    return c


# 12 Switch configurations (top-1 and top-2; capacity factors 1.0, 1.25, 2.0) and their 2 dense twins.
CONFIGS = [
    cfg(M, 'epm-dense', 1),
    cfg(M, 'epm-e8', 8),
    cfg(M, 'epm-e32', 32),
    cfg(M, 'epm-e64', 64),
    cfg(M, 'epm-e32-cf1', 32, cf=1.0),
    cfg(M, 'epm-e32-cf2', 32, cf=2.0),
    cfg(M, 'epm-e32-top2-cf1', 32, cf=1.0, k=2),
    cfg(M, 'epm-e32-top2', 32, k=2),
    cfg(M, 'epm-e32-top2-cf2', 32, cf=2.0, k=2),
    cfg(S, 'eps-dense', 1),
    cfg(S, 'eps-e16', 16),
    cfg(S, 'eps-e16-cf1', 16, cf=1.0),
    cfg(S, 'eps-e64', 64),
    cfg(S, 'eps-e64-top2-cf2', 64, cf=2.0, k=2),
]


def main():
    out = sys.argv[1]
    counts = [int(v) for v in sys.argv[2].split(',')]
    budget = float(sys.argv[3]) if len(sys.argv) > 3 else 1e9
    runs = []
    for n in counts:
        for c in CONFIGS:
            r = dict(c)
            r.update(name='%s-x%d' % (c['name'], n), gpus=n, tokens_per_batch=TOKENS_PER_GPU * n)
            runs.append(r)
    run_configs(runs, os.path.join(HERE, 'ep_step.py'), os.path.join(out, 'h200-ep-steps.csv'), HEADER, out,
                budget, int(os.environ.get('SWEEP_PARALLEL', '3')))


if __name__ == '__main__':
    main()
