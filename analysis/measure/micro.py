"""Calibration microbenchmarks of the GPU the sweep runs on (the numbers switchsim's GPU chip preset calls
'measured'): bf16 matmul rate at several shapes, device-to-device copy bandwidth, and the time one XLA
kernel adds to a chain of dependent small kernels (launch gap).  Prints 'name,value,unit' rows."""
import time

import jax
import jax.numpy as jnp


def bench(f, *args, reps=20):
    r = f(*args)
    jax.block_until_ready(r)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = f(*args)
        jax.block_until_ready(r)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    key = jax.random.PRNGKey(0)
    print('device,%s,' % jax.devices()[0].device_kind)
    print('jax_version,%s,' % jax.__version__)
    for (m, k, n) in [(8192, 8192, 8192), (16384, 768, 3072), (16384, 3072, 768), (2048, 768, 3072),
                      (512, 768, 3072), (16384, 512, 2048), (4096, 4096, 4096)]:
        a = jax.random.normal(key, (m, k), jnp.bfloat16)
        b = jax.random.normal(key, (k, n), jnp.bfloat16)
        f = jax.jit(lambda x, y: x @ y)
        t = bench(f, a, b)
        print('matmul_bf16_%dx%dx%d,%.2f,TFLOP/s' % (m, k, n, 2.0 * m * k * n / t / 1e12))
        print('matmul_bf16_%dx%dx%d_us,%.2f,us' % (m, k, n, t * 1e6))
    a = jax.random.normal(key, (16384, 768), jnp.float32)
    b = jax.random.normal(key, (768, 128), jnp.float32)
    for prec in ('highest', 'default'):
        f = jax.jit(lambda x, y: jnp.dot(x, y, precision=prec))
        t = bench(f, a, b)
        print('matmul_f32_%s_16384x768x128,%.2f,TFLOP/s' % (prec, 2.0 * 16384 * 768 * 128 / t / 1e12))
    n = 1 << 30
    x = jnp.ones((n,), jnp.float32)
    f = jax.jit(lambda v: v * 1.5)
    t = bench(f, x)
    print('copy_scale_f32_4GiB,%.1f,GB/s(read+write)' % (2.0 * 4 * n / t / 1e9))
    # launch gap: a chain of L dependent small matmuls (cannot fuse) vs L = 1
    w = jax.random.normal(key, (128, 128), jnp.bfloat16)
    v0 = jax.random.normal(key, (128, 128), jnp.bfloat16)
    res = {}
    for L in (1, 201):
        def chain(v, w=w, L=L):
            for _ in range(L):
                v = jnp.tanh(v @ w)
            return v
        res[L] = bench(jax.jit(chain), v0, reps=30)
    print('kernel_gap_chain,%.3f,us per dependent matmul+tanh' % ((res[201] - res[1]) / 200 * 1e6))


if __name__ == '__main__':
    main()
