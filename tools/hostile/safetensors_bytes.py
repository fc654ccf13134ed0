"""Byte-level safetensors reading and writing for the hostile corpus, standard library only.

tools/fixtures/safetensors_io.py needs torch; the corpus needs none, and it needs to write files that
break the format on purpose (a header that lies, bytes that are not JSON), so it builds them here.
Layout (spec/FORMATS.md section 1): 8-byte little-endian header length N, N bytes of UTF-8 JSON,
then the tensors' bytes, each at [8 + N + begin, 8 + N + end).
"""

import json
import struct

# bits per element, as safetensors' Dtype::bitsize (safetensors/src/tensor.rs)
BITS = {"BOOL": 8, "U8": 8, "I8": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32,
        "F32": 32, "I64": 64, "U64": 64, "F64": 64, "F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8, "F4": 4}


def prefix(n):
    """The 8-byte header length, little-endian, as the reference writer puts it."""
    return struct.pack("<Q", n)


def raw(header_bytes, data=b"", declared_length=None):
    """A file of exactly these pieces; declared_length overrides the true header length (to lie)."""
    n = len(header_bytes) if declared_length is None else declared_length
    return prefix(n) + header_bytes + data


def read(path):
    """(metadata or None, [(name, dtype, shape, bytes)] in buffer order) of a well-formed file."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", None)
    start = 8 + n
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    tensors = [(name, e["dtype"], list(e["shape"]), blob[start + e["data_offsets"][0]:start + e["data_offsets"][1]])
               for name, e in entries]
    return meta, tensors


def encode(tensors, metadata=None):
    """A well-formed file: tensors packed back to back in the given order, header padded with spaces
    to a multiple of 8 as the reference writer does (safetensors/src/tensor.rs :: prepare)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    at = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return prefix(len(text)) + text + b"".join(t[3] for t in tensors)


def nbytes(dtype, shape):
    count = 1
    for d in shape:
        count *= d
    return count * BITS[dtype] // 8
