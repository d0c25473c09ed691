#!/usr/bin/env python3
"""dsinfer and llama.cpp on the same GGUF file, same threads, runs alternating, ratios
reported (not run in CI). Build llama.cpp yourself, outside this repository, from its public
source, and give the directory of its binaries.

  tools/bench/side_by_side.py --llama-bin DIR --model FILE [--dsinfer build/dsinfer]
      [--threads 2] [--reps 3] [--tests pp512,tg128,d4096,start] [--via bench|run]
      [--weights auto|mmap|copy] [--mem-limit GB] [--drop-caches] [--seed 1]
      [--dsinfer-args '...'] [--llama-args '...'] [--bandwidth GB/s] [--json FILE]

Tests: ppN (prefill N tokens), ppN@dM (prefill N tokens after M of context), tgN (decode N tokens
on an empty context), dN (decode 32 tokens after N tokens of context), batchN (N sequences of 128
tokens each, then 32 decode steps of all N at once: the steps' tokens a second, dsinfer bench
--batch N against llama-batched-bench's S_TG), start (wall time to load and decode one token).

Two ways of running each program:
  --via bench (default)  dsinfer bench against llama-bench (-fa 1). Both feed random token ids,
                         so routing varies from token to token.
  --via run              dsinfer run against llama-completion (--no-repack -c 512), a short
                         prompt, sampling at temperature 1 with a fixed --seed, so the sampled
                         tokens, and the experts they route to, vary. Decode tests only (tgN);
                         the rate is each program's own generation figure. This is the way for
                         a RAM limit: llama-bench repacks Q4_0 into anonymous memory and sizes
                         no smaller context.

Scenarios users meet:
  weights copied or mapped   --weights copy|mmap (dsinfer); llama.cpp maps the file by default
  a file bigger than half the RAM   pass such a file (dsinfer's --weights auto then maps it)
  less RAM than the model    --mem-limit GB --drop-caches --via run: each program runs alone in
                             a memory cgroup (v1 memory.limit_in_bytes or v2 memory.max, which
                             count the page cache) after the page cache is dropped (needs root)

Peak RSS is the child's maximum resident set (wait4); under --mem-limit the cgroup's peak
(RSS + page cache) is reported too. --json writes every run's figures."""
import argparse, json, os, re, shlex, statistics, subprocess, sys, threading, time

PROMPT = "In the beginning God created the heaven and the earth."


class MemCgroup:
    """A memory cgroup that counts the page cache; children join it before exec."""

    def __init__(self, gb):
        self.limit = int(gb * 1024**3)
        name = f"dsinfer-side-by-side-{os.getpid()}"
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            self.v2, self.dir = True, f"/sys/fs/cgroup/{name}"
            os.mkdir(self.dir)
            self._write("memory.max", self.limit)
            try:
                self._write("memory.swap.max", 0)
            except OSError:
                pass
        elif os.path.isdir("/sys/fs/cgroup/memory"):
            self.v2, self.dir = False, f"/sys/fs/cgroup/memory/{name}"
            os.mkdir(self.dir)
            self._write("memory.limit_in_bytes", self.limit)
        else:
            sys.exit("--mem-limit: this machine has no memory cgroup")

    def _write(self, f, v):
        with open(os.path.join(self.dir, f), "w") as fh:
            fh.write(str(v))

    def reset_peak(self):
        if not self.v2:
            self._write("memory.max_usage_in_bytes", 0)

    def peak_mb(self):
        f = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            with open(os.path.join(self.dir, f)) as fh:
                return int(fh.read()) / 2**20
        except OSError:
            return 0.0

    def join(self):  # runs in the child, before exec
        self._write("cgroup.procs", os.getpid())

    def remove(self):
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as fh:
        fh.write("3\n")


def run_rusage(a, cmd):
    """Runs one command (in the cgroup, after dropping caches, when asked); returns stdout,
    stderr, wall seconds, peak RSS MB, cgroup peak MB."""
    if a.drop_caches:
        drop_caches()
    if a.cgroup:
        a.cgroup.reset_peak()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=a.cgroup.join if a.cgroup else None)
    got = {}
    readers = [threading.Thread(target=lambda k, f: got.__setitem__(k, f.read()), args=(k, f))
               for k, f in (("out", p.stdout), ("err", p.stderr))]
    for t in readers:
        t.start()
    _, status, ru = os.wait4(p.pid, 0)  # before Popen reaps it: wait4 gives the child's peak RSS
    for t in readers:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    a.last_wall = wall
    out, err = got["out"], got["err"]
    if p.returncode != 0:
        sys.exit(f"failed (exit {p.returncode}): {shlex.join(cmd)}\n{err[-2000:]}")
    return out, err, wall, ru.ru_maxrss / 1024, a.cgroup.peak_mb() if a.cgroup else 0.0


BATCH_PROMPT, BATCH_STEPS = 128, 32  # batchN: tokens in each sequence's cache, then decode steps


def bench_args(test):
    """The -p/-n/-d flags of one test, the same for both bench programs."""
    if test.startswith("batch"):
        return ["-p", "0", "-n", str(BATCH_STEPS), "-d", str(BATCH_PROMPT), "--batch", test[5:]]
    if test.startswith("pp") and "@d" in test:  # ppN@dM: prefill N tokens after M of context
        n, d = test[2:].split("@d")
        return ["-p", n, "-n", "0", "-d", d]
    if test.startswith("pp"):
        return ["-p", test[2:], "-n", "0"]
    if test.startswith("tg"):
        return ["-p", "0", "-n", test[2:]]
    if test.startswith("d"):
        return ["-p", "0", "-n", "32", "-d", test[1:]]
    return ["-p", "0", "-n", "1"]  # start


def ours(a, test):
    weights = ["--weights", a.weights] if a.weights else []
    if a.via == "run":
        n = test[2:] if test.startswith("tg") else "1"
        cmd = [a.dsinfer, "run", a.model, "-p", PROMPT, "-n", n, "--temp", "1", "--seed", str(a.seed),
               "-t", str(a.threads), "--stats"] + weights + a.dsinfer_args
        out, err, wall, rss, cg = run_rusage(a, cmd)
        m = re.search(r"generated (\d+) tokens in ([\d.]+) s \(([\d.]+) tok/s\)", err)
        if not m:
            sys.exit(f"no generation figure in dsinfer's output:\n{err[-2000:]}")
        a.run_lines.append(m.string[m.string.rfind("\n", 0, m.start()) + 1:m.string.find("\n", m.end())])
        store = re.search(r"^experts: .*$", err, re.M)  # the expert store's line, when it ran
        if store:
            print(f"  dsinfer {store.group(0)}", file=sys.stderr, flush=True)
            a.store_lines.append(store.group(0))
        return (wall if test == "start" else float(m.group(3))), rss, cg
    cmd = [a.dsinfer, "bench", a.model, "-t", str(a.threads), "-r", "1", "--json", "--bandwidth", str(a.bandwidth)]
    out, err, wall, rss, cg = run_rusage(a, cmd + bench_args(test) + weights + a.dsinfer_args)
    j = json.loads(out)
    rate = j["prefill_tok_s"] if test.startswith("pp") else j["decode_tok_s"]
    if test.startswith("batch"):
        a.batch_lines.append(f"dsinfer batch: {j['distinct_experts_per_layer']:.1f} distinct experts a layer a step, "
                             f"{100 * j['bound_fraction']:.1f}% of its bytes bound at {a.bandwidth:.1f} GB/s")
    return (wall if test == "start" else rate), rss, cg


def theirs(a, test):
    if a.via == "run":
        n = test[2:] if test.startswith("tg") else "1"
        cmd = [os.path.join(a.llama_bin, "llama-completion"), "-m", a.model, "-p", PROMPT, "-n", n, "--temp", "1",
               "--seed", str(a.seed), "-t", str(a.threads), "--no-repack", "-c", "512", "-fa", "on", "-no-cnv",
               "--ignore-eos", "--no-warmup"] + a.llama_args
        out, err, wall, rss, cg = run_rusage(a, cmd)
        m = re.search(r"(?<!prompt )eval time =\s*[\d.]+ ms /\s*(\d+) runs[^\n]*?([\d.]+) tokens per second", err)
        if not m:
            sys.exit(f"no eval figure in llama-completion's output:\n{err[-2000:]}")
        return (wall if test == "start" else float(m.group(2))), rss, cg
    if test.startswith("batch"):  # random token ids in every sequence, like dsinfer bench's
        n = int(test[5:])
        cmd = [os.path.join(a.llama_bin, "llama-batched-bench"), "-m", a.model, "-c",
               str(max(2048, n * (BATCH_PROMPT + BATCH_STEPS))), "-b", "2048", "-ub", "512", "-npp", str(BATCH_PROMPT),
               "-ntg", str(BATCH_STEPS), "-npl", str(n), "-t", str(a.threads), "-fa", "on",
               "--output-format", "jsonl"] + a.llama_args
        out, err, wall, rss, cg = run_rusage(a, cmd)
        rows = [json.loads(l) for l in (out + "\n" + err).splitlines() if l.startswith("{\"n_kv_max\"")]
        if not rows:
            sys.exit(f"no result line in llama-batched-bench's output:\n{err[-2000:]}")
        return rows[-1]["speed_tg"], rss, cg
    cmd = [os.path.join(a.llama_bin, "llama-bench"), "-m", a.model, "-t", str(a.threads), "-r", "1", "-fa", "1",
           "-o", "json"]
    out, err, wall, rss, cg = run_rusage(a, cmd + bench_args(test) + a.llama_args)
    j = json.loads(out)
    return (wall if test == "start" else j[-1]["avg_ts"]), rss, cg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="directory holding llama-bench and llama-completion")
    ap.add_argument("--model", required=True)
    ap.add_argument("--dsinfer", default=os.path.join(os.path.dirname(__file__), "../../build/dsinfer"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tests", default="pp512,tg128,d4096,start")
    ap.add_argument("--via", choices=["bench", "run"], default="bench")
    ap.add_argument("--weights", choices=["auto", "mmap", "copy"], help="dsinfer --weights (default: its own)")
    ap.add_argument("--mem-limit", type=float, default=0, help="GB: run each program in a memory cgroup (root)")
    ap.add_argument("--drop-caches", action="store_true", help="drop the page cache before every run (root)")
    ap.add_argument("--seed", type=int, default=1, help="sampling seed for --via run")
    ap.add_argument("--bandwidth", type=float, default=0, help="GB/s for dsinfer's roofline (0: dsinfer measures)")
    ap.add_argument("--dsinfer-args", default="", help="extra flags for dsinfer, e.g. '--kv-type bf16'")
    ap.add_argument("--llama-args", default="", help="extra flags for llama.cpp")
    ap.add_argument("--json", help="write every run's figures here")
    a = ap.parse_args()
    a.dsinfer_args, a.llama_args = shlex.split(a.dsinfer_args), shlex.split(a.llama_args)
    tests = a.tests.split(",")
    bad = [t for t in tests if not re.fullmatch(r"pp\d+(@d\d+)?|tg\d+|d\d+|batch\d+|start", t)]
    if bad:
        sys.exit(f"unknown test {bad[0]}: ppN, ppN@dM, tgN, dN, batchN or start")
    if a.via == "run" and any(not (t.startswith("tg") or t == "start") for t in tests):
        sys.exit("--via run measures decode only: tests tgN and start")
    a.cgroup = None
    if a.via == "bench" and a.bandwidth <= 0:
        out, _, _, _, _ = run_rusage(a, [a.dsinfer, "bench", a.model, "-p", "0", "-n", "1", "-r", "1", "--json"]
                                     + a.dsinfer_args)
        a.bandwidth = json.loads(out)["bandwidth_gb_s"]
    a.cgroup = MemCgroup(a.mem_limit) if a.mem_limit > 0 else None
    a.store_lines, a.run_lines, a.batch_lines = [], [], []
    rows, runs, walls = [], [], []
    try:
        for test in tests:
            mine, peer, rss_m, rss_p, cg_m, cg_p = [], [], 0.0, 0.0, 0.0, 0.0
            wall_m, wall_p = [], []
            for r in range(a.reps):  # alternate, so drift in the machine hits both alike
                v, rss, cg = ours(a, test)
                mine.append(v)
                wall_m.append(a.last_wall)
                rss_m, cg_m = max(rss_m, rss), max(cg_m, cg)
                v, rss, cg = theirs(a, test)
                peer.append(v)
                wall_p.append(a.last_wall)
                rss_p, cg_p = max(rss_p, rss), max(cg_p, cg)
                print(f"{test} rep {r + 1}: dsinfer {mine[-1]:.2f}  llama.cpp {peer[-1]:.2f}", file=sys.stderr, flush=True)
                runs.append({"test": test, "rep": r + 1, "dsinfer": mine[-1], "llama.cpp": peer[-1],
                             "dsinfer_wall_s": wall_m[-1], "llama.cpp_wall_s": wall_p[-1],
                             "dsinfer_store": a.store_lines[-1] if a.store_lines else None,
                             "dsinfer_run": a.run_lines[-1] if a.run_lines else None})
            m, p = statistics.mean(mine), statistics.mean(peer)
            sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
            ratio = (p / m) if test == "start" else (m / p)  # > 1: dsinfer better
            rows.append((test, m, sd(mine), p, sd(peer), ratio, rss_m, rss_p, cg_m, cg_p))
            walls.append((test, statistics.mean(wall_m), statistics.mean(wall_p)))
    finally:
        if a.cgroup:
            a.cgroup.remove()
    unit = lambda t: "s" if t == "start" else "tok/s"
    how = f"via {a.via}" + (f", dsinfer --weights {a.weights}" if a.weights else "")
    how += f", memory cgroup {a.mem_limit:g} GB" if a.mem_limit else ""
    how += ", page cache dropped before each run" if a.drop_caches else ""
    if a.via == "bench":
        how += f", bandwidth {a.bandwidth:.1f} GB/s"
    print(f"model {a.model}, {a.threads} threads, {a.reps} alternating reps, {how}")
    cg = " | cgroup peak dsinfer / llama.cpp" if a.cgroup else ""
    print(f"| test | dsinfer | llama.cpp | ratio (dsinfer better > 1) | peak RSS dsinfer / llama.cpp{cg} |")
    print("|---|---|---|---|---|" + ("---|" if a.cgroup else ""))
    for t, m, sm, p, sp, ratio, rm, rp, cm, cp in rows:
        extra = f" {cm / 1024:.1f} / {cp / 1024:.1f} GB |" if a.cgroup else ""
        print(f"| {t} | {m:.2f} ± {sm:.2f} {unit(t)} | {p:.2f} ± {sp:.2f} {unit(t)} | {ratio:.2f}x | "
              f"{rm / 1024:.1f} / {rp / 1024:.1f} GB |{extra}")
    for line in a.batch_lines:
        print(line)
    if a.via == "run":  # a program may read its weights before its generation clock starts
        print("\nWhole process, wall time (load, prompt, generation):")
        print("| test | dsinfer | llama.cpp | ratio (dsinfer better > 1) |")
        print("|---|---|---|---|")
        for t, wm, wp in walls:
            print(f"| {t} | {wm:.1f} s | {wp:.1f} s | {wp / wm:.2f}x |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"model": a.model, "threads": a.threads, "how": how, "runs": runs}, fh, indent=1)


if __name__ == "__main__":
    main()
