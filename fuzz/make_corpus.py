#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ (small, deterministic, committed).

    python3 fuzz/make_corpus.py            # rewrites every target's seeds
    python3 fuzz/make_corpus.py --check    # exit 1 when a seed differs from what is committed

Every seed is built here from scratch (no model file is copied): tiny
safetensors, llama2.c and tokenizer.bin files by struct.pack, GGUF files with
PyPI's `gguf` package (GGUFWriter; the GGUF seeds are skipped with a note when
it is missing), protobuf messages by hand-written wire format, and the chat
template seeds from the jinja2 parity cases (tests/engine/chat/jinja2_cases.py)
with their data as `set` statements. Files the fuzzers add while running stay
in the copy scripts/fuzz.sh makes, not here.
"""
import argparse
import ast
import hashlib
import io
import json
import os
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)


# --- safetensors -------------------------------------------------------------
def safetensors(tensors, pad_to=8, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] in data order."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header).encode()
    if pad_to:
        text += b" " * (-len(text) % pad_to)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def safetensors_seeds():
    return {
        "f32_f16_bf16": safetensors(
            [("model.embed_tokens.weight", "F32", [2, 3], f32([0.5, -1, 2, 3, 4, 5])),
             ("model.norm.weight", "F16", [3], struct.pack("<3e", 1.0, 0.5, -2.0)),
             ("lm_head.weight", "BF16", [1, 2], b"\x80\x3f\x00\x40")],
            metadata={"format": "pt"}),
        "unaligned_header": safetensors([("w", "F32", [2], f32([1, 2]))], pad_to=0),
        "empty_and_scalar": safetensors([("e", "F32", [0, 4], b""), ("s", "F32", [], f32([7]))]),
        "rank4": safetensors([("r", "F16", [1, 1, 2, 1], struct.pack("<2e", 1, 2))]),
    }


# --- llama2.c ------------------------------------------------------------------
def llama2c(dim=8, hidden=16, layers=1, heads=2, kv_heads=1, vocab=4, seq_len=4, tied=True):
    kv = dim // heads * kv_heads
    floats = (vocab * dim + layers * (dim + dim * dim + 2 * kv * dim + dim * dim + dim + 3 * hidden * dim)
              + dim + 2 * seq_len * (dim // heads) // 2 + (0 if tied else vocab * dim))
    header = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab if tied else -vocab, seq_len)
    return header + f32([((i * 37) % 17 - 8) / 16 for i in range(floats)])


def llama2c_seeds():
    ok = llama2c()
    return {
        "tied": ok,
        "untied_gqa2": llama2c(dim=8, heads=4, kv_heads=2, tied=False),
        "truncated": ok[:-4],
        "versioned_magic": struct.pack("<I", 0x616B3432) + ok[4:64],
    }


# --- tokenizer.bin ---------------------------------------------------------------
def tokenizer_bin(pieces):
    """pieces: [(piece bytes, score)]."""
    out = struct.pack("<i", max(len(p) for p, _ in pieces))
    for piece, score in pieces:
        out += struct.pack("<fi", score, len(piece)) + piece
    return out


def tokenizer_bin_seeds():
    base = [(b"<unk>", 0.0), (b"\n<s>\n", 0.0), (b"\n</s>\n", 0.0)]
    base += [(b"<0x%02X>" % b, 0.0) for b in range(256)]
    merges = [(b" ", -1.0), (b"h", -2.0), (b"e", -2.0), (b"l", -2.0), (b"o", -2.0), (b"he", -3.0),
              (b"ll", -3.0), (b"hell", -4.0), (b"hello", -5.0), (b" hello", -6.0), (b"\xc3\xa9", -2.0)]
    return {
        "bytes_and_merges": tokenizer_bin(base + merges),
        "minimal": tokenizer_bin(base[:3]),
        "duplicates": tokenizer_bin(base[:3] + [(b"a", 1.0), (b"a", 2.0), (b"aa", 0.5)]),
    }


# --- config.json -------------------------------------------------------------------
def hf_config_seeds():
    llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
             "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 8,
             "num_key_value_heads": 2, "vocab_size": 259, "max_position_embeddings": 256,
             "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True,
             "torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2}
    llama3 = dict(llama, rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 8192},
                  eos_token_id=[128001, 128008, 128009], head_dim=8, torch_dtype="float32")
    mistral = dict(llama, architectures=["MistralForCausalLM"], model_type="mistral",
                   sliding_window=None, tie_word_embeddings=False, torch_dtype="float16")
    qwen2 = dict(llama, architectures=["Qwen2ForCausalLM"], model_type="qwen2", attention_bias=True)
    return {name: json.dumps(c, indent=1).encode() for name, c in
            [("llama", llama), ("llama3_rope", llama3), ("mistral", mistral), ("qwen2", qwen2)]}


# --- tokenizer.json ----------------------------------------------------------------
def byte_level_alphabet():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, n = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def added(i, content, special=True):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": not special, "special": special}


def tokenizer_json_seeds():
    alphabet = byte_level_alphabet()
    vocab = {alphabet[b]: b for b in range(256)}
    sp = alphabet[ord(" ")]
    merges = [["h", "e"], ["l", "l"], [sp, "t"], [sp + "t", "he"], ["he", "ll"], ["hell", "o"]]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    split = {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    byte_bpe = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(len(vocab), "<|begin_of_text|>"), added(len(vocab) + 1, "<|eot_id|>"),
                         added(len(vocab) + 2, "extra", special=False)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, byte_level]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>",
                                                                     "ids": [len(vocab)], "tokens": ["<|begin_of_text|>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": True, "vocab": vocab, "merges": merges},
    }
    spm_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        spm_vocab["<0x%02X>" % b] = len(spm_vocab)
    spm_merges = [["\u2581", "h"], ["e", "l"], ["\u2581h", "el"], ["l", "o"], ["\u2581hel", "lo"]]
    for piece in ["\u2581", "h", "e", "l", "o", "w", "r", "d"]:
        spm_vocab.setdefault(piece, len(spm_vocab))
    for a, b in spm_merges:
        spm_vocab.setdefault(a + b, len(spm_vocab))
    spm = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": spm_vocab, "merges": [" ".join(m) for m in spm_merges]},
    }
    metaspace = json.loads(json.dumps(spm))
    metaspace["normalizer"] = {"type": "NFKC"}
    metaspace["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
    metaspace["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
    return {name: json.dumps(doc, ensure_ascii=False).encode() for name, doc in
            [("byte_level_bpe", byte_bpe), ("spm_byte_fallback", spm), ("metaspace_nfkc", metaspace)]}


# --- GGUF ----------------------------------------------------------------------------
def gguf_seeds():
    try:
        import gguf
        import numpy as np
    except ImportError:
        print("make_corpus: no `gguf`/`numpy` module (pip install gguf): GGUF seeds not rewritten",
              file=sys.stderr)
        return None
    seeds = {}

    def write(name, fill):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "f.gguf")
            w = gguf.GGUFWriter(path, "llama")
            fill(w)
            w.write_header_to_file()
            w.write_kv_data_to_file()
            w.write_tensors_to_file()
            w.close()
            with open(path, "rb") as f:
                seeds[name] = f.read()

    dim, hidden, heads, kv_heads, vocab = 32, 32, 4, 2, 16
    spm_tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(8)] + ["\u2581", "\u2581a", "b", "ab", "\u2581ab"]

    def model_keys(w, tokenizer_model, tokens):
        w.add_context_length(64)
        w.add_embedding_length(dim)
        w.add_block_count(1)
        w.add_feed_forward_length(hidden)
        w.add_head_count(heads)
        w.add_head_count_kv(kv_heads)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_rope_freq_base(10000.0)
        w.add_tokenizer_model(tokenizer_model)
        w.add_token_list(tokens)
        w.add_token_scores([-float(i) for i in range(len(tokens))])
        w.add_token_types([3, 3, 3] + [6] * 8 + [1] * (len(tokens) - 11))
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_chat_template("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}")

    def tensors(w, qtype):
        rng = np.random.default_rng(0)

        def mat(name, rows, cols):
            x = rng.standard_normal((rows, cols)).astype(np.float32)
            if qtype is None:
                w.add_tensor(name, x)
            else:
                q = gguf.quants.quantize(x, qtype)
                w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)

        head_dim = dim // heads
        mat("token_embd.weight", vocab, dim)
        w.add_tensor("blk.0.attn_norm.weight", np.ones(dim, np.float32))
        mat("blk.0.attn_q.weight", dim, dim)
        mat("blk.0.attn_k.weight", kv_heads * head_dim, dim)
        mat("blk.0.attn_v.weight", kv_heads * head_dim, dim)
        mat("blk.0.attn_output.weight", dim, dim)
        w.add_tensor("blk.0.ffn_norm.weight", np.ones(dim, np.float32))
        mat("blk.0.ffn_gate.weight", hidden, dim)
        mat("blk.0.ffn_up.weight", hidden, dim)
        mat("blk.0.ffn_down.weight", dim, hidden)
        w.add_tensor("output_norm.weight", np.ones(dim, np.float32))

    def spm_q8(w):
        model_keys(w, "llama", spm_tokens)
        tensors(w, gguf.GGMLQuantizationType.Q8_0)

    def spm_q4_1(w):
        model_keys(w, "llama", spm_tokens)
        tensors(w, gguf.GGMLQuantizationType.Q4_1)

    def gpt2_metadata(w):
        alphabet = byte_level_alphabet()
        tokens = [alphabet[b] for b in range(256)][:16]
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("smollm")
        w.add_token_list(tokens + ["ab", "<|im_start|>", "<|im_end|>"])
        w.add_token_types([1] * 17 + [3, 3])
        w.add_token_merges(["a b"])
        w.add_bos_token_id(17)
        w.add_eos_token_id(18)
        w.add_array("general.tags", [1, 2, 3])
        w.add_array("general.nested", [[1, 2], [3]])
        w.add_float64("general.f64", 0.25)
        w.add_bool("general.flag", True)
        w.add_int8("general.i8", -3)
        w.add_uint64("general.u64", 1 << 40)

    write("llama_spm_q8_0", spm_q8)
    write("llama_spm_q4_1", spm_q4_1)
    write("gpt2_vocab_metadata_only", gpt2_metadata)
    return seeds


# --- chat templates --------------------------------------------------------------------
def chat_template_seeds():
    src = open(os.path.join(REPO, "tests", "engine", "chat", "jinja2_cases.py")).read()
    tree = ast.parse(src)
    consts = {}
    for node in tree.body:  # the two data dicts only: no jinja2 import needed
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("SYNTHETIC", "DATA"):
                # Literals and arithmetic on them (DATA has 1 / 3): no names, no calls.
                expr = compile(ast.Expression(node.value), "jinja2_cases.py", "eval")
                consts[node.targets[0].id] = eval(expr, {"__builtins__": {}})

    def jinja_literal(v):
        return json.dumps(v).replace("null", "none")

    prelude = "".join("{%% set %s = %s %%}" % (k, jinja_literal(v)) for k, v in consts["DATA"].items())
    seeds = {f"synthetic_{name}": (prelude + t).encode() for name, t in consts["SYNTHETIC"].items()}
    seeds["chatml"] = (b"{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
                       b"message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
                       b"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    seeds["llama3_like"] = (
        b"{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}"
        b"{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}{%- endif %}"
        b"{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}{%- if tools is not none %}"
        b"{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\\n\\n' }}{%- endfor %}{%- endif %}"
        b"{{- system_message }}{{- '<|eot_id|>' }}{%- for message in messages %}"
        b"{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}"
        b"{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}")
    seeds["qwen_like_namespace"] = (
        b"{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
        b"{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
        b"{%- if ns.multi_step_tool and message.role == 'user' and not(message.content.startswith('<tool_response>')) %}"
        b"{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}"
        b"{%- for message in messages %}{%- if '</think>' in message.content %}"
        b"{%- set content = message.content.split('</think>')[-1].lstrip('\\n') %}{%- else %}"
        b"{%- set content = message.content %}{%- endif %}{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
        b"{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
    seeds["gemma_like_raise"] = (
        b"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        b"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        b"{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
        b"{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
        b"{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}")
    return seeds


# --- tokenizer encode / text stream -------------------------------------------------------
TEXTS = [b"Hello world!", b"hello\n\n  world\t123 4567", "caf\u00e9 \u4e2d\u6587 \U0001F600 \u2581x".encode(),
         b"<|im_start|>user\nHi<|im_end|>\n<s></s><unk>", b"\xff\xfe\x80abc\xc3", b"\x00\x01\x02 a",
         b"'s 't 're  ...!!! ???", b"    leading and trailing    "]


def tokenizer_encode_seeds():
    # Byte 0 picks the tokenizer (modulo how many there are), byte 1 add_special_tokens.
    return {f"tok{i}_{j}": bytes([i, j % 2]) + text
            for i in range(9) for j, text in enumerate(TEXTS) if (i + j) % 3 == 0}


def text_stream_seeds():
    def seed(tok, flags, stops, prompt, ids):
        out = bytes([tok, flags])
        for s in stops:
            out += bytes([len(s)]) + s
        out += bytes([len(prompt)]) + prompt
        return out + b"".join(struct.pack("<H", i & 0xFFFF) for i in ids)

    ids_ascii = [3 + b for b in b"Hello, world! "]  # byte-token ids of the byte tokenizer
    ids_utf8 = [3 + b for b in "\u00e9\u4e2d\U0001F600".encode()]
    return {
        "byte_plain": seed(0, 0, [], b"Hi", ids_ascii),
        "byte_utf8_split": seed(0, 0b00011000, [], b"", ids_utf8 + [3 + 0xE4, 3 + 0xB8]),
        "byte_stop": seed(0, 0b00100000, [b"world"], b"x", ids_ascii),
        "byte_stop_include_min": seed(0, 0b01000101, [b"o", b"l,"], b"", ids_ascii),
        "tiny_bpe_specials": seed(1, 0, [], b"hello", [256, 257, 258, 259, 260, 261, 262, 263, 300, 1000]),
        "llama2c": seed(2, 0b00001000, [], b"Once", [1, 2, 3, 29871, 450, 13, 259, 260, 261, 32000]),
        "hf_spm": seed(4, 0, [], b"a", [1, 2, 3, 250, 29871, 31999, 0]),
        "hf_byte_level": seed(5, 0b00100000, [b"\n"], b"Q:", [9707, 1879, 0, 198, 151643, 151645, 66, 220]),
    }


# --- GenerateRequest (protobuf wire format by hand) ------------------------------------
def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    if isinstance(value, bool):
        return varint(num << 3) + varint(int(value))
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, float):
        return varint((num << 3) | 5) + struct.pack("<f", value)
    if isinstance(value, str):
        value = value.encode()
    return varint((num << 3) | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields)


def request_seeds():
    stopping = msg((1, 8), (2, 1), (3, "\n\n"), (3, "END"), (4, 2), (5, False), (6, True))
    sampling = msg((1, 0.7), (2, 40), (3, 0.9), (4, 0.05), (5, 1.1), (6, 0.5), (7, -0.5), (8, 1234))
    chat = msg((1, msg((1, "system"), (2, "Be brief."))), (1, msg((1, "user"), (2, "Hi \u00e9"))), (2, True))
    return {
        "prompt_greedy": msg((1, "req-1"), (2, "Hello"), (4, msg((1, 0.0))), (5, msg((1, 8)))),
        "prompt_sampling_stops": msg((2, "Once upon a time"), (4, sampling), (5, stopping), (6, -3), (7, 5), (9, True)),
        "token_ids_packed": msg((3, msg((1, varint(1) + varint(72) + varint(105) + varint(258)))), (5, msg((1, 4))), (8, True)),
        "token_ids_unpacked": msg((3, varint(8) + varint(1) + varint(8) + varint(300))),
        "chat": msg((10, chat), (5, msg((1, 16), (4, 2)))),
        "chat_bad_role": msg((10, msg((1, msg((1, "robot"), (2, "x")))))),
        "max_tokens_unset_long": msg((2, "x" * 200)),
        "negative_and_nan": msg((2, "a"), (4, msg((1, float("nan")), (2, -5), (3, 0.0))), (7, -1)),
    }


# --- driver ------------------------------------------------------------------------------
def all_seeds():
    targets = {
        "safetensors": safetensors_seeds(), "llama2c": llama2c_seeds(),
        "tokenizer_bin": tokenizer_bin_seeds(), "hf_config": hf_config_seeds(),
        "tokenizer_json": tokenizer_json_seeds(), "chat_template": chat_template_seeds(),
        "tokenizer_encode": tokenizer_encode_seeds(), "text_stream": text_stream_seeds(),
        "request_validation": request_seeds(),
    }
    g = gguf_seeds()
    if g is not None:
        targets["gguf"] = g
    return targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    differ = 0
    for target, seeds in sorted(all_seeds().items()):
        d = os.path.join(ROOT, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            path = os.path.join(d, name)
            old = open(path, "rb").read() if os.path.exists(path) else None
            if old == data:
                continue
            differ += 1
            if args.check:
                print(f"differs: {os.path.relpath(path, REPO)}")
            else:
                with open(path, "wb") as f:
                    f.write(data)
        if not args.check:
            print(f"{target}: {len(seeds)} seeds, {sum(len(s) for s in seeds.values())} bytes")
    return 1 if (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
