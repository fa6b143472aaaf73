#!/usr/bin/env python3
"""Writes an all-F32 copy of a GGUF (every tensor dequantized by gguf-py, the
metadata copied unchanged but general.file_type = 0), so gqa-perplexity and
llama.cpp's llama-perplexity can be compared on identical f32 weights.

  python3 bench/peers/make_f32_gguf.py IN.gguf OUT.gguf   (needs pip gguf numpy)
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGUFValueType
from gguf.quants import dequantize


def main(src, dst):
    r = GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = GGUFWriter(dst, arch)
    for name, field in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        if name == "general.file_type":
            w.add_uint32(name, 0)  # LLAMA_FTYPE_ALL_F32
            continue
        vtype = field.types[0]
        value = field.contents()
        if vtype == GGUFValueType.ARRAY:
            w.add_key_value(name, value, vtype, sub_type=field.types[-1])
        else:
            w.add_key_value(name, value, vtype)
    for t in r.tensors:
        # gguf-py's shape is ggml order (fastest first); numpy wants it reversed.
        data = dequantize(t.data, t.tensor_type).astype(np.float32)
        data = data.reshape(tuple(int(d) for d in reversed(t.shape)))
        w.add_tensor(t.name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
