#!/usr/bin/env python3
"""Compares gqa's chat template engine (engine/chat) with Python's jinja2.

Renders, with gqa-chat-render and with jinja2 configured as transformers'
apply_chat_template configures it (ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and loopcontrols; raise_exception, strftime_now
and transformers' tojson), and requires byte-identical output:
  - the real templates of SmolLM2 (tokenizer.chat_template of the GGUF, read
    with the `gguf` package; skipped when the file is absent), Llama 3, Qwen 3
    and Gemma 3 (--models-dir/*/tokenizer_config.json) over conversations
    (single and multi turn, with and without a system prompt, hard content)
    and both add_generation_prompt values; Qwen 3 also with tools and tool calls;
  - small synthetic templates, one or more per feature of the engine.
When jinja2 raises, gqa must fail too (with raise_exception's exact message).

jinja2 comes from PyPI into --venv; without pip/PyPI access the script exits
77 (CTest skip). Exit 1 on any mismatch.
"""
import argparse
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../support"))
from reference_venv import ensure_venv  # noqa: E402

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--render-tool", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.inner:
        py = ensure_venv(args.venv, ["jinja2"], optional=["gguf"])
        if py is None:
            print("SKIP: jinja2 is not installable (no pip/PyPI access)")
            return SKIP
        # Re-run inside the venv, where jinja2 (and gguf) import.
        return subprocess.run([py, os.path.abspath(__file__), "--inner"] + sys.argv[1:]).returncode
    sys.path.insert(0, HERE)
    import jinja2_cases  # noqa: E402
    return jinja2_cases.run(args)


if __name__ == "__main__":
    sys.exit(main())
