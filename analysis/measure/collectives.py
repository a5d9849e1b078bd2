"""Times NCCL all-to-all and all-reduce across the GPUs of one node, the way nccl-tests does.

Runs on a GPU machine only (PyTorch with NCCL); never built or run by make.  One process per GPU
(torch.multiprocessing), for each GPU count n from --min-gpus to --max-gpus (default: 2 to all GPUs; 1 when
the machine has one GPU, which checks the harness but measures no link) and each message size from
--min-bytes to --max-bytes by factors of 2.  Prints CSV rows (header first) on stdout and appends them to
--csv as they finish.

Columns, as nccl-tests names them:
  op           all-to-all (torch.distributed.all_to_all_single) or all-reduce (sum, fp32)
  gpus         n, the ranks taking part (one process and one GPU each)
  bytes        size per rank: the send buffer of each rank (all-to-all: n equal blocks of bytes/n)
  time_us      mean time of one collective over 'iters' back-to-back calls after 'warmup' calls, the slowest
               rank's (CUDA events on each rank's stream, then a MAX all-reduce of the means)
  algbw_GBps   bytes / time
  busbw_GBps   algbw x 2(n-1)/n for all-reduce, x (n-1)/n for all-to-all: the bandwidth each link would carry
               under the ideal algorithm, comparable across n
  iters, warmup, nccl_version, torch_version, device, date

NVLink multicast (NVLS) stays off: NCCL_NVLS_ENABLE=0 and its companions are forced here for every rank,
so that no run depends on the switch's multicast support.
"""
import argparse
import datetime
import os
import sys

for _k, _v in (('NCCL_NVLS_ENABLE', '0'), ('TORCH_SYMM_MEM_DISABLE_MULTICAST', '1'), ('NVSHMEM_DISABLE_NVLS', '1')):
    os.environ[_k] = _v

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

HEADER = ['op', 'gpus', 'bytes', 'time_us', 'algbw_GBps', 'busbw_GBps', 'iters', 'warmup', 'nccl_version',
          'torch_version', 'device', 'date']
OPS = ('all-to-all', 'all-reduce')


def sizes(lo, hi):
    s = lo
    while s <= hi:
        yield s
        s *= 2


def iters_for(nbytes, args):
    # about 20 ms of back-to-back calls at a nominal 100 GB/s; between --min-iters and --max-iters
    n = int(20e-3 * 100e9 / max(nbytes, 1))
    return max(args.min_iters, min(args.max_iters, n))


def bus_factor(op, n):
    if n <= 1:
        return 0.0
    return 2.0 * (n - 1) / n if op == 'all-reduce' else (n - 1) / n


def worker(rank, n, args, port, q):
    torch.cuda.set_device(rank)
    dist.init_process_group('nccl', init_method='tcp://127.0.0.1:%d' % port, rank=rank, world_size=n)
    dev = torch.device('cuda', rank)
    try:
        nccl = '.'.join(str(v) for v in torch.cuda.nccl.version())
    except Exception:  # noqa: BLE001 (the version is a label, not a measurement)
        nccl = 'unknown'
    for op in OPS:
        for nbytes in sizes(args.min_bytes, args.max_bytes):
            count = nbytes // 4
            count -= count % n           # all-to-all blocks of equal size
            if count == 0:
                continue
            send = torch.ones(count, dtype=torch.float32, device=dev)
            recv = torch.empty_like(send)

            def call():
                if op == 'all-to-all':
                    dist.all_to_all_single(recv, send)
                else:
                    dist.all_reduce(send)
            it = iters_for(count * 4, args)
            for _ in range(args.warmup):
                call()
            torch.cuda.synchronize()
            dist.barrier()
            t0 = torch.cuda.Event(enable_timing=True)
            t1 = torch.cuda.Event(enable_timing=True)
            t0.record()
            for _ in range(it):
                call()
            t1.record()
            torch.cuda.synchronize()
            mean_s = t0.elapsed_time(t1) * 1e-3 / it
            t = torch.tensor([mean_s], dtype=torch.float64, device=dev)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            if rank == 0:
                sec = float(t.item())
                alg = count * 4 / sec / 1e9
                q.put([op, n, count * 4, '%.3f' % (sec * 1e6), '%.3f' % alg, '%.3f' % (alg * bus_factor(op, n)),
                       it, args.warmup, nccl, torch.__version__,
                       torch.cuda.get_device_name(0).replace(',', ' '), datetime.date.today().isoformat()])
            del send, recv
    dist.barrier()
    dist.destroy_process_group()
    if rank == 0:
        q.put(None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--min-gpus', type=int, default=0, help='default 2, or 1 on a one-GPU machine')
    ap.add_argument('--max-gpus', type=int, default=0, help='default: every GPU')
    ap.add_argument('--gpu-counts', default='', help='comma list of GPU counts (overrides min/max)')
    ap.add_argument('--min-bytes', type=int, default=1 << 10)
    ap.add_argument('--max-bytes', type=int, default=1 << 30)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--min-iters', type=int, default=5)
    ap.add_argument('--max-iters', type=int, default=200)
    ap.add_argument('--csv', default='')
    args = ap.parse_args()
    have = torch.cuda.device_count()
    if have < 1:
        sys.exit('collectives.py: no CUDA device')
    if args.gpu_counts:
        counts = [int(v) for v in args.gpu_counts.split(',')]
    else:
        lo = args.min_gpus or (2 if have > 1 else 1)
        hi = args.max_gpus or have
        counts = list(range(lo, hi + 1))
    out = open(args.csv, 'a') if args.csv else None
    if out is not None and out.tell() == 0:
        out.write(','.join(HEADER) + '\n')
    print(','.join(HEADER), flush=True)
    ctx = mp.get_context('spawn')
    for k, n in enumerate(counts):
        if n > have:
            print('# skipped %d GPUs: the machine has %d' % (n, have), file=sys.stderr)
            continue
        q = ctx.Queue()
        procs = [ctx.Process(target=worker, args=(r, n, args, 29500 + k, q)) for r in range(n)]
        for p in procs:
            p.start()
        while True:
            try:
                row = q.get(timeout=10)
            except Exception:  # noqa: BLE001 (queue.Empty: see whether a rank died)
                if any(p.exitcode not in (None, 0) for p in procs):
                    for p in procs:
                        p.kill()
                    sys.exit('collectives.py: a rank of the %d-GPU group failed' % n)
                continue
            if row is None:
                break
            line = ','.join(str(v) for v in row)
            print(line, flush=True)
            if out is not None:
                out.write(line + '\n')
                out.flush()
        for p in procs:
            p.join()
            if p.exitcode != 0:
                sys.exit('collectives.py: a rank of the %d-GPU group exited %d' % (n, p.exitcode))


if __name__ == '__main__':
    main()
