package dev.qload.quantizers.bnb;

import dev.qload.core.config.Json;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.tensor.DType;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The packed quant state of one 4-bit weight: the JSON bitsandbytes stores as the U8 tensor
 * {@code <module>.weight.quant_state.bitsandbytes__nf4} (or {@code __fp4})
 * ({@code bitsandbytes/functional.py :: QuantState.as_dict(packed=True), from_dict}; spec/FORMATS.md §2.4).
 *
 * <pre>
 * {"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [out, in]
 *  [, "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.0123]}
 * </pre>
 *
 * @param dtype        the dense weight's dtype before quantization (what dequantize returns)
 * @param nestedOffset the mean subtracted before nesting, or NaN when not nested
 */
record QuantState(QuantType quantType, int blocksize, DType dtype, long out, long in, boolean nested, double nestedOffset) {
    static final Set<Integer> BLOCKSIZES = Set.of(32, 64, 128, 256, 512, 1024, 2048, 4096);
    static final int NESTED_BLOCKSIZE = 256;
    static final Set<DType> SOURCE_DTYPES = Set.of(DType.F32, DType.F16, DType.BF16);
    private static final Set<String> FIELDS = Set.of("quant_type", "blocksize", "dtype", "shape", "nested_blocksize", "nested_dtype", "nested_offset");

    static String keySuffix(QuantType type) {
        return "quant_state.bitsandbytes__" + type.id;
    }

    long elements() {
        return Math.multiplyExact(out, in);
    }

    long blocks() {
        return (elements() + blocksize - 1) / blocksize;
    }

    long nestedBlocks() {
        return (blocks() + NESTED_BLOCKSIZE - 1) / NESTED_BLOCKSIZE;
    }

    long packedBytes() {
        return (elements() + 1) / 2;
    }

    QuantState withNestedOffset(double offset) {
        return new QuantState(quantType, blocksize, dtype, out, in, nested, offset);
    }

    /** Parses and checks the JSON against the module it belongs to; every violation names the tensor. */
    static QuantState parse(byte[] json, String tensor, QuantType fromKey, long out, long in) {
        JsonNode n;
        try {
            n = Json.STRICT.readTree(json);
        } catch (JacksonException e) {
            throw invalid(tensor, "quant state is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw invalid(tensor, "quant state must be a JSON object");
        for (String field : n.propertyNames()) if (!FIELDS.contains(field)) throw invalid(tensor, "unknown quant-state field '" + field + "'");
        QuantType type = QuantType.parse(text(n, "quant_type", tensor));
        if (type == null) throw invalid(tensor, "unknown quant_type '" + n.get("quant_type").asString() + "' (expected nf4 or fp4)");
        if (type != fromKey) throw invalid(tensor, "quant_type '" + type.id + "' disagrees with the key's __" + fromKey.id);
        int blocksize = integer(n, "blocksize", tensor);
        if (!BLOCKSIZES.contains(blocksize)) throw invalid(tensor, "blocksize " + blocksize + " is not one of " + new java.util.TreeSet<>(BLOCKSIZES));
        String dtypeName = text(n, "dtype", tensor);
        // Only the three dtypes bitsandbytes quantizes from; fromTorchName alone would also take float64 (a Jazzer finding: toJson then threw).
        DType dtype = DType.fromTorchName(dtypeName).filter(SOURCE_DTYPES::contains)
                .orElseThrow(() -> invalid(tensor, "dtype '" + dtypeName + "' is not float32, float16 or bfloat16"));
        JsonNode shape = n.get("shape");
        // canConvertToLong: a dimension past 64 bits (found by the hostile corpus) must be this error, not Jackson's range exception
        if (shape == null || !shape.isArray() || shape.size() != 2 || !isLong(shape.get(0)) || !isLong(shape.get(1))) {
            throw invalid(tensor, "shape must be [out, in] (two integers)");
        }
        if (shape.get(0).asLong() != out || shape.get(1).asLong() != in) {
            throw invalid(tensor, "shape " + shape + " disagrees with the model's Linear [" + out + ", " + in + "]");
        }
        boolean nested = n.has("nested_offset") || n.has("nested_blocksize") || n.has("nested_dtype");
        double offset = Double.NaN;
        if (nested) {
            if (integer(n, "nested_blocksize", tensor) != NESTED_BLOCKSIZE) throw invalid(tensor, "nested_blocksize must be " + NESTED_BLOCKSIZE);
            if (!"float32".equals(text(n, "nested_dtype", tensor))) throw invalid(tensor, "nested_dtype must be float32");
            JsonNode o = n.get("nested_offset");
            if (o == null || !o.isNumber()) throw invalid(tensor, "nested_offset must be a number");
            offset = o.asDouble();
            // 1e999 parses as Infinity (a Jazzer finding): every absmax would dequantize to infinity, and toJson could not write it back
            if (!Double.isFinite(offset)) throw invalid(tensor, "nested_offset " + o + " is not a finite number");
        }
        return new QuantState(type, blocksize, dtype, out, in, nested, offset);
    }

    /** The JSON exactly as {@code json.dumps(quant_state.as_dict(packed=True))} writes it. */
    byte[] toJson() {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"quant_type\": ").append(PythonJson.string(quantType.id));
        sb.append(", \"blocksize\": ").append(blocksize);
        sb.append(", \"dtype\": ").append(PythonJson.string(torchName(dtype)));
        sb.append(", \"shape\": [").append(out).append(", ").append(in).append(']');
        if (nested) {
            sb.append(", \"nested_blocksize\": ").append(NESTED_BLOCKSIZE);
            sb.append(", \"nested_dtype\": \"float32\"");
            sb.append(", \"nested_offset\": ").append(PythonJson.floatRepr(nestedOffset));
        }
        return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    static String torchName(DType t) {
        return switch (t) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException(t + " is not a bnb source dtype");
        };
    }

    private static boolean isLong(JsonNode v) {
        return v.isIntegralNumber() && v.canConvertToLong();
    }

    private static String text(JsonNode n, String field, String tensor) {
        JsonNode v = n.get(field);
        if (v == null || !v.isString()) throw invalid(tensor, "quant state lacks the string field '" + field + "'");
        return v.asString();
    }

    private static int integer(JsonNode n, String field, String tensor) {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) throw invalid(tensor, "quant state lacks the integer field '" + field + "'");
        return v.asInt();
    }

    static LoadException invalid(String tensor, String message) {
        return new LoadException(new Problem(ErrorId.INVALID_QUANT_STATE, message, null, tensor, -1));
    }
}
