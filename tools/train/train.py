#!/usr/bin/env python3
"""Train the dsinfer demo model (DeepSeek-V3 architecture, small) on CPU.

Loss per step = CE(main) + mtp_weight * CE(MTP, predicts t+2) + alpha * sequence-wise
balance loss (summed over MoE layers, MTP layer included). After each optimizer step the
router biases get the aux-loss-free update bias += gamma * sign(mean load - load) from the
batch's expert loads. AdamW, linear warm-up then cosine decay to lr_min. MTP weight 0.3 for
the first mtp_switch (2/3) of the steps, 0.1 after, the proportions of the V3 report.

Deterministic: seeded, one thread, torch.use_deterministic_algorithms(True). Checkpoints
(model, optimizer, data RNG) are written atomically every --ckpt-every steps to
OUT/ckpt.pt; --resume continues from it. The final model is OUT/final.pt.

usage: train.py --data DIR --out DIR [--steps N --batch B --seq T ...]
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import DeepseekV3, MoE  # noqa: E402


def model_config(vocab_size):
    """The demo model's config, with Hugging Face field names (export adds the rest)."""
    return {
        "vocab_size": vocab_size,
        "hidden_size": 256,
        "intermediate_size": 768,
        "moe_intermediate_size": 128,
        "num_hidden_layers": 4,
        "first_k_dense_replace": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "q_lora_rank": 128,
        "kv_lora_rank": 64,
        "qk_nope_head_dim": 32,
        "qk_rope_head_dim": 16,
        "v_head_dim": 32,
        "n_routed_experts": 16,
        "num_experts_per_tok": 4,
        "n_shared_experts": 1,
        "n_group": 4,
        "topk_group": 2,
        "scoring_func": "sigmoid",
        "topk_method": "noaux_tc",
        "routed_scaling_factor": 2.5,
        "norm_topk_prob": True,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000,
        "rope_scaling": {
            "beta_fast": 32, "beta_slow": 1, "factor": 4, "mscale": 1.0, "mscale_all_dim": 1.0,
            "original_max_position_embeddings": 256, "type": "yarn",
        },
        "max_position_embeddings": 1024,
        "num_nextn_predict_layers": 1,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "tie_word_embeddings": False,
    }


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr_min + 0.5 * (args.lr - args.lr_min) * (1 + math.cos(math.pi * min(1.0, p)))


def mtp_weight_at(step, args):
    return args.mtp_weight_early if step < args.mtp_switch * args.steps else args.mtp_weight_late


def batch_at(data, gen, batch, seq):
    starts = torch.randint(0, len(data) - seq - 2, (batch,), generator=gen)
    return torch.stack([data[s:s + seq + 2] for s in starts.tolist()])


def losses(model, x, seq):
    """x [B, seq+2]: main predicts x[1:seq+1] from x[:seq]; MTP position i (i < seq) gets
    t_{i+1} = x[i+1] and predicts x[i+2]."""
    logits, _, mtp_logits = model(x[:, :seq], mtp_tokens=x[:, 1:seq + 1])
    V = logits.shape[-1]
    main = F.cross_entropy(logits.reshape(-1, V), x[:, 1:seq + 1].reshape(-1))
    mtp = F.cross_entropy(mtp_logits.reshape(-1, V), x[:, 2:seq + 2].reshape(-1))
    mtp_acc = (mtp_logits.argmax(-1) == x[:, 2:seq + 2]).float().mean()
    main_acc = (logits.argmax(-1) == x[:, 1:seq + 1]).float().mean()
    return main, mtp, main_acc, mtp_acc


@torch.no_grad()
def evaluate(model, data, seq, max_windows=None, batch=8):
    """Held-out: consecutive non-overlapping windows of seq+2 tokens (deterministic)."""
    model.eval()
    n = (len(data) - 2) // seq
    if max_windows:
        n = min(n, max_windows)
    tot = {"loss": 0.0, "mtp_loss": 0.0, "acc": 0.0, "mtp_acc": 0.0}
    loads = None
    for b0 in range(0, n, batch):
        x = torch.stack([data[i * seq:i * seq + seq + 2] for i in range(b0, min(n, b0 + batch))])
        main, mtp, acc, mtp_acc = losses(model, x, seq)
        w = x.shape[0]
        tot["loss"] += main.item() * w
        tot["mtp_loss"] += mtp.item() * w
        tot["acc"] += acc.item() * w
        tot["mtp_acc"] += mtp_acc.item() * w
        l = torch.stack([m.last_load.float() for m in model.moe_layers()])
        loads = l if loads is None else loads + l
    model.train()
    out = {k: v / n for k, v in tot.items()}
    out["ppl"] = math.exp(out["loss"])
    out["windows"] = n
    out["load_max_over_mean"] = [round(float(l.max() / l.mean()), 3) for l in loads]
    return out


def save_atomic(obj, path):
    tmp = str(path) + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dir with train.bin, heldout.bin (uint16)")
    ap.add_argument("--tokenizer", required=True, help="dir with tokenizer.json (for vocab size)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=700)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-min", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--mtp-weight-early", type=float, default=0.3)
    ap.add_argument("--mtp-weight-late", type=float, default=0.1)
    ap.add_argument("--mtp-switch", type=float, default=2 / 3)
    ap.add_argument("--alpha", type=float, default=1e-4, help="sequence-wise balance loss weight")
    ap.add_argument("--gamma", type=float, default=1e-2, help="bias update speed")
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-windows", type=int, default=48)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    tj = json.loads((Path(args.tokenizer) / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = max(max(tj["model"]["vocab"].values()), max(t["id"] for t in tj["added_tokens"])) + 1
    cfg = model_config(vocab)
    train = torch.from_numpy(np.fromfile(Path(args.data) / "train.bin", dtype=np.uint16).astype(np.int64))
    held = torch.from_numpy(np.fromfile(Path(args.data) / "heldout.bin", dtype=np.uint16).astype(np.int64))

    model = DeepseekV3(cfg)
    model.init_weights()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    ckpt_path = out / "ckpt.pt"
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {step}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"config": cfg, "args": vars(args), "params": n_params,
                      "train_tokens": len(train), "heldout_tokens": len(held)}), flush=True)

    def checkpoint(path):
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                     "step": step, "elapsed": elapsed, "cfg": cfg, "args": vars(args)}, path)

    model.train()
    t_last = time.time()
    acc_loss = acc_mtp = acc_bal = 0.0
    acc_n = 0
    while step < args.steps:
        lr = lr_at(step, args)
        for g in opt.param_groups:
            g["lr"] = lr
        lam = mtp_weight_at(step, args)
        x = batch_at(train, gen, args.batch, args.seq)
        main, mtp, _, _ = losses(model, x, args.seq)
        bal = model.balance_loss()
        loss = main + lam * mtp + args.alpha * bal
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        model.update_router_bias(args.gamma)
        step += 1
        acc_loss += main.item()
        acc_mtp += mtp.item()
        acc_bal += bal.item()
        acc_n += 1
        now = time.time()
        elapsed += now - t_last
        t_last = now
        if step % args.log_every == 0 or step == args.steps:
            loads = [m.last_load.float() for m in model.moe_layers()]
            rec = {"step": step, "loss": round(acc_loss / acc_n, 4), "mtp_loss": round(acc_mtp / acc_n, 4),
                   "bal": round(acc_bal / acc_n, 4), "lr": round(lr, 6), "mtp_w": lam,
                   "gnorm": round(float(gnorm), 3),
                   "load_max_over_mean": [round(float(l.max() / l.mean()), 2) for l in loads],
                   "bias_absmax": [round(float(m.gate.e_score_correction_bias.abs().max()), 4)
                                   for m in model.moe_layers()],
                   "elapsed_s": round(elapsed, 1),
                   "tok_per_s": round(step * args.batch * args.seq / max(elapsed, 1e-9), 1)}
            print(json.dumps(rec), flush=True)
            acc_loss = acc_mtp = acc_bal = 0.0
            acc_n = 0
        if step % args.eval_every == 0 or step == args.steps:
            t0 = time.time()
            ev = evaluate(model, held, args.seq, None if step == args.steps else args.eval_windows)
            print(json.dumps({"eval_step": step, **{k: (round(v, 4) if isinstance(v, float) else v)
                                                    for k, v in ev.items()},
                              "eval_s": round(time.time() - t0, 1)}), flush=True)
            t_last = time.time()  # evaluation time is not training time
        if step % args.ckpt_every == 0 or step == args.steps:
            checkpoint(ckpt_path)
            t_last = time.time()
    checkpoint(out / "final.pt")
    print(json.dumps({"done": True, "steps": step, "train_time_s": round(elapsed, 1)}), flush=True)


if __name__ == "__main__":
    main()
