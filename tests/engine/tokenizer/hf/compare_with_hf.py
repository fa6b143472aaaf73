#!/usr/bin/env python3
"""Compares gqa's HfTokenizer with HF `tokenizers` (the reference) token for token.

Runs gqa-tokenize-dump and HF's Python `tokenizers` over the corpus of
make_corpus.py (hard cases, ~300 KB of prose, a sweep over all code points of
planes 0-2 and 14) for the real tokenizers in --models-dir (llama3, qwen3,
gemma3, spm32k) and for variants of them written to --work-dir that exercise
the other supported components (ByteLevel with regex and prefix space, Split
behaviours, Digits, Metaspace schemes, NFD/NFKC/Strip/Replace normalizers,
merges as pairs, unk without byte fallback, added-token flags, a
continuing_subword_prefix model). Compares:
  encode: ids with and without add_special_tokens, for every corpus entry;
  decode: text with skip_special_tokens false and true, for the encoded ids and
          for random id sequences (special, byte and out-of-range ids).
Invalid UTF-8 input reaches HF as Python's bytes.decode(errors="replace") and
gqa as raw bytes (gqa repairs it the same way). Our Decode returns bytes; they
must read as HF's text after the same repair.

HF `tokenizers` comes from PyPI into a virtual environment (--venv, under the
build directory); without pip/PyPI access, or without --models-dir, the script
exits 77, which CTest reports as skipped. Exit 1 on any mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_corpus  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../support"))
from reference_venv import ensure_venv  # noqa: E402

REAL = ["llama3", "qwen3", "gemma3", "spm32k"]
# Variants that also get the code point sweep (the real tokenizers always do).
SWEEP_VARIANTS = {"llama3_gpt2", "spm32k_metaspace_first", "qwen3_nfd_strip", "qwen3_nfkc_replace",
                  "qwen3_nfkd_prepend"}


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


# ---- tokenizer variants -------------------------------------------------------------

def load(models_dir, name):
    with open(os.path.join(models_dir, name, "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def added(tid, content, special=False, lstrip=False, rstrip=False, single_word=False, normalized=None):
    return {"id": tid, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": (not special) if normalized is None else normalized,
            "special": special}


def byte_level(add_prefix_space=False, use_regex=False):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
            "use_regex": use_regex}


def split(pattern, behavior, invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def seq_pre(*steps):
    return {"type": "Sequence", "pretokenizers": list(steps)}


def variants(models_dir):
    """{name: tokenizer.json object} of the synthetic variants."""
    out = {}
    l3 = load(models_dir, "llama3")
    n3 = 128256
    flags = [added(n3, "<mask>", special=True, lstrip=True, rstrip=True),
             added(n3 + 1, "hello", single_word=True, normalized=True),
             added(n3 + 2, "world", lstrip=True, normalized=False),
             added(n3 + 3, "HELLO", rstrip=True, single_word=True, normalized=False)]

    def l3v(**kw):
        v = json.loads(json.dumps(l3)) if kw.pop("copy", False) else dict(l3)
        v.update(kw)
        return v

    out["llama3_gpt2"] = l3v(pre_tokenizer=byte_level(True, True), post_processor=None,
                             added_tokens=l3["added_tokens"] + flags)
    out["llama3_digits_metaspace_split"] = l3v(pre_tokenizer=seq_pre(
        {"type": "Digits", "individual_digits": True}, split(" ", "MergedWithNext", regex=False),
        byte_level()))
    out["llama3_digits_contiguous_removed"] = l3v(pre_tokenizer=seq_pre(
        {"type": "Digits", "individual_digits": False}, split(r"\s+", "Removed"), byte_level()))
    out["llama3_merged_prev_invert"] = l3v(pre_tokenizer=seq_pre(
        split(r"[.,!?;:]", "MergedWithPrevious"), split(r"\p{L}+", "Contiguous", invert=True),
        byte_level(True, False)))
    model = dict(l3["model"], ignore_merges=False)
    out["llama3_no_ignore_merges"] = l3v(model=model)
    q3 = load(models_dir, "qwen3")

    def q3v(**kw):
        v = dict(q3)
        v.update(kw)
        return v

    out["qwen3_nfkc_replace"] = q3v(normalizer={"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Replace", "pattern": {"Regex": r"\d{4,}"}, "content": "#"},
        {"type": "Replace", "pattern": {"String": "  "}, "content": " "}]})
    out["qwen3_nfd_strip"] = q3v(normalizer={"type": "Sequence", "normalizers": [
        {"type": "NFD"}, {"type": "Strip", "strip_left": True, "strip_right": True}]})
    out["qwen3_nfkd_prepend"] = q3v(normalizer={"type": "Sequence", "normalizers": [
        {"type": "NFKD"}, {"type": "Prepend", "prepend": "Ġ"}]})
    # ByteLevel not last: the pre-tokenizer maps bytes itself (the model's char mode).
    out["qwen3_char_mode"] = q3v(pre_tokenizer=seq_pre(q3["pre_tokenizer"]["pretokenizers"][0],
                                                      byte_level(), split("Ġ", "MergedWithNext", regex=False)))
    sp = load(models_dir, "spm32k")
    n_sp = 32000

    def spv(**kw):
        v = dict(sp)
        v.update(kw)
        return v

    sp_decoder = sp["decoder"]
    meta = lambda scheme, split_: {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme,
                                   "split": split_}
    out["spm32k_metaspace_first"] = spv(normalizer=None, pre_tokenizer=meta("first", False))
    out["spm32k_metaspace_always_split"] = spv(normalizer=None, pre_tokenizer=meta("always", True),
                                               decoder={"type": "Sequence", "decoders": [
                                                   {"type": "ByteFallback"}, meta("always", True),
                                                   {"type": "Fuse"}]})
    out["spm32k_metaspace_never"] = spv(normalizer=None, pre_tokenizer=meta("never", True),
                                        decoder={"type": "Sequence", "decoders": [
                                            meta("never", True), {"type": "ByteFallback"}, {"type": "Fuse"}]})
    out["spm32k_merge_pairs"] = spv(model=dict(sp["model"], merges=[m.split(" ") for m in sp["model"]["merges"]]))
    out["spm32k_unk_fused"] = spv(model=dict(sp["model"], byte_fallback=False, fuse_unk=True),
                                  decoder=sp_decoder)
    out["spm32k_unk_not_fused"] = spv(model=dict(sp["model"], byte_fallback=False, fuse_unk=False))
    out["spm32k_added_normalized"] = spv(added_tokens=sp["added_tokens"] + [
        added(n_sp, "hello", normalized=True), added(n_sp + 1, "world", lstrip=True, rstrip=True, normalized=True),
        added(n_sp + 2, "<mask>", special=True, single_word=True), added(n_sp + 3, " world", normalized=False)])
    out["spm32k_strip_decoder"] = spv(decoder={"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"Regex": "▁+"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 2, "stop": 0}]})
    out["tiny_wordpiece_like_bpe"] = tiny_prefix_suffix_model()
    return out


def tiny_prefix_suffix_model():
    """A small BPE with continuing_subword_prefix and end_of_word_suffix."""
    chars = [chr(c) for c in range(0x21, 0x7F)]
    vocab = {"[UNK]": 0}
    for c in chars:
        for form in (c, "##" + c, c + "</w>", "##" + c + "</w>"):
            vocab.setdefault(form, len(vocab))
    merges = []
    for a, b in [("t", "##h"), ("th", "##e</w>"), ("a", "##n"), ("an", "##d</w>"), ("i", "##n"),
                 ("##i", "##n"), ("##in", "##g</w>"), ("e", "##r"), ("##e", "##r</w>"), ("o", "##f</w>"),
                 ("##e", "##s"), ("##es", "##t</w>"), ("t", "##o</w>"), ("a", "##t</w>")]:
        merged = a + b[2:]
        vocab.setdefault(merged, len(vocab))
        merges.append(f"{a} {b}")
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [
        {"id": 0, "content": "[UNK]", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": split(r"\s+", "Removed"), "post_processor": None,
        "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "end_of_word_suffix": "</w>", "fuse_unk": True, "byte_fallback": False, "vocab": vocab,
                  "merges": merges}}


# ---- running ---------------------------------------------------------------------

def decode_cases(tok, encoded, rng):
    """(name, ids) sequences to decode."""
    cases = [(f"enc:{name}", ids) for name, ids in encoded]
    size = tok.get_vocab_size(with_added_tokens=True)
    added_ids = list(tok.get_added_tokens_decoder().keys())
    byte_ids = [tok.token_to_id(f"<0x{b:02X}>") for b in range(256)]
    byte_ids = [i for i in byte_ids if i is not None]
    safe = tok.encode("a", add_special_tokens=False).ids[-1:] or [0]
    for i in range(400):
        n = rng.randint(0, 40)
        ids = []
        for _ in range(n):
            r = rng.random()
            if r < 0.15 and added_ids:
                ids.append(rng.choice(added_ids))
            elif r < 0.35 and byte_ids:
                ids.append(rng.choice(byte_ids))
            elif r < 0.37:
                ids.append(size + rng.randint(0, 50))
            else:
                ids.append(rng.randrange(size))
        # A normal token at both ends: gqa's Decode keeps an incomplete character
        # at the end raw and passes continuation bytes at the start through
        # (decoders.h); HF has no such window rules.
        cases.append((f"random{i}", safe + ids + safe))
    return cases


def run_variant(name, hf_json_path, gqa_path, corpus, dump_tool, work, rng):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(hf_json_path)
    enc_in = os.path.join(work, f"{name}.encode.jsonl")
    with open(enc_in, "w") as f:
        for case_name, raw in corpus:
            f.write(json.dumps({"name": case_name, "hex": raw.hex()}) + "\n")
    t0 = time.time()
    texts = [raw.decode("utf-8", errors="replace") for _, raw in corpus]
    hf_plain = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    hf_special = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
    t_hf = time.time() - t0
    encoded = [(corpus[i][0], hf_special[i]) for i in range(len(corpus)) if not corpus[i][0].startswith("sweep")]
    dec_cases = decode_cases(tok, encoded, rng)
    dec_in = os.path.join(work, f"{name}.decode.jsonl")
    with open(dec_in, "w") as f:
        for case_name, ids in dec_cases:
            f.write(json.dumps({"name": case_name, "ids": ids}) + "\n")
    out = os.path.join(work, f"{name}.out.jsonl")
    t0 = time.time()
    proc = subprocess.run([dump_tool, f"--tokenizer={gqa_path}", f"--encode={enc_in}",
                           f"--decode={dec_in}", f"--out={out}"], capture_output=True, text=True)
    t_gqa = time.time() - t0
    if proc.returncode != 0:
        print(f"[{name}] gqa-tokenize-dump failed: {proc.stderr.strip()}")
        return 1
    with open(out) as f:
        results = [json.loads(line) for line in f]
    mismatches = 0

    def report(kind, case_name, ours, theirs, text=None):
        nonlocal mismatches
        mismatches += 1
        if mismatches <= 8:
            print(f"[{name}] MISMATCH {kind} {case_name}")
            if text is not None:
                print(f"    text: {text[:200]!r}")
            if isinstance(ours, list):
                k = next((i for i in range(min(len(ours), len(theirs))) if ours[i] != theirs[i]),
                         min(len(ours), len(theirs)))
                print(f"    first difference at {k}: gqa {ours[max(0, k - 3):k + 5]} hf {theirs[max(0, k - 3):k + 5]}")
                print(f"    hf tokens: {[tok.id_to_token(i) for i in theirs[max(0, k - 3):k + 5]]}")
                print(f"    gqa tokens: {[tok.id_to_token(i) for i in ours[max(0, k - 3):k + 5]]}")
            else:
                print(f"    gqa {ours[:300]!r}\n    hf  {theirs[:300]!r}")

    for i, (case_name, _) in enumerate(corpus):
        r = results[i]
        if r["ids"] != hf_plain[i]:
            report("encode", case_name, r["ids"], hf_plain[i], texts[i])
        if r["ids_special"] != hf_special[i]:
            report("encode+special", case_name, r["ids_special"], hf_special[i], texts[i])
    for j, (case_name, ids) in enumerate(dec_cases):
        r = results[len(corpus) + j]
        for skip_special, key in ((False, "hex"), (True, "hex_skip")):
            ours = bytes.fromhex(r[key]).decode("utf-8", errors="replace")
            theirs = tok.decode(ids, skip_special_tokens=skip_special)
            if ours != theirs:
                report(f"decode(skip={skip_special})", case_name, ours, theirs)
    n_tokens = sum(len(x) for x in hf_plain)
    status = "OK" if mismatches == 0 else f"{mismatches} MISMATCHES"
    print(f"[{name}] {status}: {len(corpus)} texts ({n_tokens} tokens), {len(dec_cases)} decodes; "
          f"hf {t_hf:.1f}s, gqa {t_gqa:.1f}s")
    return 1 if mismatches else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump-tool", required=True)
    ap.add_argument("--models-dir", required=True, help="folder with llama3/ qwen3/ gemma3/ spm32k/")
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--only", default="", help="comma-separated variant names")
    ap.add_argument("--prose-bytes", type=int, default=300_000)
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if not all(os.path.isfile(os.path.join(args.models_dir, n, "tokenizer.json")) for n in REAL):
        skip(f"shared tokenizers not found in {args.models_dir}")
    if not args.in_venv:
        py = ensure_venv(args.venv, ["tokenizers"])
        if py is None:
            skip("HF tokenizers (PyPI) could not be installed")
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:] + ["--in-venv"])
    import tokenizers
    print(f"reference: HF tokenizers {tokenizers.__version__}")

    os.makedirs(args.work_dir, exist_ok=True)
    prose = make_corpus.make_prose(args.prose_bytes).encode("utf-8")
    prose_cases = [(f"prose{i}", prose[i:i + 4096]) for i in range(0, len(prose), 4096)]
    base = make_corpus.hard_cases() + prose_cases
    sweep = [] if args.no_sweep else make_corpus.unicode_sweep()
    only = set(filter(None, args.only.split(",")))
    failures = 0
    rng = random.Random(7)
    jobs = []
    for name in REAL:
        d = os.path.join(args.models_dir, name)
        jobs.append((name, os.path.join(d, "tokenizer.json"), d, base + sweep))
    for name, obj in variants(args.models_dir).items():
        path = os.path.join(args.work_dir, f"{name}.tokenizer.json")
        if not only or name in only:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(obj, f, ensure_ascii=False)
        corpus = base + (sweep if name in SWEEP_VARIANTS else [])
        jobs.append((name, path, path, corpus))
    for name, hf_path, gqa_path, corpus in jobs:
        if only and name not in only:
            continue
        failures += run_variant(name, hf_path, gqa_path, corpus, args.dump_tool, args.work_dir, rng)
    print("FAILED" if failures else "PASSED", f"({failures} tokenizers with mismatches)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
