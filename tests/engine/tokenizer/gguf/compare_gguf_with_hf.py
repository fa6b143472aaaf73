#!/usr/bin/env python3
"""Compares gqa's GGUF tokenizer (LoadGgufTokenizer) with independent references.

For each GGUF file given (SmolLM2-135M-Instruct: byte-level BPE, pre "smollm";
the tiny Llama 2 GGUF: SentencePiece "llama" vocabulary), this script reads the
tokenizer metadata with the PyPI `gguf` package and writes, in Python, the
tokenizer.json that the metadata stands for (vocabulary, merges, the
pre-tokenizer that `tokenizer.ggml.pre` names, added tokens from the token
types, decoder, BOS/EOS template), then runs HF `tokenizers` on it and
gqa-tokenize-dump on the GGUF file itself over:
  make_corpus.py's hard cases, ~60 KB of prose and the code point sweep;
  extra cases: special-looking strings, digit and whitespace runs, code, and
  conversations rendered with the GGUF's own chat template (Python jinja2);
The first byte-level vocabulary is also written back, tensors left out, as
GGUF files with the other pre-tokenizer names (llama-bpe, qwen2, gpt2 with
add_bos_token, default with add_eos_token), each compared the same way
(without the sweep). Everywhere it compares ids with and without add_special_tokens and decoded text (with and
without skip_special_tokens) for the encoded ids and random id sequences
(compare_with_hf.run_variant). It also checks bos_id, vocab_size and the
end-of-generation set (llama.cpp's rules, restated here), and for a
SentencePiece vocabulary whose --spm-model has the same pieces and scores,
compares ids with `sentencepiece` itself on every text without special-token
strings (sentencepiece never matches those in text).

References come from PyPI into a virtual environment (--venv); without pip or
PyPI, or with no GGUF file present, exit 77 (CTest: skipped). Exit 1 on any
mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hf"))
import make_corpus  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../support"))
from reference_venv import ensure_venv  # noqa: E402

PACKAGES = ["gguf", "tokenizers", "sentencepiece", "jinja2"]
METASPACE = "\u2581"
NORMAL, UNKNOWN, CONTROL, USER_DEFINED = 1, 2, 3, 4

# llama.cpp's end-of-generation texts (llama-vocab.cpp), as gqa keeps them.
END_OF_TURN = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
               "<|end_of_text|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<end_of_utterance>",
               "<|END_OF_TURN_TOKEN|>", "<\uff5cend\u2581of\u2581sentence\uff5c>"]
FIM = {"fim_pad": ["<|fim_pad|>", "<fim-pad>"],
       "fim_rep": ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"],
       "fim_sep": ["<|file_sep|>"]}


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


# ---- the GGUF metadata -----------------------------------------------------------

def read_metadata(path):
    import gguf
    reader = gguf.GGUFReader(path)
    return {key: field.contents() for key, field in reader.fields.items()
            if key.startswith("tokenizer.")}


def byte_level(use_regex):
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def split(regex):
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
            r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def pre_tokenizer_for(pre):
    """(normalizer, pre_tokenizer, ignore_merges, add_bos_default) of the HF
    tokenizer.json of the model family `pre` names (llama.cpp's names)."""
    seq = lambda *steps: {"type": "Sequence", "pretokenizers": list(steps)}
    if pre in ("smollm", "starcoder", "refact", "codeshell"):  # SmolLM2's tokenizer.json
        return None, seq({"type": "Digits", "individual_digits": True}, byte_level(True)), False, False
    if pre in ("llama-bpe", "llama3", "llama-v3", "falcon3"):  # Llama 3's
        return None, seq(split(LLAMA3_RE), byte_level(False)), True, True
    if pre in ("qwen2", "deepseek-r1-qwen"):  # Qwen 2's
        return {"type": "NFC"}, seq(split(QWEN2_RE), byte_level(False)), False, False
    if pre in ("gpt2", "gpt-2", "phi-2"):
        return None, byte_level(True), False, False
    if pre in ("default", ""):  # llama.cpp's default regexes
        return None, seq(split(r"[\p{P}\$\+<=>\^~\|]+"), split(GPT2_RE), split(r"\p{N}+"),
                         split("[0-9][0-9][0-9]"), byte_level(False)), False, False
    raise ValueError(f"unknown tokenizer.ggml.pre {pre!r}")


def spm_merges(tokens, scores):
    """transformers' SentencePieceExtractor merges: splits of every piece into two
    pieces, by (left id, right id), then stable by the piece's score, highest first."""
    vocab = {t: i for i, t in enumerate(tokens)}
    score_of = {t: scores[i] for i, t in enumerate(tokens)}
    merges = []
    for piece in vocab:  # dict order: first position of each text
        local = [(piece[:k], piece[k:]) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.extend((l, r, score_of[piece]) for l, r in local)
    merges.sort(key=lambda m: m[2], reverse=True)
    return [[l, r] for l, r, _ in merges]


def end_of_generation(meta, tokens, types):
    """llama.cpp's special_eog_ids (the part gqa keeps), EOS first; updates types."""
    def key_id(name):
        v = meta.get(f"tokenizer.ggml.{name}_token_id")
        return -1 if v is None else int(v)
    eog = set()
    ids = {}
    for name, texts in [("eot", END_OF_TURN), ("eom", ["<|eom_id|>"])] + list(FIM.items()):
        i = key_id(name)
        if i < 0:
            i = next((j for j, t in enumerate(tokens) if t in texts), -1)
            if i >= 0:
                types[i] = CONTROL
        ids[name] = i
        if i >= 0:
            eog.add(i)
    for j, t in enumerate(tokens):
        if t in END_OF_TURN:
            eog.add(j)
            types[j] = CONTROL
    eos = ids_default(meta)[1]
    return ([eos] if eos >= 0 else []) + sorted(eog - {eos})


def ids_default(meta):
    """(bos, eos, unk) with llama.cpp's defaults for the model type."""
    spm = meta["tokenizer.ggml.model"] == "llama"
    get = lambda k, d: int(meta[k]) if k in meta else d
    return (get("tokenizer.ggml.bos_token_id", 1 if spm else -1),
            get("tokenizer.ggml.eos_token_id", 2 if spm else -1),
            get("tokenizer.ggml.unknown_token_id", 0 if spm else -1))


def tokenizer_json(meta):
    """(tokenizer.json object, expected info) for the GGUF metadata."""
    tokens = [t if t else f"[EMPTY_{i}]" for i, t in enumerate(meta["tokenizer.ggml.tokens"])]
    types = list(meta.get("tokenizer.ggml.token_type", [NORMAL] * len(tokens)))
    eog = end_of_generation(meta, tokens, types)
    bos, eos, unk = ids_default(meta)
    model = {"type": "BPE", "dropout": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
             "vocab": {t: i for i, t in enumerate(tokens)}}
    doc = {"version": "1.0", "truncation": None, "padding": None}
    if meta["tokenizer.ggml.model"] == "gpt2":
        norm, pre, ignore_merges, add_bos_default = pre_tokenizer_for(meta.get("tokenizer.ggml.pre", ""))
        doc.update(normalizer=norm, pre_tokenizer=pre,
                   decoder={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True})
        merges = []
        for m in meta["tokenizer.ggml.merges"]:
            k = m.index(" ", 1)
            merges.append([m[:k], m[k + 1:]])
        model.update(unk_token=None, fuse_unk=False, byte_fallback=False, ignore_merges=ignore_merges,
                     merges=merges)
    else:  # "llama": transformers' LlamaConverter
        prefix = meta.get("tokenizer.ggml.add_space_prefix", True)
        doc["normalizer"] = {"type": "Sequence", "normalizers": (
            [{"type": "Prepend", "prepend": METASPACE}] if prefix else []) + [
            {"type": "Replace", "pattern": {"String": " "}, "content": METASPACE}]}
        doc["pre_tokenizer"] = None
        doc["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": METASPACE}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}] + (
            [{"type": "Strip", "content": " ", "start": 1, "stop": 0}] if prefix else [])}
        model.update(unk_token=tokens[unk] if unk >= 0 else None, fuse_unk=True, byte_fallback=True,
                     ignore_merges=False, merges=spm_merges(tokens, list(meta["tokenizer.ggml.scores"])))
        add_bos_default = True
    doc["model"] = model
    doc["added_tokens"] = [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False,
                            "rstrip": False, "normalized": False, "special": types[i] != USER_DEFINED}
                           for i in range(len(tokens)) if types[i] in (UNKNOWN, CONTROL, USER_DEFINED)]
    add_bos = meta.get("tokenizer.ggml.add_bos_token", add_bos_default) and bos >= 0
    add_eos = meta.get("tokenizer.ggml.add_eos_token", False) and eos >= 0
    single = ([{"SpecialToken": {"id": tokens[bos], "type_id": 0}}] if add_bos else []) + [
        {"Sequence": {"id": "A", "type_id": 0}}] + (
        [{"SpecialToken": {"id": tokens[eos], "type_id": 0}}] if add_eos else [])
    specials = {tokens[i]: {"id": tokens[i], "ids": [i], "tokens": [tokens[i]]}
                for i in ([bos] if add_bos else []) + ([eos] if add_eos else [])}
    doc["post_processor"] = {"type": "TemplateProcessing", "single": single, "pair": single,
                             "special_tokens": specials} if (add_bos or add_eos) else None
    info = {"vocab_size": len(tokens), "bos_id": bos, "eos_ids": eog}
    return doc, info


# ---- corpus ----------------------------------------------------------------------

def extra_cases(meta):
    cases = []
    add = lambda name, text: cases.append((name, text.encode("utf-8")))
    add("digits_runs", " ".join("1234567890" * k for k in range(1, 6)) + " 3.14159265358979 1,234,567")
    add("ws_runs", "a \t\n\r\n  \u00a0\u3000 b" + " " * 40 + "c" + "\t" * 9 + "\n" * 7 + "d   ")
    add("code_mix", "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }  // 10x faster\n\tx = {'k': [1, 2]}\n")
    add("emoji_cjk", "🤖 говорит 你好世界 🇯🇵 日本語 👩🏽‍💻 한국어 العربية ✨🎉")
    for name in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<unk>", "<repo_name>",
                 "<file_sep>", "<0x0A>", "<|eot_id|>"):
        add(f"special_{name}", f"a{name}b {name} {name}{name}\n{name[:-1]} {name[1:]} x{name}")
    template = meta.get("tokenizer.chat_template")
    if template:
        import jinja2
        env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
        tmpl = env.from_string(template)
        convs = [
            [{"role": "user", "content": "What is the capital of France?"}],
            [{"role": "system", "content": "You are a terse assistant."},
             {"role": "user", "content": "Sum 12345 and 67890, show work:\n  step 1\n\tstep 2"},
             {"role": "assistant", "content": "80235 ✅ (12345 + 67890)"},
             {"role": "user", "content": "Now in 日本語, with emoji 🤖 and <b>html</b>."}],
        ]
        for i, conv in enumerate(convs):
            for gen in (True, False):
                text = tmpl.render(messages=conv, add_generation_prompt=gen, bos_token="", eos_token="")
                add(f"chat{i}_gen{int(gen)}", text)
    return cases


# ---- checks ----------------------------------------------------------------------

def compare_sentencepiece(name, spm_path, tokens, scores, corpus, work, bos):
    """Mismatch count of our ids against sentencepiece on texts without special strings."""
    import sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=spm_path)
    if sp.get_piece_size() != len(tokens) or any(
            sp.id_to_piece(i) != tokens[i] or abs(sp.get_score(i) - scores[i]) > 1e-6
            for i in range(len(tokens))):
        print(f"[{name}] sentencepiece: {spm_path} has another vocabulary; not compared")
        return 0
    specials = [sp.id_to_piece(i) for i in range(len(tokens)) if sp.is_control(i) or sp.is_unknown(i)]
    with open(os.path.join(work, f"{name}.out.jsonl")) as f:
        ours = [json.loads(line) for line in f][:len(corpus)]
    compared = mismatches = 0
    for (case_name, raw), r in zip(corpus, ours):
        text = raw.decode("utf-8", errors="replace")
        if any(s in text for s in specials):
            continue
        compared += 1
        theirs = sp.encode(text)
        for got, want, kind in ((r["ids"], theirs, "plain"), (r["ids_special"], [bos] + theirs, "bos")):
            if got != want:
                mismatches += 1
                if mismatches <= 8:
                    k = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                             min(len(got), len(want)))
                    print(f"[{name}] SENTENCEPIECE MISMATCH {kind} {case_name}: text {text[:80]!r}\n"
                          f"    at {k}: gqa {got[max(0, k - 3):k + 5]} sp {want[max(0, k - 3):k + 5]}")
    print(f"[{name}] sentencepiece: {'OK' if not mismatches else f'{mismatches} MISMATCHES'}: "
          f"{compared} texts compared")
    return 1 if mismatches else 0


def run_gguf(name, path, args, rng, base):
    import compare_with_hf
    meta = read_metadata(path)
    doc, expected = tokenizer_json(meta)
    work = args.work_dir
    hf_path = os.path.join(work, f"{name}.tokenizer.json")
    with open(hf_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    corpus = base + extra_cases(meta)
    failures = compare_with_hf.run_variant(name, hf_path, path, corpus, args.dump_tool, work, rng)
    info_path = os.path.join(work, f"{name}.info.json")
    proc = subprocess.run([args.dump_tool, f"--tokenizer={path}", f"--info={info_path}",
                           f"--out={os.path.join(work, name + '.info.out')}"], capture_output=True, text=True)
    with open(info_path) as f:
        info = json.load(f)
    if proc.returncode != 0 or info != expected:
        print(f"[{name}] INFO MISMATCH: gqa {info} expected {expected}")
        failures += 1
    else:
        print(f"[{name}] info OK: {info}")
    if meta["tokenizer.ggml.model"] == "llama" and args.spm_model and os.path.isfile(args.spm_model):
        tokens = [t if t else f"[EMPTY_{i}]" for i, t in enumerate(meta["tokenizer.ggml.tokens"])]
        failures += compare_sentencepiece(name, args.spm_model, tokens, list(meta["tokenizer.ggml.scores"]),
                                          corpus, work, expected["bos_id"])
    return failures


def default_model_path():
    """$GQA_DEFAULT_MODEL_GGUF, else ${XDG_CACHE_HOME:-~/.cache}/gqa-serve/SmolLM2-135M-Instruct.Q4_1.gguf."""
    if os.environ.get("GQA_DEFAULT_MODEL_GGUF"):
        return os.environ["GQA_DEFAULT_MODEL_GGUF"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "gqa-serve", "SmolLM2-135M-Instruct.Q4_1.gguf")


def write_variant(meta, path, **overrides):
    """A GGUF file holding `meta`'s tokenizer keys (no tensors), some overridden."""
    import gguf
    m = dict(meta, **{f"tokenizer.ggml.{k}": v for k, v in overrides.items()})
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_tokenizer_model(m["tokenizer.ggml.model"])
    w.add_tokenizer_pre(m["tokenizer.ggml.pre"])
    w.add_token_list(m["tokenizer.ggml.tokens"])
    w.add_token_types(m["tokenizer.ggml.token_type"])
    w.add_token_merges(m["tokenizer.ggml.merges"])
    for key, add in (("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id),
                     ("add_bos_token", w.add_add_bos_token), ("add_eos_token", w.add_add_eos_token)):
        if f"tokenizer.ggml.{key}" in m:
            add(m[f"tokenizer.ggml.{key}"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def run_pre_variants(name, path, args, rng, base):
    """The byte-level vocabulary of `path` under every other supported pre name."""
    meta = read_metadata(path)
    if meta["tokenizer.ggml.model"] != "gpt2":
        return 0
    failures = 0
    for pre, extra in (("llama-bpe", {}), ("qwen2", {}), ("gpt2", {"add_bos_token": True}),
                       ("default", {"add_eos_token": True})):
        variant = os.path.join(args.work_dir, f"{name}_{pre}.gguf")
        write_variant(meta, variant, pre=pre, **extra)
        failures += run_gguf(f"{name}_{pre}", variant, args, rng, base)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump-tool", required=True)
    ap.add_argument("--gguf", action="append", default=[], help="NAME=PATH of a GGUF file (repeatable)")
    ap.add_argument("--default-model", action="store_true",
                    help="also the default model (SmolLM2), found as tests/support/test_paths.h does")
    ap.add_argument("--spm-model", default="", help="sentencepiece model of a 'llama' GGUF's vocabulary")
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--prose-bytes", type=int, default=60_000)
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    ggufs = [g.split("=", 1) for g in args.gguf]
    if args.default_model:
        ggufs.insert(0, ("smollm2", default_model_path()))
    files = [(n, p) for n, p in ggufs if os.path.isfile(p)]
    for n, p in ggufs:
        if not os.path.isfile(p):
            print(f"[{n}] {p} not found: not compared")
    if not files:
        skip("no GGUF file found")
    if not args.in_venv:
        py = ensure_venv(args.venv, PACKAGES)
        if py is None:
            skip("gguf/tokenizers/sentencepiece (PyPI) could not be installed")
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:] + ["--in-venv"])
    import gguf
    import tokenizers
    print(f"references: HF tokenizers {tokenizers.__version__}, gguf {getattr(gguf, '__version__', '?')}")
    os.makedirs(args.work_dir, exist_ok=True)
    prose = make_corpus.make_prose(args.prose_bytes).encode("utf-8")
    base = make_corpus.hard_cases() + [(f"prose{i}", prose[i:i + 4096]) for i in range(0, len(prose), 4096)]
    if not args.no_sweep:
        base += make_corpus.unicode_sweep()
    rng = random.Random(11)
    failures = sum(run_gguf(name, path, args, rng, base) for name, path in files)
    base_no_sweep = [c for c in base if not c[0].startswith("sweep")]
    failures += sum(run_pre_variants(name, path, args, rng, base_no_sweep) for name, path in files)
    print("FAILED" if failures else "PASSED", f"({failures} failed checks)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
