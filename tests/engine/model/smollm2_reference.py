#!/usr/bin/env python3
"""An independent NumPy forward pass of a llama-architecture GGUF model
(written for SmolLM2-135M-Instruct), the reference that
tests/engine/model/compare_with_reference.py checks our engine against.

Nothing here comes from the engine: weights are read with the PyPI `gguf`
package (GGUFReader) and dequantized with `gguf.quants.dequantize` (the
format's reference implementation), hyper-parameters come from the `llama.*`
metadata, and the arithmetic is float64 throughout (the dequantized f32
weights are exact in f64), so the reference's own rounding error (~1e-15) is
far below the engine's f32 error (~1e-6) that the test bounds at 1e-4.

The llama architecture, as llama.cpp computes it:
  x = token_embd[ids]                                    # [n, dim]
  per layer:  h = rmsnorm(x) * attn_norm
              q, k, v = h Wq^T, h Wk^T, h Wv^T            # [n, 9*64], [n, 3*64], [n, 3*64]
              q, k = rope(q), rope(k)
              x += softmax_causal(q k^T / sqrt(64)) v Wo^T  # query head h reads KV head h // 3
              h = rmsnorm(x) * ffn_norm
              x += (silu(h Wgate^T) * (h Wup^T)) Wdown^T
  logits = (rmsnorm(x) * output_norm) W^T, W = output.weight or tied token_embd

RoPE: llama.cpp's converter permutes the HF q/k rows of each head so that the
rotated pairs are adjacent, (2i, 2i+1), with frequency base^(-2i/d) ("normal"
or GPT-J-style RoPE, ggml mode 0). ROPE_STYLES below applies that directly on
the stored rows ("interleaved"), or un-permutes the rows to HF's layout and
applies HF's rotate_half on pairs (i, i + d/2) ("halves"); the two must agree
to rounding (self_check). "wrong" applies rotate_half on the stored rows: the
mistake the test must catch.
"""
import json

import numpy as np

ROPE_STYLES = ("interleaved", "halves", "wrong")


def field_value(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


class GgufLlama:
    """Weights and hyper-parameters of a llama-architecture GGUF, in float64."""

    def __init__(self, path):
        import gguf  # PyPI `gguf`: the reader and the dequantization reference

        r = gguf.GGUFReader(path)
        arch = field_value(r, "general.architecture")
        if arch != "llama":
            raise ValueError(f"{path}: architecture {arch!r}, only 'llama' is supported here")
        kv = lambda k, d=None: field_value(r, f"llama.{k}", d)  # noqa: E731
        self.dim = int(kv("embedding_length"))
        self.n_layers = int(kv("block_count"))
        self.n_heads = int(kv("attention.head_count"))
        self.n_kv_heads = int(kv("attention.head_count_kv", self.n_heads))
        self.hidden_dim = int(kv("feed_forward_length"))
        self.head_dim = int(kv("attention.key_length", self.dim // self.n_heads))
        self.eps = float(kv("attention.layer_norm_rms_epsilon"))
        self.rope_base = float(kv("rope.freq_base", 10000.0))
        self.rope_dims = int(kv("rope.dimension_count", self.head_dim))
        if self.rope_dims != self.head_dim:
            raise ValueError("partial RoPE is not implemented in the reference")
        self.reader = r
        self.w = {}
        for t in r.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type)  # numpy order: [rows, cols]
            self.w[t.name] = np.asarray(a, dtype=np.float64)
        self.vocab_size = self.w["token_embd.weight"].shape[0]
        self.tied = "output.weight" not in self.w
        self.output = self.w["token_embd.weight"] if self.tied else self.w["output.weight"]
        inv = self.rope_base ** (-np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)
        self.inv_freq = inv  # [head_dim / 2]

    # ---- layouts ------------------------------------------------------------------

    def unpermute(self, w, n_heads):
        """GGUF q/k rows -> HF rows: inverse of llama.cpp convert's permute
        (w.reshape(n_head, 2, d/2, in).swapaxes(1, 2))."""
        d = self.head_dim
        return w.reshape(n_heads, d // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)

    # ---- the forward pass ---------------------------------------------------------

    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos, style):
        """x: [n, heads, head_dim] in the weights' row layout; pos: [n]."""
        ang = pos[:, None].astype(np.float64) * self.inv_freq[None, :]  # [n, d/2]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        out = np.empty_like(x)
        if style == "interleaved":  # pairs (2i, 2i+1)
            a, b = x[..., 0::2], x[..., 1::2]
            out[..., 0::2] = a * cos - b * sin
            out[..., 1::2] = a * sin + b * cos
        else:  # rotate_half: pairs (i, i + d/2)
            h = self.head_dim // 2
            a, b = x[..., :h], x[..., h:]
            out[..., :h] = a * cos - b * sin
            out[..., h:] = a * sin + b * cos
        return out

    def new_cache(self):
        return [{"k": None, "v": None} for _ in range(self.n_layers)]

    def forward(self, ids, cache, style="interleaved"):
        """Logits [len(ids), vocab] for `ids` following the tokens already in
        `cache` (positions continue from there); appends to `cache`."""
        if style not in ROPE_STYLES:
            raise ValueError(style)
        ids = np.asarray(ids, dtype=np.int64)
        n, hd, nh, nkv = len(ids), self.head_dim, self.n_heads, self.n_kv_heads
        past = 0 if cache[0]["k"] is None else cache[0]["k"].shape[0]
        pos = np.arange(past, past + n)
        x = self.w["token_embd.weight"][ids]  # [n, dim]
        group = nh // nkv
        for l in range(self.n_layers):
            p = f"blk.{l}."
            h = self.rmsnorm(x, self.w[p + "attn_norm.weight"])
            wq, wk = self.w[p + "attn_q.weight"], self.w[p + "attn_k.weight"]
            if style == "halves":
                wq, wk = self.unpermute(wq, nh), self.unpermute(wk, nkv)
            q = (h @ wq.T).reshape(n, nh, hd)
            k = (h @ wk.T).reshape(n, nkv, hd)
            v = (h @ self.w[p + "attn_v.weight"].T).reshape(n, nkv, hd)
            q, k = self.rope(q, pos, style), self.rope(k, pos, style)
            c = cache[l]
            c["k"] = k if c["k"] is None else np.concatenate([c["k"], k])
            c["v"] = v if c["v"] is None else np.concatenate([c["v"], v])
            K, V = c["k"], c["v"]  # [past + n, nkv, hd]
            t = K.shape[0]
            mask = pos[:, None] >= np.arange(t)[None, :]  # [n, t] causal
            att = np.empty((n, nh, hd))
            for head in range(nh):
                kvh = head // group  # consecutive grouping (HF repeat_kv, llama.cpp)
                s = q[:, head, :] @ K[:, kvh, :].T / np.sqrt(hd)  # [n, t]
                s = np.where(mask, s, -np.inf)
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                att[:, head, :] = s @ V[:, kvh, :]
            x = x + att.reshape(n, nh * hd) @ self.w[p + "attn_output.weight"].T
            h = self.rmsnorm(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            u = h @ self.w[p + "ffn_up.weight"].T
            x = x + (g / (1.0 + np.exp(-g)) * u) @ self.w[p + "ffn_down.weight"].T
        x = self.rmsnorm(x, self.w["output_norm.weight"])
        return x @ self.output.T

    def greedy(self, prompt_ids, n_new, style="interleaved"):
        """(generated ids, logits [len(prompt) + n_new - 1, vocab]): the logits of
        every position of prompt + generated[:-1], i.e. what one prefill of that
        sequence gives, row i predicting token i + 1."""
        cache = self.new_cache()
        rows = [self.forward(prompt_ids, cache, style)]
        out = [int(np.argmax(rows[0][-1]))]
        while len(out) < n_new:
            rows.append(self.forward([out[-1]], cache, style))
            out.append(int(np.argmax(rows[-1][-1])))
        return out, np.concatenate(rows)

    # ---- export ---------------------------------------------------------------------

    def hf_config(self):
        bos = field_value(self.reader, "tokenizer.ggml.bos_token_id", 1)
        eos = field_value(self.reader, "tokenizer.ggml.eos_token_id", 2)
        return {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": self.dim, "intermediate_size": self.hidden_dim,
            "num_hidden_layers": self.n_layers, "num_attention_heads": self.n_heads,
            "num_key_value_heads": self.n_kv_heads, "head_dim": self.head_dim,
            "vocab_size": self.vocab_size, "rms_norm_eps": self.eps, "rope_theta": self.rope_base,
            "max_position_embeddings": int(field_value(self.reader, "llama.context_length", 2048)),
            "tie_word_embeddings": self.tied, "bos_token_id": int(bos), "eos_token_id": int(eos),
            "hidden_act": "silu", "torch_dtype": "float32",
        }

    def hf_tensors(self):
        """{HF name: float32 array}, q/k rows un-permuted to HF's rotate_half layout."""
        t = {"model.embed_tokens.weight": self.w["token_embd.weight"],
             "model.norm.weight": self.w["output_norm.weight"]}
        if not self.tied:
            t["lm_head.weight"] = self.w["output.weight"]
        names = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
                 "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
                 "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
                 "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
        for l in range(self.n_layers):
            for g, h in names.items():
                w = self.w[f"blk.{l}.{g}.weight"]
                if g == "attn_q":
                    w = self.unpermute(w, self.n_heads)
                elif g == "attn_k":
                    w = self.unpermute(w, self.n_kv_heads)
                t[f"model.layers.{l}.{h}.weight"] = w
        return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}


def write_safetensors(path, tensors):
    """safetensors: u64 LE header length, JSON header, raw little-endian data."""
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for a in tensors.values():
            f.write(a.astype("<f4", copy=False).tobytes())


def tokenizer_json(reader):
    """An HF tokenizer.json from a gpt2-model GGUF vocabulary (smollm / gpt2
    pre-tokenizers); control tokens (type 3) become special added tokens."""
    model = field_value(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise ValueError(f"tokenizer.ggml.model {model!r}: only gpt2 (byte-level BPE) is written")
    pre = field_value(reader, "tokenizer.ggml.pre", "default")
    tokens = field_value(reader, "tokenizer.ggml.tokens")
    types = field_value(reader, "tokenizer.ggml.token_type")
    merges = field_value(reader, "tokenizer.ggml.merges")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if pre == "smollm":  # llama.cpp: "\p{N}" then the GPT-2 regex (HF: Digits + ByteLevel)
        pre_tok = {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]}
    elif pre in ("gpt2", "default"):
        pre_tok = byte_level
    else:
        raise ValueError(f"tokenizer.ggml.pre {pre!r} is not written by this reference")
    added = [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in range(len(tokens)) if types[i] == 3]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None, "pre_tokenizer": pre_tok,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                           "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": list(merges)},
    }


def write_hf_dir(model, out_dir):
    """config.json + model.safetensors (f32, HF q/k layout) + tokenizer.json."""
    import os

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.hf_config(), f, indent=1)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(model.reader), f, ensure_ascii=False)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), model.hf_tensors())
