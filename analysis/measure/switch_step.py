"""Times one jitted training step of a T5-style encoder-decoder with a Switch FFN in every other layer.

Runs on a GPU machine only (JAX); never built or run by make.  One process measures one configuration and
prints one CSV row (no header) on stdout; sweep.py runs one process per configuration.

The program is written the way switchsim models it (sim/README.md, models/README.md):
  - T5 layers: RMS norm, multi-head attention (no logit scaling, no dropout), residual; RMS norm, FFN (ReLU),
    residual.  The decoder adds causal self-attention and cross-attention.  Tied embeddings; the vocab logits
    and the cross-entropy in fp32.
  - Switch layer (every other FFN, the odd ones): tokens in G groups of S; the router in fp32 (logits with
    precision HIGHEST, softmax); top-1 or top-2 (all first choices of a group placed before any second
    choice); capacity C = max(min(S, int(S*cf/E)), min_capacity) per group; padded one-hot dispatch and
    combine einsums over [G,S,E,C] in bf16; the expert FFN as batched einsums over E; load-balancing loss.
  - bf16 matmuls with fp32 master weights; Adafactor (optax) update.
  - Groups: the fewest groups of at most group_size encoder tokens that split both the encoder and the
    decoder tokens evenly (decoder layers use as many groups, of fewer tokens), as switchsim's plan does.
"""
import argparse
import fcntl
import math
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

BF16 = jnp.bfloat16
F32 = jnp.float32


def capacity(cf, S, E, min_cap):
    c = int(math.floor(S * cf / E))
    c = min(c, S)
    return min(max(c, min_cap), S)


def num_groups(tokens_enc, tokens_dec, group_size):
    g = -(-tokens_enc // group_size)
    while g < tokens_enc and (tokens_enc % g or tokens_dec % g):
        g += 1
    return g


def rms_norm(x, w):
    xf = x.astype(F32)
    y = xf * jax.lax.rsqrt(jnp.mean(xf * xf, axis=-1, keepdims=True) + 1e-6)
    return (y * w).astype(BF16)


def attention(p, x, kv, causal):
    # x [B,T,D], kv [B,Tk,D]; weights (D,H,dk) and (H,dk,D), fp32 masters cast to bf16
    q = jnp.einsum('btd,dhk->bthk', x, p['wq'].astype(BF16))
    k = jnp.einsum('btd,dhk->bthk', kv, p['wk'].astype(BF16))
    v = jnp.einsum('btd,dhk->bthk', kv, p['wv'].astype(BF16))
    s = jnp.einsum('bqhk,bthk->bhqt', q, k, preferred_element_type=F32)
    if causal:
        T = x.shape[1]
        mask = jnp.tril(jnp.ones((T, T), dtype=bool))
        s = jnp.where(mask, s, -1e9)
    pr = jax.nn.softmax(s, axis=-1).astype(BF16)
    o = jnp.einsum('bhqt,bthk->bqhk', pr, v)
    return jnp.einsum('bqhk,hkd->bqd', o, p['wo'].astype(BF16))


def dense_ffn(p, x):
    h = jax.nn.relu(jnp.einsum('btd,df->btf', x, p['wi'].astype(BF16)))
    return jnp.einsum('btf,fd->btd', h, p['wo'].astype(BF16))


def route(router, xg, E, C, k):
    """The router of one Switch layer over groups xg [G,S,D]: the bf16 dispatch and combine tensors
    [G,S,E,C] and the load-balancing loss."""
    logits = jnp.einsum('gsd,de->gse', xg.astype(F32), router,
                        precision=jax.lax.Precision.HIGHEST)
    probs = jax.nn.softmax(logits, axis=-1)
    idx1 = jnp.argmax(probs, axis=-1)
    mask1 = jax.nn.one_hot(idx1, E, dtype=F32)                   # [G,S,E]
    gate1 = jnp.sum(probs * mask1, axis=-1)                       # [G,S]
    pos1 = jnp.cumsum(mask1, axis=1) - mask1                      # exclusive position in its expert
    keep1 = mask1 * (pos1 < C)
    # load-balancing loss (alpha 0.01): E * sum_e f_e P_e, averaged over groups
    density = jnp.mean(mask1, axis=1)
    proxy = jnp.mean(probs, axis=1)
    aux = 0.01 * jnp.mean(jnp.sum(density * proxy, axis=-1)) * E
    slot1 = jnp.sum(pos1 * keep1, axis=-1).astype(jnp.int32)      # [G,S]
    kept1 = jnp.sum(keep1, axis=-1)                               # [G,S] 0/1
    disp = kept1[..., None, None] * mask1[..., None] * jax.nn.one_hot(slot1, C, dtype=F32)[:, :, None, :]
    if k == 1:
        comb = disp * gate1[..., None, None]
    else:
        probs2 = probs * (1.0 - mask1)
        idx2 = jnp.argmax(probs2, axis=-1)
        mask2 = jax.nn.one_hot(idx2, E, dtype=F32)
        gate2 = jnp.sum(probs * mask2, axis=-1)
        first_count = jnp.sum(mask1, axis=1, keepdims=True)      # all first choices go first
        pos2 = jnp.cumsum(mask2, axis=1) - mask2 + first_count
        keep2 = mask2 * (pos2 < C)
        slot2 = jnp.sum(pos2 * keep2, axis=-1).astype(jnp.int32)
        kept2 = jnp.sum(keep2, axis=-1)
        disp2 = kept2[..., None, None] * mask2[..., None] * jax.nn.one_hot(slot2, C, dtype=F32)[:, :, None, :]
        denom = gate1 + gate2 + 1e-9
        comb = disp * (gate1 / denom)[..., None, None] + disp2 * (gate2 / denom)[..., None, None]
        disp = disp + disp2
    return disp.astype(BF16), comb.astype(BF16), aux


def experts(p, xin):
    """The expert FFNs as batched einsums over the leading expert axis: xin [E,N,D] -> [E,N,D]."""
    h = jax.nn.relu(jnp.einsum('end,edf->enf', xin, p['wi'].astype(BF16)))
    return jnp.einsum('enf,efd->end', h, p['wo'].astype(BF16))


def switch_ffn(p, x, groups, E, C, k):
    B, T, D = x.shape
    S = B * T // groups
    xg = x.reshape(groups, S, D)
    disp, comb, aux = route(p['router'], xg, E, C, k)
    xin = jnp.einsum('gsec,gsd->egcd', disp, xg)                  # dispatch
    out = experts(p, xin.reshape(E, groups * C, D)).reshape(E, groups, C, D)
    y = jnp.einsum('gsec,egcd->gsd', comb, out)                   # combine
    return y.reshape(B, T, D), aux


def init_params(cfg, key):
    D, F, H, dk, V, E = cfg.d_model, cfg.d_ff, cfg.heads, cfg.d_kv, cfg.vocab, cfg.experts
    keys = iter(jax.random.split(key, 64))

    def nrm(shape, scale):
        return (jax.random.normal(next(keys), shape, F32) * scale)

    def attn(n):
        return {'wq': nrm((n, D, H, dk), D ** -0.5), 'wk': nrm((n, D, H, dk), D ** -0.5),
                'wv': nrm((n, D, H, dk), D ** -0.5), 'wo': nrm((n, H, dk, D), (H * dk) ** -0.5)}

    def dense(n):
        return {'wi': nrm((n, D, F), D ** -0.5), 'wo': nrm((n, F, D), F ** -0.5)}

    def sparse(n):
        return {'router': nrm((n, D, E), 0.1 * D ** -0.5), 'wi': nrm((n, E, D, F), D ** -0.5),
                'wo': nrm((n, E, F, D), F ** -0.5)}

    def stack(L, dec):
        # blocks of 'every' layers: every-1 dense FFN layers then one Switch layer (every = 2), or one dense layer
        per = cfg.expert_every if cfg.expert_every > 0 else 1
        n = L // per
        blk = {'ln': jnp.ones((n, per * (3 if dec else 2), D), F32), 'self': attn(n * per)}
        blk['self'] = jax.tree.map(lambda a: a.reshape((n, per) + a.shape[1:]), blk['self'])
        if dec:
            blk['cross'] = jax.tree.map(lambda a: a.reshape((n, per) + a.shape[1:]), attn(n * per))
        nd = per - 1 if cfg.expert_every > 0 else 1
        if nd > 0:
            blk['dense'] = jax.tree.map(lambda a: a.reshape((n, nd) + a.shape[1:]), dense(n * nd))
        if cfg.expert_every > 0:
            blk['switch'] = sparse(n)
        return blk

    return {'emb': nrm((V, D), 1.0), 'enc': stack(cfg.enc_layers, False), 'dec': stack(cfg.dec_layers, True),
            'enc_ln': jnp.ones((D,), F32), 'dec_ln': jnp.ones((D,), F32)}


def make_loss(cfg, groups, C_enc, C_dec, sparse_ffn=switch_ffn):
    """The training loss of one batch; sparse_ffn(p, x, groups, E, C, k) -> (y, aux) is the Switch layer."""
    per = cfg.expert_every if cfg.expert_every > 0 else 1
    sparse = cfg.expert_every > 0
    k = cfg.top_k

    def block(x, blk, enc_out, dec, C):
        aux = jnp.zeros((), F32)
        lnw = blk['ln']
        li = 0
        di = 0
        for j in range(per):
            sa = jax.tree.map(lambda a: a[j], blk['self'])
            x = x + attention(sa, rms_norm(x, lnw[li]), rms_norm(x, lnw[li]), causal=dec); li += 1
            if dec:
                ca = jax.tree.map(lambda a: a[j], blk['cross'])
                x = x + attention(ca, rms_norm(x, lnw[li]), enc_out, causal=False); li += 1
            h = rms_norm(x, lnw[li]); li += 1
            if sparse and j == per - 1:
                y, a = sparse_ffn(blk['switch'], h, groups, cfg.experts, C, k)
                aux = aux + a
            else:
                y = dense_ffn(jax.tree.map(lambda a: a[di], blk['dense']), h); di += 1
            x = x + y
        return x, aux

    def loss_fn(params, enc_tok, dec_tok, tgt):
        emb = params['emb']
        x = jnp.take(emb, enc_tok, axis=0).astype(BF16)

        def enc_body(x, blk):
            x, a = block(x, blk, None, False, C_enc)
            return x, a
        x, aux_e = jax.lax.scan(enc_body, x, params['enc'])
        enc_out = rms_norm(x, params['enc_ln'])
        y = jnp.take(emb, dec_tok, axis=0).astype(BF16)

        def dec_body(y, blk):
            y, a = block(y, blk, enc_out, True, C_dec)
            return y, a
        y, aux_d = jax.lax.scan(dec_body, y, params['dec'])
        y = rms_norm(y, params['dec_ln'])
        logits = jnp.einsum('btd,vd->btv', y, emb.astype(BF16), preferred_element_type=F32)
        lse = jax.nn.logsumexp(logits, axis=-1)
        tl = jnp.take_along_axis(logits, tgt[..., None], axis=-1)[..., 0]
        return jnp.mean(lse - tl) + jnp.sum(aux_e) + jnp.sum(aux_d)

    return loss_fn


def make_step(cfg, groups, C_enc, C_dec):
    loss_fn = make_loss(cfg, groups, C_enc, C_dec)
    opt = optax.adafactor(learning_rate=1e-3)

    def step(params, state, enc_tok, dec_tok, tgt):
        loss, grads = jax.value_and_grad(loss_fn)(params, enc_tok, dec_tok, tgt)
        upd, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, upd)
        return params, state, loss

    return opt, jax.jit(step, donate_argnums=(0, 1))


def run_timed(compiled, params, state, batch, warmup, steps):
    """'warmup' untimed steps (warmup >= 1), then 'steps' steps each timed to block_until_ready.  Returns the
    parameters, the state, the first step's loss, the last one's, and the step times sorted (seconds)."""
    for i in range(warmup):
        params, state, loss = compiled(params, state, *batch)
        if i == 0:
            first = loss
    jax.block_until_ready((params, state, loss))
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        params, state, loss = compiled(params, state, *batch)
        jax.block_until_ready((params, state, loss))
        times.append(time.perf_counter() - t0)
    return params, state, first, loss, sorted(times)


FIELDS = ['name', 'd_model', 'd_ff', 'ffn_act', 'heads', 'd_kv', 'enc_layers', 'dec_layers', 'expert_every',
          'experts', 'vocab', 'enc_seq', 'dec_seq', 'tokens_per_batch', 'capacity_factor', 'group_size',
          'min_capacity', 'top_k']


def main():
    ap = argparse.ArgumentParser()
    for f in FIELDS:
        ap.add_argument('--' + f, type=str if f in ('name', 'ffn_act') else
                        (float if f == 'capacity_factor' else int), required=True)
    ap.add_argument('--split', default='holdout')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--lock', default='', help='file locked around the GPU work (sweep.py runs compiles in parallel)')
    cfg = ap.parse_args()
    B = cfg.tokens_per_batch // cfg.enc_seq
    t_enc, t_dec = B * cfg.enc_seq, B * cfg.dec_seq
    groups = num_groups(t_enc, t_dec, cfg.group_size)
    E = cfg.experts if cfg.expert_every > 0 else 1
    C_enc = capacity(cfg.capacity_factor, t_enc // groups, E, cfg.min_capacity)
    C_dec = capacity(cfg.capacity_factor, t_dec // groups, E, cfg.min_capacity)

    key = jax.random.PRNGKey(0)
    init = jax.jit(lambda k: init_params(cfg, k))
    opt, step = make_step(cfg, groups, C_enc, C_dec)
    # Compile from shapes alone, before anything touches the GPU, so that sweep.py can compile the next
    # configurations while this one is timed (the timing below holds the GPU lock).
    p_shape = jax.eval_shape(init, key)
    s_shape = jax.eval_shape(opt.init, p_shape)
    tok = jax.ShapeDtypeStruct((B, cfg.enc_seq), jnp.int32)
    dtok = jax.ShapeDtypeStruct((B, cfg.dec_seq), jnp.int32)
    t0 = time.perf_counter()
    compiled = step.lower(p_shape, s_shape, tok, dtok, dtok).compile()
    compile_s = time.perf_counter() - t0

    lock = open(cfg.lock, 'w') if cfg.lock else None
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    params = init(key)
    state = opt.init(params)
    k1, k2 = jax.random.split(jax.random.PRNGKey(1))
    enc_tok = jax.random.randint(k1, (B, cfg.enc_seq), 0, cfg.vocab, dtype=jnp.int32)
    dec_tok = jax.random.randint(k2, (B, cfg.dec_seq), 0, cfg.vocab, dtype=jnp.int32)
    tgt = jnp.roll(dec_tok, -1, axis=1)
    hlo = compiled.as_text()
    kernels = sum(1 for line in hlo.splitlines()
                  if line.lstrip().startswith(('%fusion', 'fusion', '%custom-call', 'custom-call'))
                  or ' fusion(' in line or ' custom-call(' in line)
    params, state, _, loss, times = run_timed(compiled, params, state, (enc_tok, dec_tok, tgt), cfg.warmup,
                                              cfg.steps)
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
    med = float(np.median(times))
    vals = [getattr(cfg, f) for f in FIELDS]
    row = vals + [cfg.split, '%.4f' % (med * 1e3), '%.4f' % (times[0] * 1e3), '%.4f' % (times[-1] * 1e3),
                  cfg.steps, groups, C_enc, C_dec, kernels, '%.1f' % compile_s, '%.4f' % float(loss),
                  jax.devices()[0].device_kind.replace(',', ' '), jax.__version__, time.strftime('%Y-%m-%d')]
    print(','.join(str(v) for v in row), flush=True)


if __name__ == '__main__':
    main()
