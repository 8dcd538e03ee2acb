#!/usr/bin/env python3
"""Per-thread views of a `perf record` profile with call stacks.

The reconcile bench runs the simulator on its main thread and computes kubelet
syncs ahead on a worker (src/sim/kubelets/ahead.rs). `perf report --tid` mixed
the worker's stacks into the main thread's views, so this reads the samples
from `perf script` and splits them by thread itself.

Record and dump (a release bench binary from `cargo bench --no-run`):

    KDRILL_BENCH_SIZES=10000 KDRILL_BENCH_RUNS=1 KDRILL_BENCH_WARMUP=0 \
        perf record -F 1500 --call-graph dwarf,32768 -o perf.data target/release/deps/reconcile-HASH
    perf script -i perf.data -F tid,ip,sym > perf.txt

Then:

    tools/perf_threads.py perf.txt threads             samples per thread
    tools/perf_threads.py perf.txt top TID [N]         functions by inclusive share (and self share)
    tools/perf_threads.py perf.txt children TID REGEX  what the outermost frame matching REGEX spends in
    tools/perf_threads.py perf.txt callers TID REGEX   the callers above the outermost frame matching REGEX

Shares are of the thread's samples (wall time on that thread, with `-F`'s
cpu-clock sampling).
"""
import collections
import re
import sys


def samples(path):
    """Yields (tid, stack), the stack leaf first, inlined frames named as functions."""
    tid, stack = None, []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            if not line.startswith("\t"):
                if tid is not None and stack:
                    yield tid, stack
                tid, stack = line.split()[0], []
                continue
            parts = line.strip().split(None, 1)
            sym = parts[1] if len(parts) > 1 else "?"
            stack.append(re.sub(r" \(inlined\)$", "", sym))
    if tid is not None and stack:
        yield tid, stack


def outermost(stack, pattern):
    found = [i for i, s in enumerate(stack) if pattern.search(s)]
    return found[-1] if found else None


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, what = argv[1], argv[2]
    if what == "threads":
        count = collections.Counter(t for t, _ in samples(path))
        total = sum(count.values())
        for t, n in count.most_common():
            print(f"{t:>10} {n:>8} samples {100 * n / total:6.2f}%")
        return
    if len(argv) < 4:
        sys.exit(__doc__)
    tid = argv[3]
    mine = [s for t, s in samples(path) if t == tid]
    if not mine:
        sys.exit(f"no samples of thread {tid}")
    n = len(mine)
    print(f"{n} samples of thread {tid}")
    if what == "top":
        top = int(argv[4]) if len(argv) > 4 else 60
        inclusive, own = collections.Counter(), collections.Counter()
        for stack in mine:
            own[stack[0]] += 1
            for s in set(stack):
                inclusive[s] += 1
        for s, k in inclusive.most_common(top):
            print(f"{100 * k / n:6.2f}% incl {100 * own[s] / n:6.2f}% self  {s[:150]}")
        return
    if len(argv) < 5 or what not in ("children", "callers"):
        sys.exit(__doc__)
    pattern = re.compile(argv[4])
    spent, hit = collections.Counter(), 0
    for stack in mine:
        i = outermost(stack, pattern)
        if i is None:
            continue
        hit += 1
        if what == "children":
            spent[stack[i - 1][:120] if i > 0 else "(self)"] += 1
        else:
            spent[" <- ".join(s[:60] for s in stack[i + 1 : i + 3])] += 1
    print(f"{hit} samples ({100 * hit / n:.1f}%) under {argv[4]}")
    for s, k in spent.most_common(30):
        print(f"{100 * k / n:6.2f}%  {s}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except BrokenPipeError:
        # Piped into `head`: the rest is not wanted.
        sys.stderr.close()
