"""Microbenchmarks of the torch profile's fitted values, eager PyTorch on one GPU; prints CSV rows.

What `switchsim calibrate --torch` fitted from whole steps (data/h100-moe-steps.csv) checked kernel by kernel:
  grouped_mm    F.grouped_mm (2-D x 3-D, int32 offsets) forward at the dataset's dropless shapes (T k rows over E
                experts, uniform counts), bf16: time and achieved TFLOP/s;
  bmm           torch.bmm over [E, C, D] buffers at the padded shapes, bf16;
  mm            one dense (T, D) @ (D, N) bf16 matmul at the dataset's FFN shapes;
  copy          a streaming fp32 copy of 256 MiB (HBM rate an element-wise kernel reaches);
  chain         1000 dependent element-wise kernels on a 4 KiB tensor, queued: time per kernel;
  sync          the same chain with a host read (.item()) after every 10th kernel: added time per sync.
Rows: name,shape,value,unit,device,torch_version,date.  One process, the GPU to itself; median of 20 timed
repeats after 5 warm-ups, each timed with CUDA events.

Usage: python3 torch_micro.py > torch-micro.csv
"""
import datetime
import statistics
import sys

import torch
import torch.nn.functional as F


def timed(fn, reps=20, warm=5):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        ts.append(a.elapsed_time(b) * 1e-3)
    return statistics.median(ts)


def grouped_mm(a, b, offs):
    fn = getattr(F, 'grouped_mm', None) or torch._grouped_mm
    return fn(a, b, offs=offs)


def main():
    dev = torch.device('cuda')
    name = torch.cuda.get_device_name(0)
    tail = '%s,%s,%s' % (name, torch.__version__, datetime.date.today().isoformat())
    out = sys.stdout
    out.write('name,shape,value,unit,device,torch_version,date\n')

    def row(n, shape, v, unit):
        out.write('%s,%s,%.6g,%s,%s\n' % (n, shape, v, unit, tail))
        out.flush()

    bf = torch.bfloat16
    T = 16384
    # the dropless shapes of the dataset: (family D, expert width Fe, E, k)
    for D, Fe, E, k in [(512, 2048, 8, 1), (512, 256, 64, 8), (1024, 4096, 8, 1), (1024, 512, 64, 8),
                        (2048, 6144, 8, 1), (2048, 768, 64, 8), (2048, 768, 128, 8)]:
        rows = T * k
        a = torch.randn(rows, D, device=dev, dtype=bf)
        w = torch.randn(E, D, Fe, device=dev, dtype=bf)
        offs = torch.arange(1, E + 1, device=dev, dtype=torch.int32) * (rows // E)
        t = timed(lambda: grouped_mm(a, w, offs))
        shape = '%dx%dx%d/E%d' % (rows, D, Fe, E)
        row('grouped_mm_s', shape, t, 's')
        row('grouped_mm_tflops', shape, 2.0 * rows * D * Fe / t / 1e12, 'TFLOP/s')
        # the padded twin: [E, C, D] @ [E, D, Fe] with C = rows / E
        C = rows // E
        x = torch.randn(E, C, D, device=dev, dtype=bf)
        t = timed(lambda: torch.bmm(x, w))
        row('bmm_tflops', '%dx%dx%dx%d' % (E, C, D, Fe), 2.0 * rows * D * Fe / t / 1e12, 'TFLOP/s')
        del a, w, x
    for D, N in [(512, 2048), (1024, 4096), (2048, 6144), (2048, 32000)]:
        a = torch.randn(T, D, device=dev, dtype=bf)
        b = torch.randn(D, N, device=dev, dtype=bf)
        t = timed(lambda: a @ b)
        row('mm_tflops', '%dx%dx%d' % (T, D, N), 2.0 * T * D * N / t / 1e12, 'TFLOP/s')
    n = 64 * 2 ** 20
    src = torch.randn(n, device=dev)
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src))
    row('copy_Bps', '%d fp32' % n, 2.0 * 4 * n / t, 'B/s')
    small = torch.randn(1024, device=dev)

    def chain(sync_every):
        def fn():
            x = small
            for i in range(1000):
                x = x * 1.0001
                if sync_every and i % sync_every == 0:
                    x.sum().item()
        return fn
    t0 = timed(chain(0), reps=10, warm=2)
    row('chain_kernel_s', '1000 x 4KiB', t0 / 1000, 's')
    t1 = timed(chain(10), reps=10, warm=2)
    # each sync adds its own sum kernel too: count it as a kernel
    row('sync_s', '100 syncs', (t1 - t0) / 100 - t0 / 1000, 's')


if __name__ == '__main__':
    main()
