"""Times one expert-parallel training step of the switch_step.py model on the GPUs of one node.

Runs on a GPU machine only (JAX); never built or run by make.  It prints one CSV row (no header); ep_sweep.py
runs it once per configuration.  --launch per-gpu (the default) starts one process per GPU, joined by
jax.distributed (process 0 prints the row), as NCCL programs run; --launch single drives every GPU from this
one process.  Either way JAX runs one SPMD program per GPU under shard_map, and XLA's collectives go through
NCCL.  The layout is switchsim's plan data=n, model=1 (sim/plan.c):
  - the batch is split over the n GPUs (data parallel); each GPU routes its own tokens in groups of at most
    group_size encoder tokens, the fewest that split its shard evenly (switch_step.num_groups on the shard);
  - the E experts of every Switch layer are split over the same n GPUs, E/n each (E >= n);
  - dispatch: each GPU builds its [E, G, C, D] capacity buffers with the one-hot einsum, an all-to-all sends
    each expert's buffers to the GPU that holds it ([E/n, n G, C, D] arrive), the local experts run, and the
    transposed all-to-all brings the outputs back before the combine einsum (padded: whole buffers travel);
  - the gradients of the replicated (dense) parameters are averaged over the GPUs by an all-reduce (fp32);
    expert gradients stay where their expert lives; Adafactor updates every GPU's parameters.
Each GPU's parameters and optimizer state carry a leading axis of size n sharded over the GPUs, so that under
shard_map every value is per-GPU and the only communication is the explicit all_to_all and pmean.
With n = 1 the program is switch_step.py's step (the all-to-alls vanish): a check of the harness.
"""
import argparse
import fcntl
import os
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

import switch_step as ss

AXIS = 'gpu'


def is_expert(path):
    keys = [getattr(k, 'key', None) for k in path]
    return 'switch' in keys and keys[-1] in ('wi', 'wo')


def switch_ffn_ep(n):
    def ffn(p, x, groups, E, C, k):
        B, T, D = x.shape
        S = B * T // groups
        xg = x.reshape(groups, S, D)
        disp, comb, aux = ss.route(p['router'], xg, E, C, k)
        xin = jnp.einsum('gsec,gsd->egcd', disp, xg)                              # [E, G, C, D]
        if n > 1:
            xin = jax.lax.all_to_all(xin, AXIS, 0, 1, tiled=True)                 # [E/n, n G, C, D]
        El = xin.shape[0]
        out = ss.experts(p, xin.reshape(El, -1, D)).reshape(El, -1, C, D)
        if n > 1:
            out = jax.lax.all_to_all(out, AXIS, 1, 0, tiled=True)                 # [E, G, C, D]
        y = jnp.einsum('gsec,egcd->gsd', comb, out)
        return y.reshape(B, T, D), aux
    return ffn


def main():
    ap = argparse.ArgumentParser()
    for f in ss.FIELDS:
        ap.add_argument('--' + f, type=str if f in ('name', 'ffn_act') else
                        (float if f == 'capacity_factor' else int), required=True)
    ap.add_argument('--gpus', type=int, required=True)
    ap.add_argument('--split', default='holdout')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--lock', default='')
    ap.add_argument('--launch', choices=('per-gpu', 'single'), default='per-gpu')
    ap.add_argument('--rank', type=int, default=-1, help=argparse.SUPPRESS)   # set by the per-gpu launcher
    ap.add_argument('--port', type=int, default=0, help=argparse.SUPPRESS)
    cfg = ap.parse_args()
    n = cfg.gpus
    if cfg.launch == 'per-gpu' and cfg.rank < 0:
        return launch(cfg, n)
    if cfg.rank >= 0:
        if os.environ.get('JAX_PLATFORMS', '') == 'cpu':
            jax.config.update('jax_cpu_collectives_implementation', 'gloo')
        jax.distributed.initialize('127.0.0.1:%d' % cfg.port, num_processes=n, process_id=cfg.rank,
                                   local_device_ids=None if os.environ.get('JAX_PLATFORMS', '') == 'cpu'
                                   else [cfg.rank])
    devs = jax.devices()
    if len(devs) < n:
        raise SystemExit('ep_step.py: %d GPUs asked, %d present' % (n, len(devs)))
    mesh = Mesh(np.array(devs[:n]), (AXIS,))
    sh = NamedSharding(mesh, P(AXIS))
    B = cfg.tokens_per_batch // cfg.enc_seq
    if B % n:
        raise SystemExit('ep_step.py: %d sequences do not split over %d GPUs' % (B, n))
    Bl = B // n
    E = cfg.experts if cfg.expert_every > 0 else 1
    if cfg.expert_every > 0 and E % n:
        raise SystemExit('ep_step.py: %d experts do not split over %d GPUs' % (E, n))
    t_enc, t_dec = Bl * cfg.enc_seq, Bl * cfg.dec_seq
    groups = ss.num_groups(t_enc, t_dec, cfg.group_size)
    C_enc = ss.capacity(cfg.capacity_factor, t_enc // groups, E, cfg.min_capacity)
    C_dec = ss.capacity(cfg.capacity_factor, t_dec // groups, E, cfg.min_capacity)

    loss_fn = ss.make_loss(cfg, groups, C_enc, C_dec, sparse_ffn=switch_ffn_ep(n))
    opt = optax.adafactor(learning_rate=1e-3)
    first = lambda t: jax.tree.map(lambda a: a[0], t)        # noqa: E731 (drop the per-GPU axis)
    lead = lambda t: jax.tree.map(lambda a: a[None], t)       # noqa: E731

    def local_step(params, state, enc_tok, dec_tok, tgt):
        params, state = first(params), first(state)
        loss, grads = jax.value_and_grad(loss_fn)(params, enc_tok, dec_tok, tgt)
        # the step's loss is the mean of the GPUs' losses: dense gradients are averaged, an expert's gradient
        # (complete on its GPU: the all-to-all's transpose brought every GPU's part) is divided by n
        grads = jax.tree_util.tree_map_with_path(
            lambda path, g: g / n if is_expert(path) else jax.lax.pmean(g, AXIS), grads)
        upd, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, upd)
        return lead(params), lead(state), jax.lax.pmean(loss, AXIS)[None]

    step = jax.jit(jax.shard_map(local_step, mesh=mesh, in_specs=(P(AXIS),) * 5, out_specs=(P(AXIS),) * 3),
                   donate_argnums=(0, 1))

    def init_stacked(key):
        # the global parameters (switch_step's init), then the per-GPU view: replicated leaves copied, the
        # expert axis of expert leaves split into (n, E/n)
        g = ss.init_params(cfg, key)

        def split(path, a):
            if is_expert(path):
                a = a.reshape((a.shape[0], n, a.shape[1] // n) + a.shape[2:])
                return jnp.moveaxis(a, 1, 0)
            return jnp.broadcast_to(a, (n,) + a.shape)
        return jax.tree_util.tree_map_with_path(split, g)

    init = jax.jit(init_stacked, out_shardings=sh)
    opt_init = jax.jit(jax.shard_map(lambda p: lead(opt.init(first(p))), mesh=mesh, in_specs=P(AXIS),
                                     out_specs=P(AXIS)))
    key = jax.random.PRNGKey(0)
    p_shape = jax.eval_shape(init, key)
    s_shape = jax.eval_shape(opt_init, p_shape)
    tok = jax.ShapeDtypeStruct((B, cfg.enc_seq), jnp.int32, sharding=sh)
    dtok = jax.ShapeDtypeStruct((B, cfg.dec_seq), jnp.int32, sharding=sh)
    p_shape = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sh), p_shape)
    s_shape = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sh), s_shape)
    t0 = time.perf_counter()
    compiled = step.lower(p_shape, s_shape, tok, dtok, dtok).compile()
    compile_s = time.perf_counter() - t0

    lock = open(cfg.lock, 'w') if cfg.lock and cfg.rank < 0 else None   # per-gpu: the launcher holds it
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    params = init(key)
    state = opt_init(params)
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    # made by jitted programs with sharded outputs, so that each process holds only its GPU's part
    enc_tok = jax.jit(lambda k: jax.random.randint(k, (B, cfg.enc_seq), 0, cfg.vocab, dtype=jnp.int32),
                      out_shardings=sh)(k1)
    dec_tok = jax.jit(lambda k: jax.random.randint(k, (B, cfg.dec_seq), 0, cfg.vocab, dtype=jnp.int32),
                      out_shardings=sh)(k2)
    tgt = jax.jit(lambda d: jnp.roll(d, -1, axis=1), out_shardings=sh)(dec_tok)
    local = lambda a: float(np.asarray(a.addressable_shards[0].data)[0])   # noqa: E731 (the pmean'd loss)
    params, state, first, loss, times = ss.run_timed(compiled, params, state, (enc_tok, dec_tok, tgt),
                                                     cfg.warmup, cfg.steps)
    first_loss = local(first)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
    if cfg.rank > 0:
        return 0
    med = float(np.median(times))
    vals = [getattr(cfg, f) for f in ss.FIELDS]
    row = vals + [n, cfg.split, '%.4f' % (med * 1e3), '%.4f' % (times[0] * 1e3), '%.4f' % (times[-1] * 1e3),
                  cfg.steps, groups, C_enc, C_dec, '%.1f' % compile_s, '%.5f' % first_loss,
                  '%.4f' % local(loss), jax.devices()[0].device_kind.replace(',', ' '), jax.__version__,
                  time.strftime('%Y-%m-%d')]
    print(','.join(str(v) for v in row), flush=True)
    return 0


def launch(cfg, n):
    """--launch per-gpu: this same program once per GPU (rank r on GPU r), joined through a coordinator on a
    free local port; process 0's row is this process's output."""
    import socket
    with socket.socket() as so:
        so.bind(('127.0.0.1', 0))
        port = so.getsockname()[1]
    lock = open(cfg.lock, 'w') if cfg.lock else None
    if lock is not None:                  # the ranks compile and run under it: no other run shares the GPUs
        fcntl.flock(lock, fcntl.LOCK_EX)
    procs = []
    for r in range(n):
        args = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:] + ['--rank', str(r), '--port', str(port)]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE if r == 0 else subprocess.DEVNULL, text=True))
    out, _ = procs[0].communicate()
    rc = 0
    for p in procs:
        try:
            rc = max(rc, abs(p.wait(timeout=120)))
        except subprocess.TimeoutExpired:   # a rank left waiting for one that failed
            p.kill()
            rc = max(rc, 1)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
    sys.stdout.write(out)
    sys.stdout.flush()
    return rc


HEADER = ss.FIELDS + ['gpus', 'split', 'step_ms', 'step_min_ms', 'step_max_ms', 'timed_steps', 'groups',
                      'capacity_enc', 'capacity_dec', 'compile_s', 'loss_first', 'loss', 'device', 'jax_version',
                      'date']

if __name__ == '__main__':
    sys.exit(main())
