#!/usr/bin/env python3
"""Check the exporter: dsinfer's float32 logits on the exported checkpoint must match
this PyTorch model's float32 logits on the same tokens (main head and MTP head, both
attention forms, and greedy decode through the engine's KV cache).

A test of the exporter (names, layouts, bias, config fields), not a golden for the engine.

usage: check_export.py CKPT HF_DIR [--dsinfer PATH] [--tokens 0,17,42,...] [--n 64] [--decode 16]
  Without --tokens, the first --n tokens of the held-out stream (data/heldout.bin,
  starting with BOS) are used.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_hf import load_model  # noqa: E402


def run_dsinfer(binary, hf_dir, tokens, attn, decode, tmp):
    out, mtp = Path(tmp) / f"logits_{attn}.npy", Path(tmp) / f"mtp_{attn}.npy"
    cmd = [binary, "-t", "1", "logits", str(hf_dir), "--tokens", ",".join(map(str, tokens)),
           "--attn", attn, "--out", str(out), "--mtp-out", str(mtp)]
    if decode:
        cmd += ["--decode", str(decode)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"dsinfer failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return np.load(out), np.load(mtp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("hf_dir")
    ap.add_argument("--dsinfer", default="/work/main/build/dsinfer")
    ap.add_argument("--tokens")
    ap.add_argument("--data", default="/work/demo-model/data")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--decode", type=int, default=16)
    ap.add_argument("--tol", type=float, default=1e-3)
    args = ap.parse_args()
    torch.set_num_threads(1)

    model, _ = load_model(args.ckpt)
    if args.tokens:
        tokens = [int(t) for t in args.tokens.split(",")]
    else:
        tokens = np.fromfile(Path(args.data) / "heldout.bin", dtype=np.uint16)[:args.n].tolist()
    P = len(tokens)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for attn in ("naive", "absorb"):
            ds_logits, ds_mtp = run_dsinfer(args.dsinfer, args.hf_dir, tokens, attn, args.decode, tmp)
            # dsinfer: prompt rows, then one row per greedy decode step; the full sequence is
            # prompt + generated, generated[k] = argmax(row P-1+k).
            gen = [int(ds_logits[P - 1 + k].argmax()) for k in range(args.decode)]
            seq = tokens + gen[:args.decode]
            n_rows = P + args.decode
            with torch.no_grad():
                t = torch.tensor([seq[:n_rows]])
                logits, _, _ = model(t)
                _, _, mtp = model(torch.tensor([tokens]), mtp_tokens=torch.tensor([tokens[1:]]))
            pt = logits[0].numpy()
            pt_mtp = mtp[0].numpy()
            d_prompt = np.abs(ds_logits[:P] - pt[:P]).max()
            d_decode = np.abs(ds_logits[P:n_rows] - pt[P:n_rows]).max() if args.decode else 0.0
            d_mtp = np.abs(ds_mtp - pt_mtp).max()
            agree = (ds_logits.argmax(-1) == pt[:n_rows].argmax(-1)).mean()
            agree_mtp = (ds_mtp.argmax(-1) == pt_mtp.argmax(-1)).mean()
            scale = np.abs(pt).max()
            print(f"[{attn}] {P} prompt tokens + {args.decode} decoded: max|dlogit| prompt {d_prompt:.3e}, "
                  f"decode {d_decode:.3e}, MTP {d_mtp:.3e} (|logit| max {scale:.2f}); "
                  f"argmax agreement {agree:.3f}, MTP {agree_mtp:.3f}")
            if ds_mtp.shape != (P - 1, pt.shape[1]):
                print(f"  MTP shape {ds_mtp.shape} != {(P - 1, pt.shape[1])}")
                ok = False
            if max(d_prompt, d_decode, d_mtp) > args.tol or agree < 1 or agree_mtp < 1:
                ok = False
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
