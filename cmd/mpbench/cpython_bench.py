#!/usr/bin/env python3
"""CPython side of mpbench: the same work as the Go program, done with multiprocessing.

Standard library only; start method fork. mpbench embeds this file and runs it with
python3, one metric at a time (-only NAME), and reads one JSON object from stdout:

    {"python": "3.11.7", "start_method": "fork", "workers": 2,
     "metrics": {"pipe_rtt_us": {"samples": [...]} | {"error": "..."}}}

Each sample is one repetition in the metric's unit; mpbench takes median, min and max.
Run by hand: python3 cmd/mpbench/cpython_bench.py --quick --only pipe_rtt_us
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time

MIB = 1 << 20
MB = 1e6  # MB/s means 10^6 bytes per second, on every side

ctx = multiprocessing.get_context("fork")


# ---- functions run in the children (module level, like the Go side's registered functions)

def noop(*_):
    return None


def ident(x):
    return x


def square(x):
    return x * x


def getpid(_=None):
    return os.getpid()


def cpu_burn(n):
    # xorshift64, the same loop as cpuBurn in the Go program
    x = 88172645463325252
    s = 0
    m = (1 << 64) - 1
    for _ in range(n):
        x ^= (x << 13) & m
        x ^= x >> 7
        x ^= (x << 17) & m
        s = (s + x) & m
    return s


def echo_child(conn):
    while True:
        try:
            v = conn.recv()
        except EOFError:
            return
        if v is None:
            return
        conn.send(v)


def bytes_sink_child(conn, n, reps):
    for _ in range(reps):
        for _ in range(n):
            conn.recv_bytes()
        conn.send_bytes(b"k")


def queue_consumer_child(q, ack, n, reps):
    ack.put("ready")
    for _ in range(reps):
        for _ in range(n):
            q.get()
        ack.put("done")


def lock_child(v, barrier, n):
    lock = v.get_lock()
    barrier.wait()
    for _ in range(n):
        with lock:
            v.value += 1


def manager_child(d, n, out):
    d["k"] = 0
    d["k"]
    t = time.perf_counter()
    for i in range(n):
        d["k"] = i
        d["k"]
    out.send((time.perf_counter() - t) / (2 * n) * 1e6)  # per dict operation
    out.close()


def manager_clients_child(d, n, clients, out):
    import threading
    d["k0"] = 0
    def client(k):
        key = "k%d" % k
        d[key] = 0  # connect (a proxy opens a connection per thread)
        for i in range(n):
            d[key] = i
            d[key]
    ths = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    out.send(2 * n * clients / (time.perf_counter() - t))  # dict operations per second
    out.close()


# ---- the metrics: each returns a list of samples (one per repetition)

class Config:
    def __init__(self, quick, reps, workers):
        self.quick = quick
        self.reps = reps
        self.workers = workers

    def n(self, full, quick):
        return quick if self.quick else full


def process_start_ms(c):
    k = c.n(20, 10)
    out = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for _ in range(k):
            p = ctx.Process(target=noop)
            p.start()
            p.join()
        out.append((time.perf_counter() - t) / k * 1e3)
    return out


def pool_start_ms(c):
    k = c.n(10, 5)
    out = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for _ in range(k):
            pool = ctx.Pool(c.workers)
            pool.apply(noop)
            pool.close()
            pool.join()
        out.append((time.perf_counter() - t) / k * 1e3)
    return out


def apply_latency_us(c):
    k = c.n(2000, 500)
    out = []
    with ctx.Pool(c.workers) as pool:
        pool.apply(noop)
        for _ in range(c.reps):
            t = time.perf_counter()
            for i in range(k):
                pool.apply(ident, (i,))
            out.append((time.perf_counter() - t) / k * 1e6)
    return out


def apply_async_tasks_per_s(c):
    n = c.n(20000, 5000)
    out = []
    with ctx.Pool(c.workers) as pool:
        pool.apply(noop)
        for _ in range(c.reps):
            t = time.perf_counter()
            rs = [pool.apply_async(ident, (i,)) for i in range(n)]
            for r in rs:
                r.get()
            out.append(n / (time.perf_counter() - t))
    return out


def map_chunksize(n, workers):
    # Pool.map's own default, used explicitly for imap_unordered so both do the same work
    cs, extra = divmod(n, workers * 4)
    return cs + 1 if extra else cs


def map_items_per_s(c):
    n = c.n(1_000_000, 200_000)
    items = list(range(n))
    out = []
    with ctx.Pool(c.workers) as pool:
        pool.apply(noop)
        for _ in range(c.reps):
            t = time.perf_counter()
            res = pool.map(square, items)
            out.append(n / (time.perf_counter() - t))
            assert res[-1] == (n - 1) * (n - 1)
    return out


def imap_unordered_items_per_s(c):
    n = c.n(1_000_000, 200_000)
    items = list(range(n))
    cs = map_chunksize(n, c.workers)
    out = []
    with ctx.Pool(c.workers) as pool:
        pool.apply(noop)
        for _ in range(c.reps):
            t = time.perf_counter()
            got = 0
            for _ in pool.imap_unordered(square, items, chunksize=cs):
                got += 1
            out.append(n / (time.perf_counter() - t))
            assert got == n
    return out


def calibrate_burn(target_s):
    n = 20_000
    while True:
        t = time.perf_counter()
        cpu_burn(n)
        d = time.perf_counter() - t
        if d > 0.02:
            return max(1, int(n * target_s / d))
        n *= 2


def cpu_scaling_x(c):
    n = calibrate_burn(c.n(0.05, 0.02))
    tasks = [n] * 8
    out = []
    with ctx.Pool(1) as p1, ctx.Pool(2) as p2:
        p1.apply(noop)
        p2.map(noop, [0, 0], chunksize=1)
        for _ in range(c.reps):
            t = time.perf_counter()
            p1.map(cpu_burn, tasks, chunksize=1)
            t1 = time.perf_counter() - t
            t = time.perf_counter()
            p2.map(cpu_burn, tasks, chunksize=1)
            t2 = time.perf_counter() - t
            out.append(t1 / t2)
    return out


def _queue_run(c, n, item):
    q = ctx.Queue()
    ack = ctx.Queue()
    p = ctx.Process(target=queue_consumer_child, args=(q, ack, n, c.reps))
    p.start()
    ack.get()
    ts = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for i in range(n):
            q.put(item if item is not None else i)
        ack.get()
        ts.append(time.perf_counter() - t)
    p.join()
    return ts


def queue_small_msgs_per_s(c):
    n = c.n(200_000, 50_000)
    return [n / t for t in _queue_run(c, n, None)]


def queue_1mib_mb_per_s(c):
    n = c.n(200, 50)
    payload = os.urandom(MIB)
    return [n * MIB / MB / t for t in _queue_run(c, n, payload)]


def pipe_rtt_us(c):
    k = c.n(5000, 1000)
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo_child, args=(b,))
    p.start()
    b.close()
    msg = (1, "ping")
    a.send(msg)
    a.recv()
    out = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for _ in range(k):
            a.send(msg)
            a.recv()
        out.append((time.perf_counter() - t) / k * 1e6)
    a.send(None)
    p.join()
    return out


def pipe_bytes_mb_per_s(c):
    n = c.n(500, 100)
    a, b = ctx.Pipe()
    p = ctx.Process(target=bytes_sink_child, args=(b, n, c.reps))
    p.start()
    b.close()
    buf = os.urandom(MIB)
    out = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for _ in range(n):
            a.send_bytes(buf)
        a.recv_bytes()
        out.append(n * MIB / MB / (time.perf_counter() - t))
    p.join()
    return out


def lock_uncontended_ns(c):
    k = c.n(1_000_000, 200_000)
    lock = ctx.Lock()
    out = []
    for _ in range(c.reps):
        t = time.perf_counter()
        for _ in range(k):
            lock.acquire()
            lock.release()
        out.append((time.perf_counter() - t) / k * 1e9)
    return out


def lock_contended_ops_per_s(c):
    n = c.n(200_000, 50_000)
    out = []
    for _ in range(c.reps):
        v = ctx.Value("q", 0)
        barrier = ctx.Barrier(3)
        ps = [ctx.Process(target=lock_child, args=(v, barrier, n)) for _ in range(2)]
        for p in ps:
            p.start()
        barrier.wait()
        t = time.perf_counter()
        for p in ps:
            p.join()
        d = time.perf_counter() - t
        if v.value != 2 * n:
            raise RuntimeError("lost updates: %d != %d" % (v.value, 2 * n))
        out.append(2 * n / d)
    return out


def manager_dict_op_us(c):
    n = c.n(2000, 500)
    out = []
    with ctx.Manager() as m:
        d = m.dict()
        for _ in range(c.reps):
            r, w = ctx.Pipe(False)
            p = ctx.Process(target=manager_child, args=(d, n, w))
            p.start()
            w.close()
            out.append(r.recv())
            p.join()
    return out


def manager_8clients_ops_per_s(c):
    n = c.n(500, 125)
    out = []
    with ctx.Manager() as m:
        d = m.dict()
        for _ in range(c.reps):
            r, w = ctx.Pipe(False)
            p = ctx.Process(target=manager_clients_child, args=(d, n, 8, w))
            p.start()
            w.close()
            out.append(r.recv())
            p.join()
    return out


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def idle_worker_rss_mib(c):
    out = []
    for _ in range(c.reps):
        pool = ctx.Pool(1)
        pid = pool.apply(getpid)
        time.sleep(0.2)
        out.append(rss_mib(pid))
        pool.close()
        pool.join()
    return out


METRICS = [
    process_start_ms,
    pool_start_ms,
    apply_latency_us,
    apply_async_tasks_per_s,
    map_items_per_s,
    imap_unordered_items_per_s,
    cpu_scaling_x,
    queue_small_msgs_per_s,
    queue_1mib_mb_per_s,
    pipe_rtt_us,
    pipe_bytes_mb_per_s,
    lock_uncontended_ns,
    lock_contended_ops_per_s,
    manager_dict_op_us,
    manager_8clients_ops_per_s,
    idle_worker_rss_mib,
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="lighter workloads")
    ap.add_argument("--only", default="", help="comma-separated metric names")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per metric")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="pool size")
    ap.add_argument("--list", action="store_true", help="print the metric names")
    a = ap.parse_args()
    byname = {f.__name__: f for f in METRICS}
    if a.list:
        print("\n".join(byname))
        return 0
    names = [s for s in a.only.split(",") if s] or list(byname)
    c = Config(a.quick, max(1, a.reps), max(1, a.workers))
    res = {}
    for name in names:
        f = byname.get(name)
        if f is None:
            res[name] = {"error": "unknown metric"}
            continue
        try:
            res[name] = {"samples": f(c)}
        except Exception as e:  # report and go on: one broken metric must not hide the others
            res[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump({"python": platform.python_version(), "start_method": "fork",
               "workers": c.workers, "metrics": res}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
