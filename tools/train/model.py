"""A small DeepSeek-V3-architecture model in PyTorch (our own code; math from
shared/docs/model-spec.md and the conventions of shared/fixtures/README.md).

* MLA with a q LoRA (q_a_proj -> q_a_layernorm -> q_b_proj) and a compressed KV latent
  (kv_a_proj_with_mqa -> kv_a_layernorm -> kv_b_proj), one shared rope key.
* RoPE on interleaved pairs (x[2i], x[2i+1]), with YaRN frequency interpolation and the
  YaRN softmax scale.
* DeepSeekMoE: one shared expert + routed experts, sigmoid scores, a per-expert bias
  (e_score_correction_bias) used for selection only, group-limited top-k (noaux_tc),
  weights renormalized and scaled by routed_scaling_factor.
* Auxiliary-loss-free balancing: the bias is a buffer, updated outside autograd after
  each optimizer step by bias += gamma * sign(mean_load - load) (update_router_bias).
* Complementary sequence-wise balance loss (returned by forward, weight alpha applied
  by the caller).
* One MTP module: concat(enorm(embed(t_{i+1})), hnorm(h_i)) -> eh_proj -> decoder layer
  -> shared_head.norm -> head, where h_i is the main model's hidden AFTER model.norm and
  embedding / output head are shared with the main model (exported as copies).

Parameter names follow the Hugging Face layout so export is a rename-free dump, except
the MTP module which is exported as model.layers.{num_hidden_layers}.*.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        return self.weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps))


def yarn_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_tables(cfg, n_pos):
    """cos/sin [n_pos, d_rope/2] and the attention softmax scale, for cfg's rope_scaling."""
    d = cfg["qk_rope_head_dim"]
    theta = float(cfg["rope_theta"])
    i = torch.arange(0, d // 2, dtype=torch.float64)
    freq = theta ** (-2.0 * i / d)
    scale = (cfg["qk_nope_head_dim"] + d) ** -0.5
    rs = cfg.get("rope_scaling")
    mag = 1.0
    if rs and rs.get("type", rs.get("rope_type")) == "yarn":
        factor = float(rs["factor"])
        orig = float(rs["original_max_position_embeddings"])
        beta_fast, beta_slow = float(rs.get("beta_fast", 32)), float(rs.get("beta_slow", 1))
        m_all, m = float(rs.get("mscale_all_dim", 0)), float(rs.get("mscale", 1))

        def corr_dim(n):
            return d * math.log(orig / (n * 2 * math.pi)) / (2 * math.log(theta))

        low = max(math.floor(corr_dim(beta_fast)), 0)
        high = min(math.ceil(corr_dim(beta_slow)), d - 1)
        if high == low:
            high += 0.001
        ramp = ((i - low) / (high - low)).clamp(0, 1)
        smooth = 1 - ramp
        freq = freq / factor * (1 - smooth) + freq * smooth
        scale = scale * yarn_mscale(factor, m_all) ** 2
        mag = yarn_mscale(factor, m) / yarn_mscale(factor, m_all)
    pos = torch.arange(n_pos, dtype=torch.float64)
    ang = torch.outer(pos, freq)
    return (torch.cos(ang) * mag).float(), (torch.sin(ang) * mag).float(), scale


def apply_rope(x, cos, sin):
    """x [..., T, d_rope]: rotate consecutive pairs (x[2i], x[2i+1]) by pos * freq[i]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.H, self.dn, self.dr, self.dv = H, cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
        self.rkv, rq = cfg["kv_lora_rank"], cfg["q_lora_rank"]
        eps = cfg["rms_norm_eps"]
        self.q_a_proj = nn.Linear(D, rq, bias=False)
        self.q_a_layernorm = RMSNorm(rq, eps)
        self.q_b_proj = nn.Linear(rq, H * (self.dn + self.dr), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(D, self.rkv + self.dr, bias=False)
        self.kv_a_layernorm = RMSNorm(self.rkv, eps)
        self.kv_b_proj = nn.Linear(self.rkv, H * (self.dn + self.dv), bias=False)
        self.o_proj = nn.Linear(H * self.dv, D, bias=False)

    def forward(self, h, cos, sin, softmax_scale):
        B, T, _ = h.shape
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(h))).view(B, T, self.H, self.dn + self.dr)
        q = q.transpose(1, 2)                                        # [B, H, T, dn+dr]
        q_nope, q_rope = q[..., :self.dn], apply_rope(q[..., self.dn:], cos, sin)
        kv_a = self.kv_a_proj_with_mqa(h)
        c = self.kv_a_layernorm(kv_a[..., :self.rkv])                # the cached latent
        k_rope = apply_rope(kv_a[..., self.rkv:], cos, sin)          # [B, T, dr], shared by heads
        kv = self.kv_b_proj(c).view(B, T, self.H, self.dn + self.dv).transpose(1, 2)
        k_nope, v = kv[..., :self.dn], kv[..., self.dn:]
        scores = (q_nope @ k_nope.transpose(-1, -2) + q_rope @ k_rope.unsqueeze(1).transpose(-1, -2))
        scores = scores * softmax_scale
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
        o = torch.softmax(scores.float(), dim=-1) @ v                # [B, H, T, dv]
        return self.o_proj(o.transpose(1, 2).reshape(B, T, self.H * self.dv))


class FFN(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.gate_proj = nn.Linear(dim, inter, bias=False)
        self.up_proj = nn.Linear(dim, inter, bias=False)
        self.down_proj = nn.Linear(inter, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    """Router: mlp.gate.weight [E, D] and the aux-loss-free bias e_score_correction_bias [E]."""

    def __init__(self, cfg):
        super().__init__()
        E = cfg["n_routed_experts"]
        self.weight = nn.Parameter(torch.empty(E, cfg["hidden_size"]))
        self.register_buffer("e_score_correction_bias", torch.zeros(E, dtype=torch.float32))
        self.E, self.k = E, cfg["num_experts_per_tok"]
        self.n_group, self.topk_group = cfg["n_group"], cfg["topk_group"]
        self.norm_topk_prob = cfg["norm_topk_prob"]
        self.scaling = cfg["routed_scaling_factor"]

    def forward(self, x):
        """x [N, D] -> (expert ids [N, k], weights [N, k], scores s [N, E])."""
        s = torch.sigmoid(F.linear(x.float(), self.weight.float()))
        sel = s.detach() + self.e_score_correction_bias               # bias steers selection only
        N = sel.shape[0]
        if self.n_group > 1:
            g = sel.view(N, self.n_group, -1)
            group_score = g.topk(2, dim=-1).values.sum(-1)            # sum of the 2 best per group
            keep = group_score.topk(self.topk_group, dim=-1).indices
            gmask = torch.ones(N, self.n_group, dtype=torch.bool)
            gmask.scatter_(1, keep, False)
            sel = g.masked_fill(gmask.unsqueeze(-1), float("-inf")).view(N, -1)
        idx = sel.topk(self.k, dim=-1).indices
        w = s.gather(1, idx)                                          # weights WITHOUT the bias
        if self.norm_topk_prob:
            w = w / w.sum(-1, keepdim=True)
        return idx, w * self.scaling, s


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, I = cfg["hidden_size"], cfg["moe_intermediate_size"]
        self.gate = Gate(cfg)
        self.experts = nn.ModuleList(FFN(D, I) for _ in range(cfg["n_routed_experts"]))
        self.shared_experts = FFN(D, I * cfg["n_shared_experts"])
        self.last_load = None        # [E] token counts of the last forward (for the bias update)
        self.last_balance_loss = None

    def forward(self, x):
        B, T, D = x.shape
        flat = x.reshape(-1, D)
        idx, w, s = self.gate(flat)
        E, k = self.gate.E, self.gate.k
        out = torch.zeros_like(flat)
        flat_idx = idx.reshape(-1)
        tok = torch.arange(flat.shape[0]).repeat_interleave(k)
        order = torch.argsort(flat_idx, stable=True)
        counts = torch.bincount(flat_idx, minlength=E)
        w_flat = w.reshape(-1)
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            sl = order[start:start + n]
            start += n
            t = tok[sl]
            y = self.experts[e](flat[t]) * w_flat[sl].unsqueeze(-1).to(flat.dtype)
            out.index_add_(0, t, y)
        self.last_load = counts.detach()
        if self.training:
            # Complementary sequence-wise balance loss (V3 report eq. 17-20), per sequence:
            # f_i = E/(k T) * #{t: i in topk(t)},  P_i = mean_t s_{i,t} / sum_j s_{j,t},
            # L = sum_i f_i P_i, averaged over the sequences of the batch.
            onehot = torch.zeros(B * T, E).scatter_(1, idx, 1.0).view(B, T, E)
            f = onehot.sum(1) * (E / (k * T))
            p = (s / s.sum(-1, keepdim=True)).view(B, T, E).mean(1)
            self.last_balance_loss = (f * p).sum(-1).mean()
        return out.view(B, T, D) + self.shared_experts(x)


class DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx):
        super().__init__()
        eps = cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(cfg["hidden_size"], eps)
        self.self_attn = MLA(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], eps)
        if layer_idx < cfg["first_k_dense_replace"]:
            self.mlp = FFN(cfg["hidden_size"], cfg["intermediate_size"])
        else:
            self.mlp = MoE(cfg)

    def forward(self, x, cos, sin, scale):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, scale)
        return x + self.mlp(self.post_attention_layernorm(x))


class MTPModule(nn.Module):
    """Exported as model.layers.{num_hidden_layers}: enorm, hnorm, eh_proj, the decoder
    layer's own tensors, shared_head.norm (+ copies of embed_tokens and lm_head)."""

    def __init__(self, cfg):
        super().__init__()
        D, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.enorm = RMSNorm(D, eps)
        self.hnorm = RMSNorm(D, eps)
        self.eh_proj = nn.Linear(2 * D, D, bias=False)
        self.layer = DecoderLayer(cfg, cfg["num_hidden_layers"])     # an MoE layer
        self.shared_head_norm = RMSNorm(D, eps)


class DeepseekV3(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, V = cfg["hidden_size"], cfg["vocab_size"]
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList(DecoderLayer(cfg, l) for l in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(D, cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(D, V, bias=False)
        self.mtp = MTPModule(cfg) if cfg.get("num_nextn_predict_layers", 0) else None
        cos, sin, scale = rope_tables(cfg, cfg["max_position_embeddings"])
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.softmax_scale = scale

    def init_weights(self, std=0.02):
        n_res = 2 * (self.cfg["num_hidden_layers"] + 1)
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name or "shared_head_norm" in name \
                    or name.endswith("enorm.weight") or name.endswith("hnorm.weight"):
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, std=std / math.sqrt(n_res))   # residual-branch outputs
            else:
                nn.init.normal_(p, std=std)

    def moe_layers(self):
        mods = [l.mlp for l in self.layers if isinstance(l.mlp, MoE)]
        if self.mtp is not None:
            mods.append(self.mtp.layer.mlp)
        return mods

    def forward(self, tokens, mtp_tokens=None):
        """tokens [B, T] -> main logits [B, T, V], post-norm hidden h [B, T, D].
        If mtp_tokens [B, T'] (T' <= T) is given, it holds t_{i+1} for MTP position i, and
        MTP logits [B, T', V] (row i predicts t_{i+2}) are returned as well."""
        B, T = tokens.shape
        cos, sin = self.rope_cos[:T], self.rope_sin[:T]
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin, self.softmax_scale)
        h = self.norm(x)
        logits = self.lm_head(h)
        mtp_logits = None
        if mtp_tokens is not None:
            Tm = mtp_tokens.shape[1]
            m = self.mtp
            e = m.enorm(self.embed_tokens(mtp_tokens))
            u = m.eh_proj(torch.cat([e, m.hnorm(h[:, :Tm])], dim=-1))   # embedding half first
            u = m.layer(u, cos[:Tm], sin[:Tm], self.softmax_scale)
            mtp_logits = self.lm_head(m.shared_head_norm(u))
        return logits, h, mtp_logits

    def balance_loss(self):
        return sum(m.last_balance_loss for m in self.moe_layers())

    @torch.no_grad()
    def update_router_bias(self, gamma):
        """Aux-loss-free rule: bias += gamma * sign(mean load - load), per MoE layer, from
        the expert loads of the last forward."""
        for m in self.moe_layers():
            load = m.last_load.float()
            m.gate.e_score_correction_bias += gamma * torch.sign(load.mean() - load)


def hf_state_dict(model):
    """Parameters and the trained router biases under their Hugging Face names, float32."""
    cfg = model.cfg
    L = cfg["num_hidden_layers"]
    out = {}
    sd = model.state_dict()
    for name, t in sd.items():
        if name.startswith("rope_"):
            continue
        if name.startswith("mtp."):
            rest = name[len("mtp."):]
            if rest.startswith("layer."):
                hf = f"model.layers.{L}." + rest[len("layer."):]
            elif rest.startswith("shared_head_norm."):
                hf = f"model.layers.{L}.shared_head.norm." + rest[len("shared_head_norm."):]
            else:
                hf = f"model.layers.{L}." + rest
        elif name.startswith("lm_head."):
            hf = name
        else:
            hf = "model." + name
        out[hf] = t.detach().float().contiguous()
    if model.mtp is not None:   # the MTP module's own copies of the shared embedding and head
        out[f"model.layers.{L}.embed_tokens.weight"] = out["model.embed_tokens.weight"].clone()
        out[f"model.layers.{L}.shared_head.head.weight"] = out["lm_head.weight"].clone()
    return out
