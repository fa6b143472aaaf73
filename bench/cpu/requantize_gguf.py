#!/usr/bin/env python3
"""Writes a copy of a GGUF with every 2-D weight matrix quantized to one ggml
type by gguf-py's own quantizer (PyPI `gguf`: Q8_0, Q4_0, Q4_1, BF16; it has
no K-quant quantizer), the 1-D tensors (norms) kept as they are. Used for
bench/results/quantized_cpu_accuracy.md (a Q8_0 SmolLM2 from the F32 one).

  requantize_gguf.py IN.gguf OUT.gguf TYPE     (TYPE: Q8_0 | Q4_0 | Q4_1 | BF16)
"""
import sys

import gguf
import numpy as np


def main():
    src, dst, type_name = sys.argv[1:4]
    qtype = gguf.GGMLQuantizationType[type_name]
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = field.contents()
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, vtype, sub_type=sub)
    for t in reader.tensors:
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = tuple(int(d) for d in reversed(t.shape))  # numpy order, slowest first
        data = data.reshape(shape)
        if data.ndim == 2:
            q = gguf.quants.quantize(data, qtype)
            writer.add_tensor(t.name, q, raw_dtype=qtype)
        else:
            writer.add_tensor(t.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
