#!/usr/bin/env python3
"""Logits of our engine against HF transformers' LlamaForCausalLM on random
GQA configs saved with save_pretrained, in fp32 and in bf16 (GPU machine;
`--device cpu --ours-backend cpu` runs it without a GPU, the CPU backend
then standing in for CUDA in the "ours CUDA" column).

For each config and dtype: build a random LlamaForCausalLM, save it, run
gqa-logits-dump (one prefill over the same token ids) with the CUDA backend
(in the model's dtype) and the CPU backend, and compare with the reference:
HF's model computed in fp32 on the saved weights (eager attention, no TF32).
For bf16 models HF's own bf16 forward is measured against the same reference
as the yardstick of what bf16 arithmetic costs.

Pass: fp32 ours < 1e-4 relative error (||out - ref|| / ||ref||); bf16 CUDA
< 2e-2, or at most 1.5x HF's own bf16 error (bf16 rounding alone costs HF
2.4e-2 on some of these configs: measured on the CPU, torch 2.15); the CPU
backend (fp32 arithmetic on the saved weights) < 1e-4 always. A dump that
fails is a failed row, and the table is still written. Exit status 1 on any
failure.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

CONFIGS = [
    # name, hidden, heads, kv_heads, head_dim, layers, intermediate, vocab
    ("gqa4_d64", 512, 8, 2, 64, 2, 1024, 1000),
    ("gqa8_d128", 1024, 16, 2, 128, 2, 2048, 1000),
    ("mqa_d128", 1024, 8, 1, 128, 2, 1536, 1000),
    ("mha_d64", 256, 4, 4, 64, 3, 512, 1000),
]


def rel_err(out, ref):
    return float(torch.linalg.norm(out - ref) / torch.linalg.norm(ref))


def exact_rope(model, rope):
    """model.to(bf16) also rounds RoPE's inv_freq buffers, which HF keeps in fp32
    when it loads a bf16 checkpoint (and our engine computes from rope_theta):
    puts the fp32 ones saved in `rope` back."""
    r = model.model.rotary_emb
    for n, b in rope.items():
        setattr(r, n, b.to(r.inv_freq.device))
    return model


def run_dump(tool, model_dir, ids, backend, dtype, out_path):
    cmd = [tool, "--model", model_dir, "--ids", ",".join(map(str, ids)), "--out", out_path,
           "--backend", backend, "--dtype", dtype]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    n, vocab = map(int, r.stdout.split())
    return torch.from_numpy(np.fromfile(out_path, dtype=np.float32).reshape(n, vocab))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dump-tool", required=True)
    p.add_argument("--work-dir", required=True)
    p.add_argument("--out-md", default="")
    p.add_argument("--tokens", type=int, default=100)
    p.add_argument("--device", default="cuda", help="torch device of the HF forwards (cpu: no GPU needed)")
    p.add_argument("--ours-backend", default="cuda",
                   help="backend of the 'ours' dump in the model's dtype (cpu: a run without a GPU)")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    os.makedirs(a.work_dir, exist_ok=True)
    rows, ok = [], True
    for name, hidden, heads, kv, head_dim, layers, inter, vocab in CONFIGS:
        for dtype in (torch.float32, torch.bfloat16):
            dname = "f32" if dtype == torch.float32 else "bf16"
            torch.manual_seed(0)
            config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                                 num_attention_heads=heads, num_key_value_heads=kv, head_dim=head_dim,
                                 vocab_size=vocab, max_position_embeddings=512, rms_norm_eps=1e-5,
                                 rope_theta=10000.0, tie_word_embeddings=False, initializer_range=0.05,
                                 attn_implementation="eager")
            model = LlamaForCausalLM(config).eval()
            rope = {n: b.clone() for n, b in model.model.rotary_emb.named_buffers()}
            model = exact_rope(model.to(dtype), rope)
            model_dir = os.path.join(a.work_dir, f"{name}_{dname}")
            model.save_pretrained(model_dir)  # safetensors
            ids = torch.randint(3, vocab, (a.tokens,), generator=torch.Generator().manual_seed(1)).tolist()
            with torch.no_grad():
                x = torch.tensor([ids], device=a.device)
                ref = exact_rope(model.float().to(a.device), rope)(x).logits[0].float().cpu()
                native = None
                if dtype != torch.float32:
                    native = exact_rope(model.to(dtype).to(a.device), rope)(x).logits[0].float().cpu()
            model.cpu()
            e_native = rel_err(native, ref) if native is not None else None
            try:
                ours_cuda = run_dump(a.dump_tool, model_dir, ids, a.ours_backend, dname,
                                     os.path.join(model_dir, "cuda.bin"))
                ours_cpu = run_dump(a.dump_tool, model_dir, ids, "cpu", "f32", os.path.join(model_dir, "cpu.bin"))
            except (RuntimeError, ValueError) as e:
                print(f"{name} {dname}: {e}", file=sys.stderr)
                ok = False
                rows.append((name, heads, kv, head_dim, dname, float("nan"), float("nan"), e_native, 0.0, False))
                continue
            e_cuda, e_cpu = rel_err(ours_cuda, ref), rel_err(ours_cpu, ref)
            argmax = float((ours_cuda.argmax(-1) == ref.argmax(-1)).float().mean())
            limit = 1e-4 if dtype == torch.float32 else max(2e-2, 1.5 * e_native)
            passed = e_cuda < limit and e_cpu < 1e-4 and not np.isnan(e_cuda)
            ok &= passed
            rows.append((name, heads, kv, head_dim, dname, e_cuda, e_cpu, e_native, argmax, passed))
    lines = ["| config | heads/KV | head_dim | dtype | ours CUDA vs HF fp32 | ours CPU vs HF fp32 | "
             "HF bf16 vs HF fp32 | argmax agree | pass |", "|---|---|---|---|---|---|---|---|---|"]
    for name, h, kv, d, dt, ec, ep, en, am, ps in rows:
        lines.append(f"| {name} | {h}/{kv} | {d} | {dt} | {ec:.2e} | {ep:.2e} | "
                     f"{'-' if en is None else f'{en:.2e}'} | {am:.3f} | {'yes' if ps else 'NO'} |")
    text = "\n".join(lines)
    print(text)
    if a.out_md:
        with open(a.out_md, "w") as f:
            f.write("# Logits vs HF transformers LlamaForCausalLM\n\n" + text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
