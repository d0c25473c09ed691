#!/usr/bin/env python3
"""dsinfer bench and llama.cpp's llama-bench on the same GGUF file, same threads, runs
alternating, ratios reported (not run in CI).

  tools/bench/side_by_side.py --llama-bin /path/to/llama.cpp/build/bin --model v2-lite-q4.gguf \
      [--dsinfer build/dsinfer] [--threads 2] [--reps 3] [--tests pp512,tg128,d4096] [--markdown]

Tests: ppN (prefill N tokens), tgN (decode N tokens on an empty context), dN (decode 32 tokens
after N tokens of context), start (wall time to load and decode one token). Peak RSS is the
child's maximum resident set (wait4). llama-bench runs with flash attention on (-fa 1).
Build llama.cpp yourself, outside this repository, from its public source."""
import argparse, json, os, shlex, statistics, subprocess, sys, time


def run_rusage(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{err[-2000:]}")
    return out, wall, ru.ru_maxrss / 1024


def test_args(test):
    """The -p/-n/-d flags of one test, the same for both programs."""
    if test.startswith("pp"):
        return ["-p", test[2:], "-n", "0"]
    if test.startswith("tg"):
        return ["-p", "0", "-n", test[2:]]
    if test.startswith("d"):
        return ["-p", "0", "-n", "32", "-d", test[1:]]
    return ["-p", "0", "-n", "1"]  # start


def ours(a, test):
    cmd = [a.dsinfer, "bench", a.model, "-t", str(a.threads), "-r", "1", "--json", "--bandwidth", str(a.bandwidth)]
    out, wall, rss = run_rusage(cmd + test_args(test) + a.dsinfer_args)
    j = json.loads(out)
    rate = j["prefill_tok_s"] if test.startswith("pp") else j["decode_tok_s"]
    return (wall if test == "start" else rate), rss


def theirs(a, test):
    cmd = [os.path.join(a.llama_bin, "llama-bench"), "-m", a.model, "-t", str(a.threads), "-r", "1", "-fa", "1",
           "-o", "json"]
    out, wall, rss = run_rusage(cmd + test_args(test))
    j = json.loads(out)
    return (wall if test == "start" else j[-1]["avg_ts"]), rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="directory holding llama-bench")
    ap.add_argument("--model", required=True)
    ap.add_argument("--dsinfer", default=os.path.join(os.path.dirname(__file__), "../../build/dsinfer"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--bandwidth", type=float, default=0, help="GB/s for the roofline (0: dsinfer measures)")
    ap.add_argument("--tests", default="pp512,tg128,d4096,start")
    ap.add_argument("--dsinfer-args", default="", help="extra flags for dsinfer bench, e.g. '--kv-type bf16'")
    a = ap.parse_args()
    a.dsinfer_args = shlex.split(a.dsinfer_args)
    if a.bandwidth <= 0:
        out, _, _ = run_rusage([a.dsinfer, "bench", a.model, "-p", "0", "-n", "1", "-r", "1", "--json"] + a.dsinfer_args)
        a.bandwidth = json.loads(out)["bandwidth_gb_s"]
    rows = []
    for test in a.tests.split(","):
        mine, peer, rss_m, rss_p = [], [], 0.0, 0.0
        for r in range(a.reps):  # alternate, so drift in the machine hits both alike
            v, rss = ours(a, test)
            mine.append(v)
            rss_m = max(rss_m, rss)
            v, rss = theirs(a, test)
            peer.append(v)
            rss_p = max(rss_p, rss)
            print(f"{test} rep {r + 1}: dsinfer {mine[-1]:.2f}  llama.cpp {peer[-1]:.2f}", file=sys.stderr, flush=True)
        m, p = statistics.mean(mine), statistics.mean(peer)
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
        ratio = (p / m) if test == "start" else (m / p)  # > 1: dsinfer better
        rows.append((test, m, sd(mine), p, sd(peer), ratio, rss_m, rss_p))
    unit = lambda t: "s" if t == "start" else "tok/s"
    print(f"model {a.model}, {a.threads} threads, {a.reps} alternating reps, bandwidth {a.bandwidth:.1f} GB/s")
    print("| test | dsinfer | llama.cpp | ratio (dsinfer better > 1) | peak RSS dsinfer / llama.cpp |")
    print("|---|---|---|---|---|")
    for t, m, sm, p, sp, ratio, rm, rp in rows:
        print(f"| {t} | {m:.2f} ± {sm:.2f} {unit(t)} | {p:.2f} ± {sp:.2f} {unit(t)} | {ratio:.2f}x | "
              f"{rm / 1024:.1f} / {rp / 1024:.1f} GB |")


if __name__ == "__main__":
    main()
