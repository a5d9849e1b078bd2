"""One training step of a decoder-only MoE transformer in eager PyTorch, timed on one GPU; prints one CSV row.

The program switchsim's `torch` profile models (analysis/measure/README.md, "Decoder-only MoE steps"):
pre-norm RMSNorm; causal attention through F.scaled_dot_product_attention(is_causal=True) with rotary embeddings
(rotate-half) on q and k, one fused QKV projection, grouped-query heads; SwiGLU FFNs without biases; an untied
output head; cross-entropy in fp32.  An MoE layer: an fp32 router (linear D -> E, softmax over E), top-k with the
gates renormalised over the k, then one of three dispatches:
  dropless       stable argsort of the flattened expert ids, gather, grouped GEMM (torch grouped_mm, 2-D x 3-D,
                 int32 cumulative offsets) for w1, w3 and w2, unsort with index_copy, gate-weighted sum over the k;
  padded         C = ceil(cf T k / E) over the whole batch, every first choice placed before any second, overflow
                 dropped, scatter into [E, C, D], bmm, gather back;
  expert-choice  each expert takes its top C = T cf / E tokens by router probability over the whole batch, bmm,
                 index_add weighted by that probability.
Shared experts: one SwiGLU of width n_shared x F_e on every token.  Load-balancing loss 0.01 E sum(f P).
torch.autocast(bfloat16) over fp32 parameters; torch.optim.AdamW(fused=True); eager (no torch.compile).

Usage: python3 moe_step.py --config JSON [--lock FILE]     one configuration, one CSV row on stdout
       python3 moe_step.py --check                          the dispatches against a per-token loop, gradients
"""
import argparse
import datetime
import fcntl
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

FIELDS = ['name', 'family', 'split', 'd_model', 'layers', 'heads', 'kv_heads', 'head_dim', 'vocab', 'seq',
          'batch', 'tokens', 'ffn_dense', 'experts', 'top_k', 'ffn_expert', 'shared', 'first_dense', 'moe_every',
          'dispatch', 'capacity_factor']
OUT_FIELDS = ['group_align', 'capacity', 'step_ms', 'step_min_ms', 'step_max_ms', 'timed_steps', 'max_load', 'dropped_frac',
              'params_total', 'params_active', 'peak_mem_gib', 'loss', 'device', 'torch_version', 'date']
HEADER = FIELDS + OUT_FIELDS
LB_ALPHA = 0.01
# Rows of one expert in the grouped GEMM start at a multiple of this (1: no padding).  Set to 16 and recorded in
# the row's group_align when the grouped GEMM refuses unaligned groups (torchtitan pads them the same way).
GROUP_ALIGN = 1


def grouped_mm(a, b, offs):
    """a (M, K) bf16 rows sorted by group, b (G, K, N) bf16, offs (G) int32 cumulative row ends -> (M, N)."""
    fn = getattr(F, 'grouped_mm', None) or torch._grouped_mm
    return fn(a, b, offs=offs)


def rms_norm(x, w, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * w


def rope(x, cos, sin):
    """x (B, H, S, hd): rotate-half rotary embedding."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def capacity(c):
    T, E, k, cf = c['tokens'], c['experts'], c['top_k'], c['capacity_factor']
    if c['dispatch'] == 'padded':
        return math.ceil(cf * T * k / E)
    if c['dispatch'] == 'expert-choice':
        return min(T, int(T * cf / E))
    return 0


class MoE(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        D, E, Fe = c['d_model'], c['experts'], c['ffn_expert']
        self.E, self.k, self.dispatch, self.C = E, c['top_k'], c['dispatch'], capacity(c)
        self.router = torch.nn.Linear(D, E, bias=False)
        s = D ** -0.5
        # (E, F, D) per projection, as torchtitan stores them; the grouped GEMM takes their transposes
        self.w1 = torch.nn.Parameter(torch.randn(E, Fe, D) * s)
        self.w3 = torch.nn.Parameter(torch.randn(E, Fe, D) * s)
        self.w2 = torch.nn.Parameter(torch.randn(E, D, Fe) * Fe ** -0.5)
        ns = c['shared']
        self.shared = SwiGLU(D, ns * Fe) if ns > 0 else None
        self.stats = None     # (counts (E), dropped choices) of the last forward, when asked for

    def route(self, x):
        with torch.autocast('cuda', enabled=False):
            logits = F.linear(x.float(), self.router.weight.float())
            probs = torch.softmax(logits, dim=-1)
        return probs

    def experts_bmm(self, buf):
        """buf (E, C, D) -> (E, C, D): every expert's SwiGLU on its slots."""
        dt = torch.bfloat16
        b = buf.to(dt)
        h = F.silu(torch.bmm(b, self.w1.to(dt).transpose(1, 2))) * torch.bmm(b, self.w3.to(dt).transpose(1, 2))
        return torch.bmm(h, self.w2.to(dt).transpose(1, 2))

    def forward(self, x, want_stats=False):
        T, D = x.shape
        E, k = self.E, self.k
        probs = self.route(x)                                    # (T, E) fp32
        if self.dispatch == 'expert-choice':
            y, counts, dropped = self.expert_choice(x, probs)
            aux = x.new_zeros((), dtype=torch.float32)
        else:
            gate, idx = torch.topk(probs, k, dim=-1)             # (T, k)
            gate = gate / gate.sum(-1, keepdim=True)
            counts = torch.bincount(idx.reshape(-1), minlength=E)
            f = counts.float() / (T * k)
            aux = LB_ALPHA * E * (f * probs.mean(0)).sum()
            if self.dispatch == 'dropless':
                y, dropped = self.dropless(x, gate, idx, counts), 0
            else:
                y, dropped = self.padded(x, gate, idx)
        if self.shared is not None:
            y = y + self.shared(x)
        if want_stats:
            self.stats = (counts.detach(), dropped)
        return y, aux

    def dropless(self, x, gate, idx, counts):
        T, D = x.shape
        k = self.k
        flat = idx.reshape(-1)                                   # (T k) token-major
        order = torch.argsort(flat, stable=True)
        xs = x[order // k].to(torch.bfloat16)                    # rows sorted by expert
        dest = None
        if GROUP_ALIGN > 1:                                      # each expert's rows start at a multiple of it
            padded = (counts + GROUP_ALIGN - 1) // GROUP_ALIGN * GROUP_ALIGN
            start_p = torch.cumsum(padded, 0) - padded
            start = torch.cumsum(counts, 0) - counts
            e_sorted = flat[order]
            dest = start_p[e_sorted] + torch.arange(flat.numel(), device=x.device) - start[e_sorted]
            xs = xs.new_zeros(int(padded.sum()), D).index_copy(0, dest, xs)
            counts = padded
        offs = torch.cumsum(counts, 0).to(torch.int32)
        dt = torch.bfloat16
        h = F.silu(grouped_mm(xs, self.w1.to(dt).transpose(1, 2), offs)) * \
            grouped_mm(xs, self.w3.to(dt).transpose(1, 2), offs)
        out = grouped_mm(h, self.w2.to(dt).transpose(1, 2), offs)
        if dest is not None:
            out = out[dest]
        unsorted = out.new_zeros(T * k, D).index_copy(0, order, out)
        return (unsorted.view(T, k, D) * gate.unsqueeze(-1).to(out.dtype)).sum(1)

    def padded(self, x, gate, idx):
        T, D = x.shape
        E, k, C = self.E, self.k, self.C
        flat = idx.t().reshape(-1)                               # (k T): every first choice before any second
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=E)
        starts = torch.cumsum(counts, 0) - counts
        pos = torch.empty_like(flat)
        pos[order] = torch.arange(flat.numel(), device=x.device) - starts[flat[order]]
        keep = pos < C
        slot = (flat * C + pos)[keep]
        tok = torch.arange(T, device=x.device).repeat(k)[keep]
        g = gate.t().reshape(-1)[keep]
        buf = x.new_zeros(E * C, D, dtype=torch.bfloat16).index_copy(0, slot, x[tok].to(torch.bfloat16))
        out = self.experts_bmm(buf.view(E, C, D)).view(E * C, D)
        y = x.new_zeros(T, D, dtype=out.dtype).index_add(0, tok, out[slot] * g.unsqueeze(-1).to(out.dtype))
        return y, int(flat.numel() - int(keep.sum()))

    def expert_choice(self, x, probs):
        T, D = x.shape
        E, C = self.E, self.C
        val, tok = torch.topk(probs.t(), C, dim=-1)              # (E, C) each expert's top C tokens
        buf = x[tok.reshape(-1)].to(torch.bfloat16).view(E, C, D)
        out = self.experts_bmm(buf).view(E * C, D)
        y = x.new_zeros(T, D, dtype=out.dtype).index_add(0, tok.reshape(-1),
                                                         out * val.reshape(-1, 1).to(out.dtype))
        covered = torch.zeros(T, dtype=torch.bool, device=x.device)
        covered[tok.reshape(-1)] = True
        counts = torch.full((E,), C, device=x.device)
        return y, counts, int(T - int(covered.sum()))            # 'dropped': tokens no expert took


class SwiGLU(torch.nn.Module):
    def __init__(self, D, Fw):
        super().__init__()
        self.w1 = torch.nn.Linear(D, Fw, bias=False)
        self.w3 = torch.nn.Linear(D, Fw, bias=False)
        self.w2 = torch.nn.Linear(Fw, D, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(torch.nn.Module):
    def __init__(self, c, sparse):
        super().__init__()
        D, H, KV, hd = c['d_model'], c['heads'], c['kv_heads'], c['head_dim']
        self.H, self.KV, self.hd = H, KV, hd
        self.n1 = torch.nn.Parameter(torch.ones(D))
        self.n2 = torch.nn.Parameter(torch.ones(D))
        self.qkv = torch.nn.Linear(D, (H + 2 * KV) * hd, bias=False)
        self.o = torch.nn.Linear(H * hd, D, bias=False)
        self.ffn = MoE(c) if sparse else SwiGLU(D, c['ffn_dense'])

    def forward(self, x, cos, sin, want_stats):
        B, S, D = x.shape
        H, KV, hd = self.H, self.KV, self.hd
        q, kk, v = self.qkv(rms_norm(x, self.n1)).split([H * hd, KV * hd, KV * hd], dim=-1)
        q = rope(q.view(B, S, H, hd).transpose(1, 2), cos, sin)
        kk = rope(kk.view(B, S, KV, hd).transpose(1, 2), cos, sin)
        v = v.view(B, S, KV, hd).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, kk, v, is_causal=True, enable_gqa=(KV != H))
        x = x + self.o(a.transpose(1, 2).reshape(B, S, H * hd))
        h = rms_norm(x, self.n2)
        if isinstance(self.ffn, MoE):
            y, aux = self.ffn(h.reshape(B * S, D), want_stats)
            return x + y.view(B, S, D).type_as(x), aux
        return x + self.ffn(h), None


def is_sparse(c, layer):
    return c['experts'] > 1 and layer >= c['first_dense'] and (layer - c['first_dense']) % c['moe_every'] == 0


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.emb = torch.nn.Embedding(c['vocab'], c['d_model'])
        self.blocks = torch.nn.ModuleList(Block(c, is_sparse(c, i)) for i in range(c['layers']))
        self.nf = torch.nn.Parameter(torch.ones(c['d_model']))
        self.head = torch.nn.Linear(c['d_model'], c['vocab'], bias=False)
        hd, S = c['head_dim'], c['seq']
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(S).float(), inv)
        ang = torch.cat((ang, ang), dim=-1)
        self.register_buffer('cos', ang.cos(), persistent=False)
        self.register_buffer('sin', ang.sin(), persistent=False)

    def forward(self, tokens, targets, want_stats=False):
        x = self.emb(tokens)
        aux = 0.0
        first = True
        for b in self.blocks:
            x, a = b(x, self.cos, self.sin, want_stats and first and isinstance(b.ffn, MoE))
            if a is not None:
                aux = aux + a
                first = False
        logits = self.head(rms_norm(x, self.nf))
        loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))
        return loss + aux


def count_params(model, c):
    total = sum(p.numel() for p in model.parameters())
    active = total
    for b in model.blocks:
        if isinstance(b.ffn, MoE):
            per_expert = b.ffn.w1[0].numel() * 3
            active -= per_expert * (c['experts'] - c['top_k'])
    return total, active


def first_moe(model):
    for b in model.blocks:
        if isinstance(b.ffn, MoE):
            return b.ffn
    return None


def run(c, lock_path):
    torch.manual_seed(0)
    dev = torch.device('cuda')
    torch.cuda.init()
    lock = open(lock_path, 'w') if lock_path else None
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    model = Model(c).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    B, S = c['batch'], c['seq']
    tokens = torch.randint(0, c['vocab'], (B, S), device=dev)
    targets = torch.randint(0, c['vocab'], (B, S), device=dev)

    def step(stats=False):
        with torch.autocast('cuda', dtype=torch.bfloat16):
            loss = model(tokens, targets, stats)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    global GROUP_ALIGN
    try:
        step()
    except RuntimeError as e:                                   # unaligned groups refused: pad them, once
        if c['dispatch'] != 'dropless':
            raise
        print('grouped GEMM refused unaligned groups (%s): groups padded to 16 rows' % str(e)[:200],
              file=sys.stderr)
        GROUP_ALIGN = 16
        opt.zero_grad(set_to_none=True)
        step()
    for _ in range(2):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    loss = None
    for i in range(c.get('timed_steps', 8)):
        t0 = time.perf_counter()
        loss = step(i == 0)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30
    moe = first_moe(model)
    max_load, dropped = 0.0, 0.0
    if moe is not None and moe.stats is not None:
        counts, nd = moe.stats
        counts = counts.float()
        max_load = float(counts.max() / counts.mean())
        n = c['tokens'] if c['dispatch'] == 'expert-choice' else c['tokens'] * c['top_k']
        dropped = nd / n
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_UN)
    total, active = count_params(model, c)
    row = dict(c)
    row.update(group_align=GROUP_ALIGN, capacity=capacity(c), step_ms='%.4f' % (1e3 * statistics.median(times)),
               step_min_ms='%.4f' % (1e3 * min(times)), step_max_ms='%.4f' % (1e3 * max(times)),
               timed_steps=len(times), max_load='%.4f' % max_load, dropped_frac='%.5f' % dropped,
               params_total=total, params_active=active, peak_mem_gib='%.2f' % peak,
               loss='%.4f' % float(loss), device=torch.cuda.get_device_name(0), torch_version=torch.__version__,
               date=datetime.date.today().isoformat())
    print(','.join(str(row[f]) for f in HEADER), flush=True)


def check():
    """Each dispatch against a per-token loop in fp32 (tolerance for bf16 experts), and every weight's gradient."""
    torch.manual_seed(1)
    dev = torch.device('cuda')
    base = dict(name='check', family='check', split='-', d_model=64, layers=2, heads=4, kv_heads=2, head_dim=16,
                vocab=97, seq=32, batch=4, tokens=128, ffn_dense=64, experts=8, top_k=2, ffn_expert=32, shared=1,
                first_dense=0, moe_every=1, dispatch='dropless', capacity_factor=1.0)
    ok = True
    for disp, k, cf in [('dropless', 2, 1.0), ('dropless', 8, 1.0), ('padded', 2, 1.0), ('padded', 3, 0.5),
                        ('expert-choice', 1, 1.0), ('expert-choice', 1, 2.0)]:
        c = dict(base, dispatch=disp, top_k=k, capacity_factor=cf)
        moe = MoE(c).to(dev)
        x = torch.randn(c['tokens'], c['d_model'], device=dev)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            y, _ = moe(x)
        ref = moe_ref(moe, x, c)
        err = float((y.detach().float() - ref).abs().max() / ref.abs().max())
        good = err < 3e-2
        ok &= good
        print('check %-13s k=%d cf=%.1f C=%d: max rel err %.2e %s' % (disp, k, cf, moe.C, err,
                                                                    'ok' if good else 'FAIL'))
    for disp in ['dropless', 'padded', 'expert-choice']:
        c = dict(base, dispatch=disp, capacity_factor=2.0)
        model = Model(c).to(dev)
        t = torch.randint(0, c['vocab'], (c['batch'], c['seq']), device=dev)
        with torch.autocast('cuda', dtype=torch.bfloat16):
            loss = model(t, t)
        loss.backward()
        missing = [n for n, p in model.named_parameters()
                   if p.grad is None or not torch.isfinite(p.grad).all() or float(p.grad.abs().sum()) == 0.0]
        ok &= not missing
        print('check gradients %-13s: %s' % (disp, 'ok, every weight' if not missing else 'FAIL ' + str(missing)))
    print('check', 'passed' if ok else 'FAILED')
    return ok


def moe_ref(moe, x, c):
    """Per-token loop in fp32: the same routing decisions, each token's experts applied one by one."""
    T, D = x.shape
    E, k, C = c['experts'], c['top_k'], moe.C
    with torch.no_grad():
        probs = torch.softmax(x.float() @ moe.router.weight.float().t(), dim=-1)
        w1, w3, w2 = moe.w1.float(), moe.w3.float(), moe.w2.float()

        def expert(e, v):
            return w2[e] @ (F.silu(w1[e] @ v) * (w3[e] @ v))
        y = torch.zeros(T, D, device=x.device)
        if c['dispatch'] == 'expert-choice':
            for e in range(E):
                order = sorted(range(T), key=lambda t: -float(probs[t, e]))[:C]
                for t in order:
                    y[t] += float(probs[t, e]) * expert(e, x[t])
        else:
            gate, idx = torch.topk(probs, k, dim=-1)
            gate = gate / gate.sum(-1, keepdim=True)
            fill = [0] * E
            for j in range(k):                       # every first choice before any second
                for t in range(T):
                    e = int(idx[t, j])
                    if c['dispatch'] == 'padded':
                        if fill[e] >= C:
                            continue
                        fill[e] += 1
                    y[t] += float(gate[t, j]) * expert(e, x[t])
        if moe.shared is not None:
            s = moe.shared
            y += F.linear(F.silu(F.linear(x, s.w1.weight)) * F.linear(x, s.w3.weight), s.w2.weight)
    return y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='')
    ap.add_argument('--lock', default='')
    ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if check() else 1)
    run(json.loads(a.config), a.lock)


if __name__ == '__main__':
    main()
