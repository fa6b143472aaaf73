#!/usr/bin/env bash
# The packaged gqa-logits-dump with the packaged libraries (run_all.sh exports
# GQA_PKG and GQA_LIBPATH), for hf_parity.py, whose own Python process must
# not see those libraries.
exec env LD_LIBRARY_PATH="${GQA_LIBPATH:?}" "${GQA_PKG:?}/bin/gqa-logits-dump" "$@"
