"""Runs switch_step.py once per configuration (one process each: no memory carried over) and appends each
row to OUT/h200-switch-steps.csv as it finishes.  Usage: python3 sweep.py OUT [first] [last] [budget_s]
(configurations first..last-1 of CONFIGS; stops starting new ones once budget_s has passed)."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from switch_step import FIELDS  # noqa: E402

HEADER = FIELDS + ['split', 'step_ms', 'step_min_ms', 'step_max_ms', 'timed_steps', 'groups', 'capacity_enc',
                   'capacity_dec', 'xla_kernels', 'compile_s', 'loss', 'device', 'jax_version', 'date']

# Two model families (widths and depths) and their dense twins.  Fields after the name:
# d_model d_ff heads d_kv enc dec expert_every experts tokens_per_batch cf group min_cap top_k
S = dict(d_model=512, d_ff=2048, ffn_act='relu', heads=8, d_kv=64, enc_layers=6, dec_layers=6)
M = dict(d_model=768, d_ff=3072, ffn_act='relu', heads=12, d_kv=64, enc_layers=12, dec_layers=12)
COMMON = dict(vocab=32128, enc_seq=512, dec_seq=114, min_capacity=4)


def cfg(fam, name, split, E, tokens, cf=1.25, group=1024, k=1):
    c = dict(fam)
    c.update(COMMON)
    c.update(name=name, expert_every=2 if E > 1 else 0, experts=E, tokens_per_batch=tokens,
             capacity_factor=cf, group_size=group, top_k=k, split=split)
    return c


T16K, T32K, T8K = 16384, 32768, 8192
CONFIGS = [
    # ---- family S (d512, 6+6 layers) ----
    cfg(S, 'gs-dense', 'calibration', 1, T16K),
    cfg(S, 'gs-e8', 'holdout', 8, T16K),
    cfg(S, 'gs-e32', 'calibration', 32, T16K),
    cfg(S, 'gs-e128', 'holdout', 128, T16K),
    cfg(S, 'gs-e32-cf0.5', 'holdout', 32, T16K, cf=0.5),
    cfg(S, 'gs-e32-cf1', 'holdout', 32, T16K, cf=1.0),
    cfg(S, 'gs-e32-cf2', 'holdout', 32, T16K, cf=2.0),
    cfg(S, 'gs-e32-cf4', 'calibration', 32, T16K, cf=4.0),
    cfg(S, 'gs-e32-top2', 'holdout', 32, T16K, k=2),
    cfg(S, 'gs-e32-top2-cf2', 'holdout', 32, T16K, cf=2.0, k=2),
    cfg(S, 'gs-e32-g4096', 'holdout', 32, T16K, group=4096),
    cfg(S, 'gs-e32-g4096-top2', 'calibration', 32, T16K, group=4096, k=2),
    cfg(S, 'gs-e64-g256', 'holdout', 64, T16K, group=256),
    cfg(S, 'gs-dense-b64', 'holdout', 1, T32K * 1),
    cfg(S, 'gs-e32-b64', 'holdout', 32, T32K),
    cfg(S, 'gs-e128-b64-top2', 'calibration', 128, T32K, cf=2.0, k=2),
    cfg(S, 'gs-e16-b64-cf3', 'holdout', 16, T32K, cf=3.0),
    cfg(S, 'gs-e8-top2-cf0.75', 'holdout', 8, T16K, cf=0.75, k=2),
    # ---- family M (d768, 12+12 layers: switch-base widths) ----
    cfg(M, 'gm-dense', 'calibration', 1, T16K),
    cfg(M, 'gm-e8', 'holdout', 8, T16K, group=2048),
    cfg(M, 'gm-e32', 'holdout', 32, T16K, group=2048),
    cfg(M, 'gm-e128', 'calibration', 128, T16K, group=2048),
    cfg(M, 'gm-e64-cf0.5', 'holdout', 64, T16K, cf=0.5, group=2048),
    cfg(M, 'gm-e64-cf1', 'holdout', 64, T16K, cf=1.0, group=2048),
    cfg(M, 'gm-e64-cf2', 'calibration', 64, T16K, cf=2.0, group=2048),
    cfg(M, 'gm-e64-cf4', 'holdout', 64, T16K, cf=4.0, group=2048),
    cfg(M, 'gm-e64-top2', 'holdout', 64, T16K, group=2048, k=2),
    cfg(M, 'gm-e64-top2-cf2', 'holdout', 64, T16K, cf=2.0, group=2048, k=2),
    cfg(M, 'gm-e64-g512', 'holdout', 64, T16K, group=512),
    cfg(M, 'gm-e64-g8192', 'holdout', 64, T16K, group=8192),
    cfg(M, 'gm-dense-b16', 'holdout', 1, T8K),
    cfg(M, 'gm-e32-b16', 'holdout', 32, T8K, group=2048),
    cfg(M, 'gm-e32-b64-top2', 'holdout', 32, T32K, group=2048, k=2),
    cfg(M, 'gm-e128-b64', 'holdout', 128, T32K, group=4096),
    cfg(M, 'gm-e16-top2-cf3', 'holdout', 16, T16K, cf=3.0, group=2048, k=2),
    cfg(M, 'gm-e8-b16-cf1.5', 'holdout', 8, T8K, cf=1.5, group=1024),
]


def run_configs(configs, script, path, header, out, budget=1e9, parallel=3):
    """Runs 'script' once per configuration (a dict of its options), at most 'parallel' processes at once,
    appending each process's last stdout line to the CSV 'path' (header written first if the file is new);
    stderr and exit status go to OUT/sweep.log.  No new process starts once 'budget' seconds have passed."""
    log = open(os.path.join(out, 'sweep.log'), 'a')
    lock = os.path.join(out, '.gpu.lock')
    new = not os.path.exists(path)
    t_start = time.time()
    f = open(path, 'a')
    if new:
        f.write(','.join(header) + '\n')
        f.flush()
    todo = list(configs)
    running = []
    # Up to 'parallel' processes at once: they compile at the same time (CPU only: autotuning is off, see
    # README), but only the one holding the lock file touches the GPU, so timings do not overlap.
    while todo or running:
        while todo and len(running) < parallel and time.time() - t_start < budget:
            c = todo.pop(0)
            args = [sys.executable, script, '--lock', lock]
            for k, v in c.items():
                args += ['--' + k, str(v)]
            p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            running.append((c, p, time.time()))
        if time.time() - t_start >= budget and todo:
            log.write('budget spent: not started %s\n' % ' '.join(c['name'] for c in todo))
            todo = []
        done = [r for r in running if r[1].poll() is not None]
        for r in done:
            c, p, t0 = r
            so, se = p.communicate()
            running.remove(r)
            log.write('%s rc=%d %.1fs\n%s\n' % (c['name'], p.returncode, time.time() - t0, se[-2000:]))
            log.flush()
            if p.returncode == 0 and so.strip():
                f.write(so.strip().splitlines()[-1] + '\n')
                f.flush()
            print(c['name'], p.returncode, '%.1fs' % (time.time() - t0), flush=True)
        time.sleep(0.2)
    f.close()


def main():
    out = sys.argv[1]
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    last = int(sys.argv[3]) if len(sys.argv) > 3 else len(CONFIGS)
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1e9
    run_configs(CONFIGS[first:last], os.path.join(HERE, 'switch_step.py'), os.path.join(out, 'h200-switch-steps.csv'),
                HEADER, out, budget, int(os.environ.get('SWEEP_PARALLEL', '3')))


if __name__ == '__main__':
    main()
