"""Times one expert-parallel training step of the switch_step.py model on the GPUs of one node.

Runs on a GPU machine only (JAX); never built or run by make.  One process drives n GPUs (JAX SPMD, one
program per GPU under shard_map); it prints one CSV row (no header).  ep_sweep.py runs one process per
configuration.  The layout is switchsim's plan data=n, model=1 (sim/plan.c):
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
    cfg = ap.parse_args()
    n = cfg.gpus
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

    lock = open(cfg.lock, 'w') if cfg.lock else None
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    params = init(key)
    state = opt_init(params)
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    enc_tok = jax.device_put(jax.random.randint(k1, (B, cfg.enc_seq), 0, cfg.vocab, dtype=jnp.int32), sh)
    dec_tok = jax.device_put(jax.random.randint(k2, (B, cfg.dec_seq), 0, cfg.vocab, dtype=jnp.int32), sh)
    tgt = jax.device_put(jnp.roll(dec_tok, -1, axis=1), sh)
    first_loss = None
    for i in range(cfg.warmup):
        params, state, loss = compiled(params, state, enc_tok, dec_tok, tgt)
        if i == 0:
            first_loss = float(loss[0])
    jax.block_until_ready((params, state, loss))
    times = []
    for _ in range(cfg.steps):
        t0 = time.perf_counter()
        params, state, loss = compiled(params, state, enc_tok, dec_tok, tgt)
        jax.block_until_ready((params, state, loss))
        times.append(time.perf_counter() - t0)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
    times.sort()
    med = float(np.median(times))
    vals = [getattr(cfg, f) for f in ss.FIELDS]
    row = vals + [n, cfg.split, '%.4f' % (med * 1e3), '%.4f' % (times[0] * 1e3), '%.4f' % (times[-1] * 1e3),
                  cfg.steps, groups, C_enc, C_dec, '%.1f' % compile_s, '%.5f' % first_loss,
                  '%.4f' % float(loss[0]), jax.devices()[0].device_kind.replace(',', ' '), jax.__version__,
                  time.strftime('%Y-%m-%d')]
    print(','.join(str(v) for v in row), flush=True)


HEADER = ss.FIELDS + ['gpus', 'split', 'step_ms', 'step_min_ms', 'step_max_ms', 'timed_steps', 'groups',
                      'capacity_enc', 'capacity_dec', 'compile_s', 'loss_first', 'loss', 'device', 'jax_version',
                      'date']

if __name__ == '__main__':
    main()
