#!/usr/bin/env python3
"""Writes testdata/hostile/: one checkpoint directory per rule a hostile or broken file can break,
and testdata/hostile/cases.json, which says for each the rule and the error id it must end in.

Standard library only; run from the repository root:  python3 tools/hostile/make_hostile_corpus.py
Deterministic (no randomness, sorted JSON): two runs give byte-identical files. The script deletes
and rewrites testdata/hostile/ and the seed directory of core's SafetensorsHeaderFuzzTest (the corpus
files small enough to be good fuzzing seeds); crash files Jazzer found live elsewhere and are kept.

Each family starts from a small valid checkpoint (a "control" case, which must load) and breaks one
thing. The expected ids are the rule's, decided here from the format: for safetensors they are the
reference reader's SafeTensorError variants (safetensors/src/tensor.rs, spec/FORMATS.md 1.3); for
the others the ErrorId whose javadoc names the rule. They are never copied from qload's output.

Families:
  safetensors/  the header rules (FORMATS.md 1.3), each file alone in a directory with a valid config
  index/        model.safetensors.index.json naming shards or tensors that are not there
  config/       config.json of the wrong types or shape
  bnb/          bitsandbytes NF4 checkpoints whose quant-state JSON or companion tensors lie
  gptq/         GPTQ checkpoints whose packed tensors disagree with the config and the Linear
  mxfp4/        MXFP4 (gpt-oss) checkpoints with scales or blocks of the wrong shape: corpus only,
                marked pending, until the MXFP4 quantizer (issue 7) lands
"""

import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_bytes as st  # noqa: E402

OUT = "testdata/hostile"
CASES = []

# A minimal Llama that every module can build: hidden 16 so that GPTQ's 4-bit packing of the 8-wide
# k/v projections fills whole 32-bit words, one layer, a 16-token vocabulary.
HIDDEN, HEADS, KV_HEADS, HEAD_DIM, INTERMEDIATE, VOCAB = 16, 2, 1, 8, 32, 16
LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE,
    "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM, "num_hidden_layers": 1,
    "vocab_size": VOCAB, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "max_position_embeddings": 64,
    "tie_word_embeddings": False, "torch_dtype": "float32",
}
# (module path, out_features, in_features) of every Linear of the one decoder layer
LINEARS = [("self_attn.q_proj", HEADS * HEAD_DIM, HIDDEN), ("self_attn.k_proj", KV_HEADS * HEAD_DIM, HIDDEN),
           ("self_attn.v_proj", KV_HEADS * HEAD_DIM, HIDDEN), ("self_attn.o_proj", HIDDEN, HEADS * HEAD_DIM),
           ("mlp.gate_proj", INTERMEDIATE, HIDDEN), ("mlp.up_proj", INTERMEDIATE, HIDDEN), ("mlp.down_proj", HIDDEN, INTERMEDIATE)]
PREFIX = "model.layers.0."


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def ramp(count, scale=0.01):
    """Small distinct values: any load that succeeds gives finite, non-trivial weights."""
    return f32([((i * 37) % 101 - 50) * scale for i in range(count)])


def dense_tensors():
    t = [("model.embed_tokens.weight", "F32", [VOCAB, HIDDEN], ramp(VOCAB * HIDDEN))]
    for path, out, inp in LINEARS:
        t.append((PREFIX + path + ".weight", "F32", [out, inp], ramp(out * inp)))
    for norm in ("input_layernorm", "post_attention_layernorm"):
        t.append((PREFIX + norm + ".weight", "F32", [HIDDEN], f32([1.0] * HIDDEN)))
    t.append(("model.norm.weight", "F32", [HIDDEN], f32([1.0] * HIDDEN)))
    t.append(("lm_head.weight", "F32", [VOCAB, HIDDEN], ramp(VOCAB * HIDDEN)))
    return t


def write_case(family, name, files, expect, rule, pending=False):
    """files: {relative name: bytes or dict (written as JSON)}."""
    case = family + "/" + name
    d = os.path.join(OUT, case)
    os.makedirs(d)
    for fname, content in files.items():
        if isinstance(content, (dict, list)):
            content = (json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8")
        with open(os.path.join(d, fname), "wb") as f:
            f.write(content)
    CASES.append({"case": case, "expect": expect, "rule": rule, "pending": pending})


def config_bytes(config):
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode("utf-8")


# ---------------------------------------------------------------- safetensors header rules

def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def header(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def safetensors_cases():
    ok = {"a": entry("F32", [2], 0, 8), "b": entry("F32", [1], 8, 12)}

    def case(name, blob, expect, rule):
        write_case("safetensors", name, {"config.json": LLAMA_CONFIG, "model.safetensors": blob}, expect, rule)

    case("header-too-small", b"\x08\x00\x00\x00\x00\x00\x00", "qload/HeaderTooSmall", "a file shorter than the 8-byte length prefix")
    case("header-length-beyond-file", st.raw(header(ok), bytes(12), declared_length=4096), "qload/InvalidHeaderLength",
         "the header length runs past the end of the file")
    case("header-length-over-100mb", st.raw(header(ok), bytes(12), declared_length=100_000_001), "qload/HeaderTooLarge",
         "a header length above the reference reader's 100 MB limit (MAX_HEADER_SIZE)")
    case("header-length-top-bit", st.raw(header(ok), bytes(12), declared_length=1 << 63), "qload/HeaderTooLarge",
         "a header length with the top bit set (negative as a signed 64-bit number)")
    bad_utf8 = b'{"a\xff":' + header(entry("F32", [2], 0, 8)) + b"}"
    case("header-invalid-utf8", st.raw(bad_utf8, bytes(8)), "qload/InvalidHeaderUtf8", "a header byte sequence that is not UTF-8 (0xFF)")
    overlong = b'{"a\xc0\xaf":' + header(entry("F32", [2], 0, 8)) + b"}"
    case("header-overlong-utf8", st.raw(overlong, bytes(8)), "qload/InvalidHeaderUtf8", "an overlong UTF-8 encoding of '/' (0xC0 0xAF)")
    case("header-not-json", st.raw(b"this is not JSON at all!", b""), "qload/InvalidHeaderJson", "a header that is not JSON")
    case("header-top-level-array", st.raw(b"[1,2,3]", b""), "qload/InvalidHeaderJson", "a header that is JSON but not an object")
    case("json-bomb-deep-arrays", st.raw(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b""), "qload/InvalidHeaderJson",
         "a JSON bomb: 100 000 nested arrays")
    case("json-bomb-deep-objects", st.raw(b'{"a":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001, b""), "qload/InvalidHeaderJson",
         "a JSON bomb: 50 000 nested objects")
    case("json-trailing-garbage", st.raw(header(ok) + b"}}", bytes(12)), "qload/InvalidHeaderJson", "content after the header object")
    case("metadata-not-strings", st.raw(header({"__metadata__": {"format": 1}, **ok}), bytes(12)), "qload/InvalidHeaderJson",
         "a __metadata__ value that is not a string")
    case("entry-lacks-dtype", st.raw(header({"a": {"shape": [2], "data_offsets": [0, 8]}}), bytes(8)), "qload/InvalidHeaderJson",
         "a tensor entry without dtype")
    dup = b'{"a":' + header(entry("F32", [2], 0, 8)) + b',"a":' + header(entry("F32", [2], 0, 8)) + b"}"
    case("duplicate-tensor-name", st.raw(dup, bytes(8)), "qload/DuplicateKey", "the same tensor name twice")
    dup_field = b'{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}'
    case("duplicate-field", st.raw(dup_field, bytes(8)), "qload/DuplicateKey", "the same field twice in one tensor entry")
    case("unknown-dtype", st.raw(header({"a": entry("F128", [2], 0, 32)}), bytes(32)), "qload/UnknownDtype", "a dtype safetensors does not define")
    case("negative-dimension", st.raw(header({"a": entry("F32", [-2], 0, 8)}), bytes(8)), "qload/InvalidShape", "a negative dimension")
    case("fractional-dimension", st.raw(header({"a": entry("F32", [2.5], 0, 8)}), bytes(8)), "qload/InvalidShape", "a non-integer dimension")
    case("string-dimension", st.raw(header({"a": entry("F32", ["2"], 0, 8)}), bytes(8)), "qload/InvalidShape", "a dimension written as a string")
    case("dimension-2-to-the-64", st.raw(b'{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}', bytes(8)),
         "qload/InvalidShape", "a dimension that does not fit in 64 bits")
    case("shape-product-overflows", st.raw(header({"a": entry("F32", [1 << 32, 1 << 32], 0, 8)}), bytes(8)), "qload/ValidationOverflow",
         "a shape whose element count overflows 64 bits")
    case("shape-bits-overflow", st.raw(header({"a": entry("F64", [1 << 30, 1 << 30], 0, 8)}), bytes(8)), "qload/ValidationOverflow",
         "a shape whose bit count (elements x 64) overflows 64 bits")
    case("overlapping-offsets", st.raw(header({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}), bytes(12)),
         "qload/InvalidOffset", "two tensors whose byte ranges overlap")
    case("gap-between-tensors", st.raw(header({"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}), bytes(12)),
         "qload/InvalidOffset", "a gap between two tensors")
    case("offset-end-before-begin", st.raw(header({"a": entry("F32", [0], 8, 0)}), bytes(8)), "qload/InvalidOffset", "data_offsets ending before they begin")
    case("offset-beyond-2-to-the-63", st.raw(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775808]}}', bytes(8)),
         "qload/InvalidOffset", "an offset outside [0, 2^63)")
    case("offset-out-of-range", st.raw(header({"a": entry("F32", [1024], 0, 4096)}), bytes(8)), "qload/MetadataIncompleteBuffer",
         "a tensor whose byte range runs past the end of the file")
    case("length-disagrees-with-shape", st.raw(header({"a": entry("F32", [3], 0, 8)}), bytes(8)), "qload/TensorInvalidInfo",
         "data_offsets spanning fewer bytes than shape x dtype needs")
    case("f4-odd-element-count", st.raw(header({"a": entry("F4", [3], 0, 2)}), bytes(2)), "qload/MisalignedSlice",
         "an odd number of 4-bit elements: not a whole number of bytes")
    case("trailing-bytes", st.raw(header(ok), bytes(12 + 5)), "qload/MetadataIncompleteBuffer",
         "bytes after the last tensor (a polyglot file hiding a second payload)")
    case("truncated-data", st.raw(header(ok), bytes(12 - 5)), "qload/MetadataIncompleteBuffer", "a file cut short inside the tensor data")


# ---------------------------------------------------------------- index files

def index_cases():
    tensors = dense_tensors()
    half = len(tensors) // 2
    shards = {"model-00001-of-00002.safetensors": tensors[:half], "model-00002-of-00002.safetensors": tensors[half:]}

    def files(weight_map, shard_files=None):
        out = {"config.json": LLAMA_CONFIG,
               "model.safetensors.index.json": {"metadata": {"total_size": sum(len(t[3]) for t in tensors)}, "weight_map": weight_map}}
        for name, ts in (shard_files or shards).items():
            out[name] = st.encode(ts, {"format": "pt"})
        return out

    weight_map = {t[0]: shard for shard, ts in shards.items() for t in ts}
    write_case("index", "control", files(weight_map), "ok", "a valid two-shard checkpoint (must load)")
    missing_shard = dict(weight_map, **{"lm_head.weight": "model-00003-of-00002.safetensors"})
    write_case("index", "names-missing-shard", files(missing_shard), "qload/InvalidIndex", "the index names a shard file that does not exist")
    missing_tensor = dict(weight_map, **{"model.layers.0.mlp.extra.weight": "model-00002-of-00002.safetensors"})
    write_case("index", "names-missing-tensor", files(missing_tensor), "qload/IndexedTensorMissing",
               "the index puts a tensor in a shard that does not hold it")
    wrong_shard = dict(weight_map, **{"lm_head.weight": "model-00001-of-00002.safetensors"})
    write_case("index", "tensor-in-other-shard", files(wrong_shard), "qload/IndexedTensorMissing",
               "the index names the wrong shard for a tensor")
    escape = dict(weight_map, **{"lm_head.weight": "../model-00002-of-00002.safetensors"})
    write_case("index", "shard-outside-directory", files(escape), "qload/ShardOutsideCheckpoint",
               "a shard path that leaves the checkpoint directory (../)")
    write_case("index", "weight-map-not-object", dict(files(weight_map), **{"model.safetensors.index.json": {"weight_map": ["a", "b"]}}),
               "qload/InvalidIndex", "weight_map is a list, not an object")
    not_json = dict(files(weight_map), **{"model.safetensors.index.json": b'{"weight_map": {"a": '})
    write_case("index", "not-json", not_json, "qload/InvalidIndex", "an index that is not JSON (cut short)")
    twice = {"model-00001-of-00002.safetensors": tensors[:half + 1], "model-00002-of-00002.safetensors": tensors[half:]}
    write_case("index", "tensor-in-two-shards", files(weight_map, twice), "qload/TensorInTwoShards", "the same tensor in two shards")


# ---------------------------------------------------------------- config.json

def config_cases():
    weights = st.encode(dense_tensors(), {"format": "pt"})

    def case(name, config, expect, rule):
        content = config if isinstance(config, bytes) else config_bytes(config)
        write_case("config", name, {"config.json": content, "model.safetensors": weights}, expect, rule)

    case("control", LLAMA_CONFIG, "ok", "the minimal Llama every family starts from (must load)")
    case("hidden-size-string", dict(LLAMA_CONFIG, hidden_size="16"), "qload/ConfigWrongType", "hidden_size written as a string")
    case("layers-fractional", dict(LLAMA_CONFIG, num_hidden_layers=1.5), "qload/ConfigWrongType", "num_hidden_layers not an integer")
    case("vocab-beyond-int", dict(LLAMA_CONFIG, vocab_size=1 << 40), "qload/ConfigWrongType", "vocab_size beyond a 32-bit int")
    case("rope-theta-string", dict(LLAMA_CONFIG, rope_theta="1e4"), "qload/ConfigWrongType", "rope_theta written as a string")
    case("architectures-not-list", dict(LLAMA_CONFIG, architectures="LlamaForCausalLM"), "qload/ConfigWrongType", "architectures a string, not a list")
    case("tie-embeddings-string", dict(LLAMA_CONFIG, tie_word_embeddings="false"), "qload/ConfigWrongType", "a boolean written as a string")
    case("rope-scaling-list", dict(LLAMA_CONFIG, rope_scaling=[1, 2]), "qload/ConfigWrongType", "rope_scaling a list, not an object")
    case("quantization-config-string", dict(LLAMA_CONFIG, quantization_config="bitsandbytes"), "qload/ConfigWrongType",
         "quantization_config a string, not an object")
    case("missing-hidden-size", {k: v for k, v in LLAMA_CONFIG.items() if k != "hidden_size"}, "qload/ConfigMissingKey", "hidden_size absent")
    case("negative-hidden-size", dict(LLAMA_CONFIG, hidden_size=-16), "qload/ConfigInvalid", "a negative hidden_size")
    case("heads-not-dividing", dict(LLAMA_CONFIG, num_key_value_heads=3), "qload/ConfigInvalid", "attention heads not a multiple of kv heads")
    case("not-json", b'{"hidden_size": 16,', "qload/ConfigInvalid", "config.json that is not JSON (cut short)")
    case("top-level-array", b"[1, 2, 3]\n", "qload/ConfigInvalid", "config.json a JSON array")
    case("duplicate-key", b'{"hidden_size": 16, "hidden_size": 4096}\n', "qload/ConfigInvalid", "the same key twice (which one wins?)")
    case("json-bomb", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "qload/ConfigInvalid", "a JSON bomb: 100 000 nested arrays")


# ---------------------------------------------------------------- bitsandbytes NF4

def nf4_code_map():
    """bitsandbytes' NF4 table as a quant_map tensor's bytes, read from the committed bnb fixture
    (made by tools/fixtures/bnb from bitsandbytes' own values), not retyped here."""
    _, tensors = st.read("testdata/bnb/tiny-llama-nf4/model.safetensors")
    return next(t[3] for t in tensors if t[0].endswith(".weight.quant_map"))


def nf4_tensors(state_edit=None, tensor_edit=None):
    """A plain (not nested) NF4 checkpoint of the minimal Llama: every Linear of the layer packed,
    blocksize 64. Weight codes and absmax are arbitrary but well-formed: the cases fail in the plan."""
    quant_map = nf4_code_map()
    blocksize = 64
    out = [t for t in dense_tensors() if not any(t[0] == PREFIX + p + ".weight" for p, _, _ in LINEARS)]
    for path, o, i in LINEARS:
        key = PREFIX + path + ".weight"
        elements = o * i
        blocks = -(-elements // blocksize)
        state = {"quant_type": "nf4", "blocksize": blocksize, "dtype": "float32", "shape": [o, i]}
        if state_edit and path == "self_attn.q_proj":
            state = state_edit(state)
        state_bytes = state if isinstance(state, bytes) else json.dumps(state).encode("utf-8")
        pieces = [(key, "U8", [(elements + 1) // 2, 1], bytes([0x77] * ((elements + 1) // 2))),
                  (key + ".absmax", "F32", [blocks], f32([0.5] * blocks)),
                  (key + ".quant_map", "F32", [16], quant_map),
                  (key + ".quant_state.bitsandbytes__nf4", "U8", [len(state_bytes)], state_bytes)]
        if tensor_edit and path == "self_attn.q_proj":
            pieces = tensor_edit(pieces)
        out.extend(pieces)
    return out


BNB_CONFIG = dict(LLAMA_CONFIG, quantization_config={
    "quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False, "bnb_4bit_quant_type": "nf4",
    "bnb_4bit_use_double_quant": False, "bnb_4bit_compute_dtype": "float32", "bnb_4bit_quant_storage": "uint8",
    "llm_int8_skip_modules": None, "llm_int8_threshold": 6.0})


def bnb_cases():
    def case(name, expect, rule, state_edit=None, tensor_edit=None):
        write_case("bnb", name, {"config.json": BNB_CONFIG, "model.safetensors": st.encode(nf4_tensors(state_edit, tensor_edit), {"format": "pt"})},
                   expect, rule)

    case("control", "ok", "a valid NF4 checkpoint of the minimal Llama (must load)")
    case("state-shape-lies", "qload/InvalidQuantState", "the quant state's shape disagrees with the Linear",
         state_edit=lambda s: dict(s, shape=[s["shape"][0] * 2, s["shape"][1]]))
    case("state-shape-beyond-int64", "qload/InvalidQuantState", "the quant state's shape holds a number beyond 64 bits",
         state_edit=lambda s: json.dumps(dict(s, shape=[0, 0])).replace("[0, 0]", "[100000000000000000000000000000, 16]").encode())
    case("state-blocksize-not-power-of-two", "qload/InvalidQuantState", "blocksize 63: not one bitsandbytes allows",
         state_edit=lambda s: dict(s, blocksize=63))
    case("state-blocksize-lies", "qload/TensorShapeMismatch", "blocksize 32 while absmax holds one value per 64 (absmax length lies)",
         state_edit=lambda s: dict(s, blocksize=32))
    case("state-quant-type-lies", "qload/InvalidQuantState", "quant_type fp4 under a __nf4 key",
         state_edit=lambda s: dict(s, quant_type="fp4"))
    case("state-not-json", "qload/InvalidQuantState", "the quant-state bytes are not JSON",
         state_edit=lambda s: b'{"quant_type": "nf4", "blocksize": ')
    case("state-unknown-field", "qload/InvalidQuantState", "a field bitsandbytes does not write",
         state_edit=lambda s: dict(s, nested_offset_v2=1.0))
    case("state-nested-half-declared", "qload/InvalidQuantState", "nested_offset without nested_blocksize / nested_dtype",
         state_edit=lambda s: dict(s, nested_offset=0.5))
    case("state-json-bomb", "qload/InvalidQuantState", "a JSON bomb in the quant state",
         state_edit=lambda s: b'{"quant_type": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    # found by QuantStateFuzzTest (Jazzer, crash-9a08bda7...): float64 parsed, then writing the state back threw
    case("state-dtype-float64", "qload/InvalidQuantState", "dtype float64: not one bitsandbytes quantizes from (a Jazzer finding)",
         state_edit=lambda s: dict(s, dtype="float64"))
    # found by QuantStateFuzzTest (Jazzer, crash-63678db0...): an offset past the double range parsed as Infinity
    case("state-nested-offset-infinite", "qload/InvalidQuantState", "nested_offset 1e999: infinite once parsed (a Jazzer finding)",
         state_edit=lambda s: json.dumps(dict(s, nested_blocksize=256, nested_dtype="float32", nested_offset=0.5)).replace("0.5}", "1e999}").encode())
    case("state-missing", "qload/InvalidQuantState", "no quant-state tensor for a packed weight",
         tensor_edit=lambda ps: [p for p in ps if "quant_state" not in p[0]])
    case("packed-weight-short", "qload/TensorShapeMismatch", "the packed weight one byte shorter than the state's shape needs",
         tensor_edit=lambda ps: [(p[0], p[1], [p[2][0] - 1, 1], p[3][:-1]) if p[0].endswith("q_proj.weight") else p for p in ps])
    # (F16 absmax is no lie: it widens to the F32 slot exactly, as any float tensor does; an integer one cannot)
    case("absmax-wrong-dtype", "qload/TensorDtypeMismatch", "absmax stored as I32 where a plain state needs F32",
         tensor_edit=lambda ps: [(p[0], "I32", p[2], p[3]) if p[0].endswith(".absmax") else p for p in ps])


# ---------------------------------------------------------------- GPTQ

GPTQ_BITS, GPTQ_GROUP = 4, 8
GPTQ_CONFIG = dict(LLAMA_CONFIG, torch_dtype="float16", quantization_config={
    "quant_method": "gptq", "bits": GPTQ_BITS, "group_size": GPTQ_GROUP, "desc_act": False, "sym": True, "checkpoint_format": "gptq"})


def f16_ones(count):
    return struct.pack("<%de" % count, *([1.0] * count))


def gptq_tensors(edit=None):
    """The minimal Llama as AutoGPTQ packs it (spec/FORMATS.md section 3): qweight I32 [in*bits/32, out],
    qzeros I32 [groups, out*bits/32], scales F16 [groups, out], g_idx I32 [in]; the rest F16."""
    out = []
    for name, dtype, shape, data in dense_tensors():
        if any(name == PREFIX + p + ".weight" for p, _, _ in LINEARS):
            continue
        count = len(data) // 4
        out.append((name, "F16", shape, struct.pack("<%de" % count, *struct.unpack("<%df" % count, data))))
    for path, o, i in LINEARS:
        key = PREFIX + path
        groups = i // GPTQ_GROUP
        pieces = [(key + ".qweight", "I32", [i * GPTQ_BITS // 32, o], struct.pack("<%di" % (i * GPTQ_BITS // 32 * o), *([0x12345678] * (i * GPTQ_BITS // 32 * o)))),
                  (key + ".qzeros", "I32", [groups, o * GPTQ_BITS // 32], struct.pack("<%di" % (groups * o * GPTQ_BITS // 32), *([0x77777777] * (groups * o * GPTQ_BITS // 32)))),
                  (key + ".scales", "F16", [groups, o], f16_ones(groups * o)),
                  (key + ".g_idx", "I32", [i], struct.pack("<%di" % i, *[k // GPTQ_GROUP for k in range(i)]))]
        if edit and path == "self_attn.q_proj":
            pieces = edit(pieces)
        out.extend(pieces)
    return out


def gptq_cases():
    def case(name, expect, rule, edit=None, config=GPTQ_CONFIG):
        write_case("gptq", name, {"config.json": config, "model.safetensors": st.encode(gptq_tensors(edit), {"format": "pt"})}, expect, rule)

    def reshape(suffix, shape_of, dtype=None):
        def edit(ps):
            out = []
            for name, dt, shape, data in ps:
                if name.endswith(suffix):
                    new_shape = shape_of(shape)
                    new_dtype = dtype or dt
                    data = bytes(st.nbytes(new_dtype, new_shape))
                    out.append((name, new_dtype, new_shape, data))
                else:
                    out.append((name, dt, shape, data))
            return out
        return edit

    case("control", "ok", "a valid 4-bit GPTQ checkpoint of the minimal Llama (must load)")
    case("qweight-rows-wrong", "qload/TensorShapeMismatch", "qweight with one packed row too many for in_features x bits / 32",
         reshape(".qweight", lambda s: [s[0] + 1, s[1]]))
    case("qzeros-columns-wrong", "qload/TensorShapeMismatch", "qzeros packed for 8 bits while the config says 4",
         reshape(".qzeros", lambda s: [s[0], s[1] * 2]))
    case("scales-groups-wrong", "qload/TensorShapeMismatch", "scales for one group fewer than in_features / group_size",
         reshape(".scales", lambda s: [s[0] - 1, s[1]]))
    case("g-idx-length-wrong", "qload/TensorShapeMismatch", "g_idx shorter than in_features", reshape(".g_idx", lambda s: [s[0] - 1]))
    case("qweight-wrong-dtype", "qload/TensorDtypeMismatch", "qweight stored as F32 instead of packed I32",
         reshape(".qweight", lambda s: s, dtype="F32"))
    case("scales-wrong-dtype", "qload/TensorDtypeMismatch", "scales stored as I32", reshape(".scales", lambda s: s, dtype="I32"))
    case("scales-missing", "qload/InvalidQuantState", "qweight without scales", lambda ps: [p for p in ps if not p[0].endswith(".scales")])
    case("bits-5", "qload/ConfigInvalid", "bits 5: not one GPTQ packs",
         config=dict(GPTQ_CONFIG, quantization_config=dict(GPTQ_CONFIG["quantization_config"], bits=5)))
    case("bits-string", "qload/ConfigWrongType", "bits written as a string",
         config=dict(GPTQ_CONFIG, quantization_config=dict(GPTQ_CONFIG["quantization_config"], bits="4")))


# ---------------------------------------------------------------- MXFP4

def mxfp4_cases():
    """From the committed tiny gpt-oss (tools/fixtures/mxfp4), cut to one layer and a 16-token
    vocabulary; blocks U8 [E, out, in/32, 16], scales U8 [E, out, in/32] (FORMATS.md section 4)."""
    source = "testdata/mxfp4/tiny-gpt-oss"
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    meta, tensors = st.read(os.path.join(source, "model.safetensors"))
    vocab = 16
    hidden = config["hidden_size"]
    kept = []
    for name, dtype, shape, data in tensors:
        if name.startswith("model.layers.") and not name.startswith("model.layers.0."):
            continue
        if name in ("model.embed_tokens.weight", "lm_head.weight"):
            shape = [vocab, hidden]
            data = data[:st.nbytes(dtype, shape)]
        kept.append((name, dtype, shape, data))
    config = dict(config, num_hidden_layers=1, vocab_size=vocab, layer_types=config["layer_types"][:1])

    def case(name, expect, rule, edit=None):
        ts = edit(kept) if edit else kept
        write_case("mxfp4", name, {"config.json": config, "model.safetensors": st.encode(ts, meta)}, expect, rule)

    def grow_last(suffix, extra):
        def edit(ts):
            out = []
            for name, dtype, shape, data in ts:
                if name.endswith(suffix):
                    shape = shape[:-1] + [shape[-1] + extra]
                    data = bytes(st.nbytes(dtype, shape))
                out.append((name, dtype, shape, data))
            return out
        return edit

    def grow_dim(suffix, axis, extra):
        def edit(ts):
            out = []
            for name, dtype, shape, data in ts:
                if name.endswith(suffix):
                    shape = list(shape)
                    shape[axis] += extra
                    data = bytes(st.nbytes(dtype, shape))
                out.append((name, dtype, shape, data))
            return out
        return edit

    case("control", "ok", "the tiny gpt-oss, one layer")
    case("scales-one-group-too-many", "qload/TensorShapeMismatch", "down_proj_scales with one more group than in/32",
         grow_last("down_proj_scales", 1))
    case("scales-wrong-expert-count", "qload/TensorShapeMismatch", "gate_up_proj_scales for one expert more than num_local_experts",
         grow_dim("gate_up_proj_scales", 0, 1))
    case("blocks-15-bytes", "qload/TensorShapeMismatch", "down_proj_blocks of 15 bytes per 32-element block instead of 16",
         grow_last("down_proj_blocks", -1))


HEADER_SEEDS = "core/src/test/resources/dev/qload/core/safetensors/SafetensorsHeaderFuzzTestInputs/parsesOrRejectsWithATypedError"
SEED_LIMIT = 16 << 10  # libFuzzer's input length grows to the largest seed: keep seeds small so executions stay fast


def header_fuzz_seeds():
    """Seeds for core's SafetensorsHeaderFuzzTest: every corpus weight file and a few valid fixtures
    under 16 KiB (the JSON bombs are too large to be useful seeds; they stay corpus entries)."""
    shutil.rmtree(HEADER_SEEDS, ignore_errors=True)
    os.makedirs(HEADER_SEEDS)
    sources = sorted(os.path.join(OUT, c["case"], "model.safetensors") for c in CASES if c["case"].startswith("safetensors/"))
    sources += ["testdata/bnb/int8-f16-7x9.safetensors", "testdata/mxfp4/e2m1-encode.safetensors", os.path.join(OUT, "config/control/model.safetensors")]
    for path in sources:
        if os.path.getsize(path) <= SEED_LIMIT:
            shutil.copyfile(path, os.path.join(HEADER_SEEDS, path.replace("testdata/", "").replace("/", "--")))


def main():
    if not os.path.isdir("testdata") or not os.path.isdir("tools/hostile"):
        sys.exit("run from the repository root")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    safetensors_cases()
    index_cases()
    config_cases()
    bnb_cases()
    gptq_cases()
    mxfp4_cases()
    header_fuzz_seeds()
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"generated_by": "tools/hostile/make_hostile_corpus.py", "cases": CASES}, f, indent=2, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print("%d cases, %d bytes in %s" % (len(CASES), total, OUT))


if __name__ == "__main__":
    main()
