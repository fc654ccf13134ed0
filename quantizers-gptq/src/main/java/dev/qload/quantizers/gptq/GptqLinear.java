package dev.qload.quantizers.gptq;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A GPTQ-quantized {@code nn.Linear} in AutoGPTQ's {@code QuantLinear} layout (spec/FORMATS.md §3.1),
 * for in_features K, out_features N, b bits and G groups:
 *
 * <pre>
 * qweight  I32 [K·b/32, N]   codes packed along the input dim, LSB first (3 bits straddle words)
 * qzeros   I32 [G, N·b/32]   zero-point fields packed along the output dim (v1: zero − 1)
 * scales   F16 [G, N]
 * g_idx    I32 [K]           group of each input row (non-monotonic with act-order)
 * bias     [N]               optional
 * </pre>
 *
 * {@code W[k, c] = scales[g_idx[k], c] · (q[k, c] − z[g_idx[k], c])} in F32; the nn.Linear weight is Wᵀ.
 * The forward pass decodes a few output columns at a time into a scratch and takes their dot
 * products with the activations; no dense weight is held.
 */
final class GptqLinear extends Module implements LinearForward {
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Output columns decoded together (their qweight words are adjacent in memory). */
    private static final int COLUMN_BLOCK = 16;

    /** The slots quantization fills, in {@link GptqPacker#pack}'s order. */
    static final java.util.List<String> PACKED_SLOTS = java.util.List.of("qweight", "qzeros", "scales", "g_idx");

    private GptqConfig config;
    private final long in, out, groups;
    private final boolean hasBias, hasGIdx;
    private volatile Meta meta;

    GptqLinear(GptqConfig config, long in, long out, long groups, DType scalesDtype, boolean hasGIdx, boolean bias, DType biasDtype) {
        this.config = config;
        this.in = in;
        this.out = out;
        this.groups = groups;
        this.hasBias = bias;
        this.hasGIdx = hasGIdx;
        int bits = config.bits();
        registerPersistentBuffer("qweight", Tensor.empty(Shape.of(in * bits / 32, out), DType.I32), null);
        registerPersistentBuffer("qzeros", Tensor.empty(Shape.of(groups, out * bits / 32), DType.I32), null);
        registerPersistentBuffer("scales", Tensor.empty(Shape.of(groups, out), scalesDtype), null);
        if (hasGIdx) registerPersistentBuffer("g_idx", Tensor.empty(Shape.of(in), DType.I32), null);
        if (bias) registerParameter("bias", Tensor.empty(Shape.of(out), biasDtype));
    }

    GptqConfig config() {
        return config;
    }

    /** Whether every stored zero-point field equals {@code value}. */
    boolean allZeroFieldsAre(int value) {
        MemorySegment zs = slot("qzeros").get().data();
        int bits = config.bits();
        long rowWords = out * bits / 32;
        for (long gi = 0; gi < groups; gi++) {
            for (long c = 0; c < out; c++) if (field(zs, gi * rowWords, 1, c, bits) != value) return false;
        }
        return true;
    }

    /** Reads the stored zero-points as gptq_v2 (the zero itself) from now on. */
    void readZerosAsV2() {
        config = config.withV2();
        meta = null;
    }

    boolean hasBias() {
        return hasBias;
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }

    /**
     * Field {@code k} of a bit stream whose i-th 32-bit word sits at element {@code base + i·stride}
     * of {@code seg}: bits [k·b, k·b + b), little-endian, LSB first, crossing a word boundary for 3 bits.
     */
    static int field(MemorySegment seg, long base, long stride, long k, int bits) {
        long p = k * bits;
        long w = p >>> 5;
        int off = (int) (p & 31);
        long v = Integer.toUnsignedLong(seg.getAtIndex(I32, base + w * stride)) >>> off;
        if (off + bits > 32) v |= Integer.toUnsignedLong(seg.getAtIndex(I32, base + (w + 1) * stride)) << (32 - off);
        return (int) (v & ((1L << bits) - 1));
    }

    /**
     * Scales widened to F32, effective zero-points and group indices: small, decoded once per
     * loaded tensor set; and the vector kernel's layout where it applies (else null).
     */
    private record Meta(Tensor scalesSrc, Tensor qzerosSrc, Tensor gIdxSrc, Tensor biasSrc, float[] scales, int[] zeros, int[] gIdx, float[] bias,
                        GptqMatVec.Layout fast) {}

    /** -Dqload.simd=false selects the scalar reference path everywhere, this kernel included. */
    private static final boolean SIMD = !"false".equals(System.getProperty("qload.simd"));

    private Meta meta(String path) {
        Tensor s = slot("scales").get(), z = slot("qzeros").get(), g = hasGIdx ? slot("g_idx").get() : null;
        Tensor b = hasBias ? slot("bias").get() : null;
        Meta m = meta;
        if (m != null && m.scalesSrc == s && m.qzerosSrc == z && m.gIdxSrc == g && m.biasSrc == b) return m;
        int n = Math.toIntExact(groups * out);
        float[] scales = new float[n];
        for (int i = 0; i < n; i++) scales[i] = s.getFloat(i); // F16 → F32 widening is exact
        int[] zeros = new int[n];
        int bits = config.bits();
        long rowWords = out * bits / 32;
        MemorySegment zs = z.data();
        for (int gi = 0; gi < groups; gi++) {
            for (int c = 0; c < out; c++) zeros[gi * (int) out + c] = config.effectiveZero(field(zs, gi * rowWords, 1, c, bits));
        }
        int[] gIdx = new int[Math.toIntExact(in)];
        if (g != null) {
            MemorySegment gs = g.data();
            for (int k = 0; k < in; k++) {
                int v = gs.getAtIndex(I32, k);
                if (v < 0 || v >= groups) {
                    throw new LoadException(new Problem(ErrorId.INVALID_QUANT_STATE, "g_idx[" + k + "] = " + v + " is outside [0, " + groups + ")",
                            null, path + "g_idx", -1));
                }
                gIdx[k] = v;
            }
        } else {
            int gsz = config.groupSize() == -1 ? Math.toIntExact(in) : config.groupSize();
            for (int k = 0; k < in; k++) gIdx[k] = k / gsz;
        }
        m = new Meta(s, z, g, b, scales, zeros, gIdx, b == null ? null : b.toFloatArray(),
                SIMD && GptqMatVec.covers(bits) ? layout(scales, zeros, gIdx) : null);
        meta = m;
        return m;
    }

    /**
     * The vector kernel's view: input rows in group order (a permuted copy of qweight, once, for
     * act-order checkpoints), or null when a group does not start on a word boundary.
     */
    private GptqMatVec.Layout layout(float[] scales, int[] zeros, int[] gIdx) {
        int inI = (int) in, outI = (int) out, bits = config.bits(), perWord = 32 / bits;
        int[] perm = null;
        for (int k = 1; k < inI && perm == null; k++) {
            if (gIdx[k] < gIdx[k - 1]) perm = java.util.stream.IntStream.range(0, inI).boxed()
                    .sorted(java.util.Comparator.comparingInt(r -> gIdx[r])).mapToInt(Integer::intValue).toArray();
        }
        int[] start = new int[(int) groups + 1];
        for (int k = 0; k < inI; k++) start[gIdx[k] + 1]++;
        for (int gi = 0; gi < groups; gi++) start[gi + 1] += start[gi];
        for (int v : start) if (v % perWord != 0) return null;
        float[] scaleZero = new float[scales.length];
        for (int i = 0; i < scales.length; i++) scaleZero[i] = scales[i] * zeros[i];
        MemorySegment packed = slot("qweight").get().data();
        if (perm != null) {
            MemorySegment sorted = java.lang.foreign.Arena.ofAuto().allocate(packed.byteSize(), 4);
            int[] column = new int[inI];
            for (int c = 0; c < outI; c++) {
                for (int j = 0; j < inI; j++) column[j] = field(packed, c, outI, perm[j], bits);
                GptqPacker.packStream(sorted, c, outI, column, 0, 1, inI, bits);
            }
            packed = sorted;
        }
        return new GptqMatVec.Layout(inI, outI, bits, perm, start, scales, scaleZero, packed);
    }

    /** Decodes and checks the small tensors (g_idx in range); {@code path} names the module in errors. */
    void validate(String path) {
        meta(path.isEmpty() ? "" : path + ".");
    }

    /** Columns [c0, c1) of Wᵀ, i.e. rows c of the nn.Linear weight, into dst[(c − c0)·in + k]. */
    private void decodeColumns(Meta m, MemorySegment qw, int c0, int c1, float[] dst) {
        int bits = config.bits(), inI = (int) in, outI = (int) out;
        for (int k = 0; k < inI; k++) {
            int gBase = m.gIdx[k] * outI;
            for (int c = c0; c < c1; c++) {
                int q = field(qw, c, outI, k, bits);
                dst[(c - c0) * inI + k] = m.scales[gBase + c] * (float) (q - m.zeros[gBase + c]);
            }
        }
    }

    /** Quantize-on-load: round-to-nearest of the dense weight {@code [out, in]} (F32 arithmetic, as AutoGPTQ on an F32 weight), packed into the targets. */
    void quantizeFrom(Tensor dense, java.util.Map<String, Tensor> targets) {
        double[] w = GptqSolver.weightOf(dense);
        fill(GptqSolver.rtn(w, (int) out, (int) in, null, config, GroupFit.FLOAT32), targets);
    }

    /** Copies the packed form of {@code result} into {@code targets} (one per {@link #PACKED_SLOTS} name). */
    void fill(GptqSolver.Result result, java.util.Map<String, Tensor> targets) {
        Tensor[] packed = GptqPacker.pack(result, config);
        for (int i = 0; i < packed.length; i++) targets.get(PACKED_SLOTS.get(i)).data().copyFrom(packed[i].data());
        meta = null;
    }

    /** The dense nn.Linear weight, F32 [out, in], as gptq_ref.dequantize computes it. */
    float[] dequantize() {
        Meta m = meta("");
        float[] w = new float[Math.toIntExact(out * in)];
        decodeColumns(m, slot("qweight").get().data(), 0, (int) out, w);
        return w;
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] y) {
        Meta m = meta("");
        float[] bias = m.bias; // widened once, not on every call
        if (m.fast != null) GptqMatVec.multiply(m.fast, x, tokens, y, bias);
        else forwardByDecodedColumns(k, m, x, tokens, y, bias);
    }

    /** Whether forward runs the vector kernel (2/4/8 bits, groups on word boundaries, SIMD on). */
    boolean usesVectorKernel() {
        return meta("").fast != null;
    }

    /** The generic path (any bit width and g_idx): decodes 16 output columns into a scratch, then dot products. */
    private void forwardByDecodedColumns(Kernels k, Meta m, float[] x, int tokens, float[] y, float[] b) {
        MemorySegment qw = slot("qweight").get().data();
        int inI = (int) in, outI = (int) out;
        int blocks = (outI + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        Parallel.forRange(blocks, 1, (from, to) -> {
            float[] scratch = new float[COLUMN_BLOCK * inI];
            for (int blk = from; blk < to; blk++) {
                int c0 = blk * COLUMN_BLOCK, c1 = Math.min(outI, c0 + COLUMN_BLOCK);
                decodeColumns(m, qw, c0, c1, scratch);
                for (int c = c0; c < c1; c++) {
                    for (int t = 0; t < tokens; t++) {
                        float acc = k.dot(scratch, (c - c0) * inI, x, t * inI, inI);
                        y[t * outI + c] = b == null ? acc : acc + b[c];
                    }
                }
            }
        });
    }
}
