"""Runs moe_step.py once per configuration (one process each) and appends each row to OUT/moe-steps.csv as it
finishes.  Usage: python3 moe_sweep.py OUT [first] [last] [budget_s]
(configurations first..last-1 of CONFIGS; no new one starts once budget_s has passed).  Up to SWEEP_PARALLEL
processes (default 3) start at once; only the one holding OUT/.gpu.lock builds its model and runs on the GPU."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from moe_step import HEADER  # noqa: E402

# Three families of widths and depths; in each, a dense twin (experts 1) and MoE layers whose expert width
# times k is the dense FFN width ("equal activated parameters": E8 k1 F, E16 k2 F/2, E32 k4 F/4, E64 k8 F/8),
# plus the other dispatches, capacity factors and shared experts.
A = dict(family='a', d_model=512, layers=6, heads=8, kv_heads=2, head_dim=64, vocab=32000, seq=1024, batch=16,
         ffn_dense=2048)
B = dict(family='b', d_model=1024, layers=8, heads=16, kv_heads=4, head_dim=64, vocab=32000, seq=1024, batch=16,
         ffn_dense=4096)
C = dict(family='c', d_model=2048, layers=4, heads=16, kv_heads=4, head_dim=128, vocab=32000, seq=2048, batch=8,
         ffn_dense=6144)


def cfg(fam, name, split, E=1, k=1, fe=0, dispatch='dropless', cf=1.0, shared=0, first=0, every=1):
    c = dict(fam)
    c.update(name=name, split=split, tokens=fam['seq'] * fam['batch'], experts=E, top_k=k,
             ffn_expert=fe if E > 1 else 0, shared=shared, first_dense=first, moe_every=every,
             dispatch=dispatch if E > 1 else 'none', capacity_factor=cf)
    return c


# The split was fixed here, before any prediction was made: a third or fewer are calibration rows.
CONFIGS = [
    # ---- family a: d 512, 6 layers, F 2048 ----
    cfg(A, 'a-dense', 'calibration'),
    cfg(A, 'a-e8k1', 'holdout', 8, 1, 2048),
    cfg(A, 'a-e16k2', 'calibration', 16, 2, 1024),
    cfg(A, 'a-e32k4', 'holdout', 32, 4, 512),
    cfg(A, 'a-e64k8', 'holdout', 64, 8, 256),
    cfg(A, 'a-e8k2', 'holdout', 8, 2, 2048),
    cfg(A, 'a-e8k2-pad-cf1', 'calibration', 8, 2, 2048, 'padded', 1.0),
    cfg(A, 'a-e8k2-pad-cf2', 'holdout', 8, 2, 2048, 'padded', 2.0),
    cfg(A, 'a-e32k4-pad-cf1.25', 'holdout', 32, 4, 512, 'padded', 1.25),
    cfg(A, 'a-e32-ec-cf1', 'calibration', 32, 1, 512, 'expert-choice', 1.0),
    cfg(A, 'a-e64-ec-cf2', 'holdout', 64, 1, 256, 'expert-choice', 2.0),
    cfg(A, 'a-e64k6-s2-d1', 'holdout', 64, 6, 256, shared=2, first=1),
    cfg(A, 'a-e128k8', 'holdout', 128, 8, 256),
    cfg(A, 'a-e16k2-m2', 'holdout', 16, 2, 1024, every=2),
    # ---- family b: d 1024, 8 layers, F 4096 ----
    cfg(B, 'b-dense', 'calibration'),
    cfg(B, 'b-e8k1', 'holdout', 8, 1, 4096),
    cfg(B, 'b-e16k2', 'holdout', 16, 2, 2048),
    cfg(B, 'b-e32k4', 'calibration', 32, 4, 1024),
    cfg(B, 'b-e64k8', 'holdout', 64, 8, 512),
    cfg(B, 'b-e8k2-pad-cf1.5', 'calibration', 8, 2, 4096, 'padded', 1.5),
    cfg(B, 'b-e64k8-pad-cf1', 'holdout', 64, 8, 512, 'padded', 1.0),
    cfg(B, 'b-e64k8-pad-cf2', 'holdout', 64, 8, 512, 'padded', 2.0),
    cfg(B, 'b-e32-ec-cf1', 'holdout', 32, 1, 1024, 'expert-choice', 1.0),
    cfg(B, 'b-e64-ec-cf2', 'calibration', 64, 1, 512, 'expert-choice', 2.0),
    cfg(B, 'b-e64k6-s2-d1', 'holdout', 64, 6, 512, shared=2, first=1),
    cfg(B, 'b-e16k4-s1', 'holdout', 16, 4, 1024, shared=1),
    cfg(B, 'b-e128k8', 'holdout', 128, 8, 512),
    # ---- family c: d 2048, 4 layers, F 6144 ----
    cfg(C, 'c-dense', 'calibration'),
    cfg(C, 'c-e8k1', 'holdout', 8, 1, 6144),
    cfg(C, 'c-e16k2', 'holdout', 16, 2, 3072),
    cfg(C, 'c-e32k4', 'holdout', 32, 4, 1536),
    cfg(C, 'c-e64k8', 'calibration', 64, 8, 768),
    cfg(C, 'c-e8k2-pad-cf1.25', 'holdout', 8, 2, 6144, 'padded', 1.25),
    cfg(C, 'c-e64k8-pad-cf1', 'calibration', 64, 8, 768, 'padded', 1.0),
    cfg(C, 'c-e16-ec-cf1', 'calibration', 16, 1, 3072, 'expert-choice', 1.0),
    cfg(C, 'c-e64-ec-cf1.5', 'holdout', 64, 1, 768, 'expert-choice', 1.5),
    cfg(C, 'c-e64k6-s2-d1', 'holdout', 64, 6, 768, shared=2, first=1),
    cfg(C, 'c-e128k8', 'holdout', 128, 8, 768),
]


PROCESS_TIMEOUT_S = 240     # a process still running after this is killed (its row is lost, the log says so)


def main():
    out = sys.argv[1]
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    last = int(sys.argv[3]) if len(sys.argv) > 3 else len(CONFIGS)
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1e9
    parallel = int(os.environ.get('SWEEP_PARALLEL', '3'))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'moe-steps.csv')
    log = open(os.path.join(out, 'sweep.log'), 'a')
    lock = os.path.join(out, '.gpu.lock')
    new = not os.path.exists(path)
    f = open(path, 'a')
    if new:
        f.write(','.join(HEADER) + '\n')
        f.flush()
    t_start = time.time()
    # families interleaved (a, b, c, a, ...), so that a budget cut short still leaves rows of every family
    chosen = CONFIGS[first:last]
    fams = [[c for c in chosen if c['family'] == f] for f in sorted({c['family'] for c in chosen})]
    todo = [fam[i] for i in range(max(len(fam) for fam in fams)) for fam in fams if i < len(fam)]
    running = []
    while todo or running:
        while todo and len(running) < parallel and time.time() - t_start < budget:
            c = todo.pop(0)
            args = [sys.executable, os.path.join(HERE, 'moe_step.py'), '--config', json.dumps(c), '--lock', lock]
            running.append((c, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                            time.time()))
        if todo and time.time() - t_start >= budget:
            log.write('budget spent: not started %s\n' % ' '.join(c['name'] for c in todo))
            todo = []
        for r in running:
            if r[1].poll() is None and time.time() - r[2] > PROCESS_TIMEOUT_S:
                r[1].kill()
        for r in [r for r in running if r[1].poll() is not None]:
            c, p, t0 = r
            so, se = p.communicate()
            running.remove(r)
            log.write('%s rc=%d %.1fs\n%s\n' % (c['name'], p.returncode, time.time() - t0, se[-3000:]))
            log.flush()
            if p.returncode == 0 and so.strip():
                f.write(so.strip().splitlines()[-1] + '\n')
                f.flush()
            print(c['name'], p.returncode, '%.1fs' % (time.time() - t0), flush=True)
        time.sleep(0.2)
    f.close()


if __name__ == '__main__':
    main()
