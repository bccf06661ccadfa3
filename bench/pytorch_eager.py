#!/usr/bin/env python3
"""PyTorch eager-mode reference timings for README comparisons (optional tooling; the project and
its tests never need Python). A plain Llama forward in the transformers convention (RMSNorm,
rotate_half RoPE, GQA, SiLU MLP), timed for next-token scoring and for one training step
(full fine-tuning or LoRA on q/k/v/o) on the same shape, batch and sequence as `loro bench`.

Usage: python3 bench/pytorch_eager.py recipes/shapes/llama-42m.json --batch 4 --seq 256 --mode lora
Needs torch (Debian: apt-get install python3-torch libopenblas0-pthread; without OpenBLAS Debian's torch
falls back to reference BLAS and is ~20x slower).
"""
import argparse, json, math, os, time
import torch
import torch.nn.functional as F


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Model(torch.nn.Module):
    def __init__(self, c, lora_r=0, targets=("q", "k", "v", "o")):
        super().__init__()
        self.c = c
        H, I, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        nh, kv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c.get("head_dim", H // nh)
        self.nh, self.kv = nh, kv
        P = torch.nn.Parameter
        self.embed = P(torch.randn(V, H) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            m = torch.nn.Module()
            m.ln1, m.ln2 = P(torch.ones(H)), P(torch.ones(H))
            shapes = {"q": (nh * self.hd, H), "k": (kv * self.hd, H), "v": (kv * self.hd, H), "o": (H, nh * self.hd),
                      "gate": (I, H), "up": (I, H), "down": (H, I)}
            for n, s in shapes.items():
                setattr(m, n, P(torch.randn(*s) * 0.02))
                if lora_r and n in targets:
                    setattr(m, n + "_A", P(torch.randn(lora_r, s[1]) * 0.02))
                    setattr(m, n + "_B", P(torch.zeros(s[0], lora_r)))
            self.layers.append(m)
        self.norm = P(torch.ones(H))
        self.lora_r, self.targets = lora_r, targets
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.register_buffer("inv", inv, persistent=False)

    def lin(self, m, n, x):
        y = F.linear(x, getattr(m, n))
        if self.lora_r and n in self.targets:
            y = y + F.linear(F.linear(x, getattr(m, n + "_A")), getattr(m, n + "_B")) * 2.0
        return y

    def forward(self, ids):
        B, T = ids.shape
        eps = self.c.get("rms_norm_eps", 1e-6)
        pos = torch.arange(T).float()
        fr = torch.outer(pos, self.inv)
        emb = torch.cat((fr, fr), -1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = F.embedding(ids, self.embed)
        for m in self.layers:
            h = rms(x, m.ln1, eps)
            q = self.lin(m, "q", h).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = self.lin(m, "k", h).view(B, T, self.kv, self.hd).transpose(1, 2)
            v = self.lin(m, "v", h).view(B, T, self.kv, self.hd).transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            rep = self.nh // self.kv
            k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            a = ((q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask).softmax(-1) @ v
            x = x + self.lin(m, "o", a.transpose(1, 2).reshape(B, T, -1))
            h = rms(x, m.ln2, eps)
            x = x + self.lin(m, "down", F.silu(self.lin(m, "gate", h)) * self.lin(m, "up", h))
        return F.linear(rms(x, self.norm, eps), self.embed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--mode", choices=["lora", "full", "logprobs"], default="lora")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rank", type=int, default=8)
    a = ap.parse_args()
    c = json.load(open(a.config))
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = Model(c, lora_r=a.rank if a.mode == "lora" else 0)
    if a.mode == "lora":
        for n, p in model.named_parameters():
            p.requires_grad = n.endswith("_A") or n.endswith("_B")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4) if params else None
    ids = torch.randint(0, c["vocab_size"], (a.batch, a.seq))
    times = []
    for i in range(a.steps + 2):
        t0 = time.perf_counter()
        if a.mode == "logprobs":
            with torch.no_grad():
                lp = model(ids).log_softmax(-1)[:, :-1].gather(-1, ids[:, 1:, None])
                float(lp.sum())
        else:
            logits = model(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({"engine": "pytorch-eager " + torch.__version__, "threads": torch.get_num_threads(),
                      "mode": a.mode, "batch": a.batch, "seq": a.seq,
                      "step_s": round(med, 4), "tokens_per_s": round(a.batch * a.seq / med, 1)}))


if __name__ == "__main__":
    main()
