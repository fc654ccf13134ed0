package dev.qload.core.tensor;

import java.util.Optional;

/**
 * Every element type a safetensors header can name, in the reference reader's enum order
 * ({@code safetensors/src/tensor.rs :: enum Dtype}, spec/FORMATS.md §1.2). The order matters: a
 * writer sorts tensors by descending rank of this enum so wide types come first and stay aligned.
 */
public enum DType {
    BOOL(8, Kind.BOOL),
    /** OCP MXFP4 E2M1; a header shape counts logical 4-bit elements. */
    F4(4, Kind.FLOAT),
    F6_E2M3(6, Kind.FLOAT),
    F6_E3M2(6, Kind.FLOAT),
    U8(8, Kind.UNSIGNED),
    I8(8, Kind.SIGNED),
    F8_E5M2(8, Kind.FLOAT),
    F8_E4M3(8, Kind.FLOAT),
    /** The MX shared scale: an exponent only. */
    F8_E8M0(8, Kind.FLOAT),
    F8_E4M3FNUZ(8, Kind.FLOAT),
    F8_E5M2FNUZ(8, Kind.FLOAT),
    I16(16, Kind.SIGNED),
    U16(16, Kind.UNSIGNED),
    F16(16, Kind.FLOAT),
    BF16(16, Kind.FLOAT),
    I32(32, Kind.SIGNED),
    U32(32, Kind.UNSIGNED),
    F32(32, Kind.FLOAT),
    C64(64, Kind.COMPLEX),
    F64(64, Kind.FLOAT),
    I64(64, Kind.SIGNED),
    U64(64, Kind.UNSIGNED);

    public enum Kind { BOOL, SIGNED, UNSIGNED, FLOAT, COMPLEX }

    private final int bits;
    private final Kind kind;

    DType(int bits, Kind kind) {
        this.bits = bits;
        this.kind = kind;
    }

    public int bits() {
        return bits;
    }

    public Kind kind() {
        return kind;
    }

    public boolean isFloatingPoint() {
        return kind == Kind.FLOAT;
    }

    /** F32, F16, BF16 and F64: the types a weight can be converted between on load. */
    public boolean isConvertibleFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** The name as written in safetensors headers and HF configs ("BF16"). */
    public String safetensorsName() {
        return name();
    }

    public static Optional<DType> fromSafetensorsName(String name) {
        for (DType t : values()) if (t.name().equals(name)) return Optional.of(t);
        return Optional.empty();
    }

    /**
     * The dtype a config.json string denotes: {@code torch_dtype}/{@code dtype} use torch names
     * ("bfloat16", "float16", "float32"); {@code --dtype} on the CLI also accepts "bf16", "F32", ...
     */
    public static Optional<DType> fromTorchName(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "float32", "float", "fp32", "f32" -> Optional.of(F32);
            case "float16", "half", "fp16", "f16" -> Optional.of(F16);
            case "bfloat16", "bf16" -> Optional.of(BF16);
            case "float64", "double", "f64" -> Optional.of(F64);
            default -> Optional.empty();
        };
    }
}
