#!/usr/bin/env python3
"""Export a train.py checkpoint in the Hugging Face DeepSeek-V3 layout.

Writes OUT/config.json (model_type deepseek_v3, the field set of the released configs,
no quantization_config), OUT/model.safetensors (all tensors F32, including the TRAINED
router biases mlp.gate.e_score_correction_bias; the MTP module as
model.layers.{num_hidden_layers}.* with its own copies of embed_tokens and
shared_head.head), OUT/tokenizer.json and OUT/tokenizer_config.json (copied), and, with
--card, OUT/README.md (the model card, filled from the training log).

safetensors is written by hand: u64-LE header length, JSON header
({"__metadata__": {"format": "pt"}, name: {dtype, shape, data_offsets}}, tensors sorted by
name, padded with spaces to a multiple of 8), then the raw little-endian data.

usage: export_hf.py CKPT --tokenizer DIR --out DIR [--card TEMPLATE --log TRAIN_LOG]
"""
import argparse
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import DeepseekV3, hf_state_dict  # noqa: E402


def hf_config(cfg, alpha):
    c = {
        "architectures": ["DeepseekV3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "aux_loss_alpha": alpha,
        "bos_token_id": cfg["bos_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "ep_size": 1,
        "first_k_dense_replace": cfg["first_k_dense_replace"],
        "hidden_act": "silu",
        "hidden_size": cfg["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"],
        "kv_lora_rank": cfg["kv_lora_rank"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "model_type": "deepseek_v3",
        "moe_intermediate_size": cfg["moe_intermediate_size"],
        "moe_layer_freq": 1,
        "n_group": cfg["n_group"],
        "n_routed_experts": cfg["n_routed_experts"],
        "n_shared_experts": cfg["n_shared_experts"],
        "norm_topk_prob": cfg["norm_topk_prob"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_experts_per_tok": cfg["num_experts_per_tok"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "num_nextn_predict_layers": cfg["num_nextn_predict_layers"],
        "pretraining_tp": 1,
        "q_lora_rank": cfg["q_lora_rank"],
        "qk_nope_head_dim": cfg["qk_nope_head_dim"],
        "qk_rope_head_dim": cfg["qk_rope_head_dim"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_scaling": dict(sorted(cfg["rope_scaling"].items())),
        "rope_theta": cfg["rope_theta"],
        "routed_scaling_factor": cfg["routed_scaling_factor"],
        "scoring_func": cfg["scoring_func"],
        "seq_aux": True,
        "tie_word_embeddings": cfg["tie_word_embeddings"],
        "topk_group": cfg["topk_group"],
        "topk_method": cfg["topk_method"],
        "torch_dtype": "float32",
        "transformers_version": "4.33.1",
        "use_cache": True,
        "v_head_dim": cfg["v_head_dim"],
        "vocab_size": cfg["vocab_size"],
    }
    return c


def write_safetensors(tensors, path):
    header = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].numpy().astype("<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = str(path) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return off


def load_model(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    model = DeepseekV3(ck["cfg"])
    model.load_state_dict(ck["model"])
    model.eval()
    return model, ck


def log_records(log_path):
    recs = []
    for line in Path(log_path).read_text().splitlines():
        try:
            recs.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--card", help="model card template (README.md with {placeholders})")
    ap.add_argument("--log", help="train.log of the run (for the model card)")
    args = ap.parse_args()

    model, ck = load_model(args.ckpt)
    cfg = ck["cfg"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tensors = hf_state_dict(model)
    n_bytes = write_safetensors(tensors, out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(hf_config(cfg, ck["args"]["alpha"]), indent=2) + "\n")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(Path(args.tokenizer) / f, out / f)
    biases = {k: v for k, v in tensors.items() if k.endswith("e_score_correction_bias")}
    print(f"wrote {out}: {len(tensors)} tensors, {n_bytes} bytes of F32 data, "
          f"step {ck['step']}; trained router bias |max| per layer: "
          + ", ".join(f"{k.split('.')[2]}:{float(v.abs().max()):.4f}" for k, v in sorted(biases.items())))
    if args.card:
        recs = log_records(args.log)
        head = next(r for r in recs if "config" in r)
        final_eval = [r for r in recs if "eval_step" in r][-1]
        last_train = [r for r in recs if "step" in r][-1]
        done = next((r for r in recs if r.get("done")), {"train_time_s": ck["elapsed"], "steps": ck["step"]})
        n_params = sum(t.numel() for t in tensors.values())
        fields = {
            "steps": done["steps"], "train_time_min": f"{done['train_time_s'] / 60:.1f}",
            "seed": head["args"]["seed"], "gamma": head["args"]["gamma"], "alpha": head["args"]["alpha"], "batch": head["args"]["batch"], "seq": head["args"]["seq"],
            "train_tokens": head["train_tokens"], "heldout_tokens": head["heldout_tokens"],
            "tokens_seen": done["steps"] * head["args"]["batch"] * head["args"]["seq"],
            "epochs": f"{done['steps'] * head['args']['batch'] * head['args']['seq'] / head['train_tokens']:.1f}",
            "params": head["params"], "file_params": n_params,
            "train_loss": last_train["loss"], "train_mtp_loss": last_train["mtp_loss"],
            "eval_loss": final_eval["loss"], "eval_ppl": f"{final_eval['ppl']:.2f}",
            "eval_acc": f"{final_eval['acc']:.4f}", "eval_mtp_loss": final_eval["mtp_loss"],
            "eval_mtp_acc": f"{final_eval['mtp_acc']:.4f}",
            "eval_load": ", ".join(f"{x:.2f}" for x in final_eval["load_max_over_mean"]),
            "config_json": json.dumps(hf_config(cfg, ck["args"]["alpha"]), indent=2),
        }
        card = Path(args.card).read_text(encoding="utf-8").format(**fields)
        (out / "README.md").write_text(card, encoding="utf-8")
        print(f"wrote {out}/README.md")


if __name__ == "__main__":
    main()
