package dev.qload.quantizers.bnb;

import dev.qload.core.kernel.Kernels;
import dev.qload.core.kernel.Parallel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * bitsandbytes' {@code Linear4bit} with HF's state-dict layout (spec/FORMATS.md §2.4), for a
 * {@code Linear [out, in]} with n = out·in and nb = ceil(n / blocksize):
 *
 * <pre>
 * weight                     U8  [(n+1)/2, 1]   packed codes, first element in the high nibble
 * bias                       dtype [out]        optional
 * weight.absmax              F32 [nb], or U8 [nb] when nested
 * weight.quant_map           F32 [16]           the NF4 / FP4 table
 * weight.nested_absmax       F32 [ceil(nb/256)] nested only
 * weight.nested_quant_map    F32 [256]          nested only: the dynamic map
 * weight.quant_state.bitsandbytes__nf4|fp4      U8 JSON: read at replacement, written back on save
 * </pre>
 *
 * The forward pass decodes one block of a row at a time into a small scratch and takes its dot
 * product with the activations: no dense weight is ever materialised.
 */
final class Linear4bit extends Module implements LinearForward {
    private volatile QuantState state;
    private final boolean hasBias;

    Linear4bit(QuantState state, boolean bias, DType biasDtype, DType quantStorage) {
        this.state = state;
        this.hasBias = bias;
        // bnb_4bit_quant_storage only changes how the packed bytes are typed: [(n+1)/2 / itemsize, 1].
        long itemsize = quantStorage.bits() / 8;
        if (state.packedBytes() % itemsize != 0) {
            throw QuantState.invalid("weight", state.packedBytes() + " packed bytes do not fill whole " + quantStorage + " elements");
        }
        registerParameter("weight", Tensor.empty(Shape.of(state.packedBytes() / itemsize, 1), quantStorage));
        if (bias) registerParameter("bias", Tensor.empty(Shape.of(state.out()), biasDtype));
        registerPersistentBuffer("weight.absmax", Tensor.empty(Shape.of(state.blocks()), state.nested() ? DType.U8 : DType.F32), null);
        registerPersistentBuffer("weight.quant_map", Tensor.empty(Shape.of(16), DType.F32), null);
        if (state.nested()) {
            registerPersistentBuffer("weight.nested_absmax", Tensor.empty(Shape.of(state.nestedBlocks()), DType.F32), null);
            registerPersistentBuffer("weight.nested_quant_map", Tensor.empty(Shape.of(256), DType.F32), null);
        }
    }

    QuantState state() {
        return state;
    }

    /** The slots a quantize-on-load fills from the dense weight. */
    List<String> quantizedSlots() {
        List<String> names = new ArrayList<>(List.of("weight", "weight.absmax", "weight.quant_map"));
        if (state.nested()) names.addAll(List.of("weight.nested_absmax", "weight.nested_quant_map"));
        return names;
    }

    /** Quantizes a dense [out, in] weight (a view of the mapped file) into this module's slots. */
    void quantizeFrom(Tensor dense, java.util.Map<String, Tensor> targets) {
        QuantState s = state;
        MemorySegment packed = targets.get("weight").data();
        Tensor absmaxTarget = targets.get("weight.absmax");
        // Nested: the F32 absmax is scratch (nb floats) before it is compressed to U8; freed as soon as it is.
        try (java.lang.foreign.Arena scratch = java.lang.foreign.Arena.ofShared()) { // shared: blocks are quantized on several threads
            MemorySegment absmax = s.nested() ? scratch.allocate(s.blocks() * 4L, 64) : absmaxTarget.data();
            quantizeInto(s, dense, packed, absmax, absmaxTarget, targets);
        }
    }

    private void quantizeInto(QuantState s, Tensor dense, MemorySegment packed, MemorySegment absmax, Tensor absmaxTarget, java.util.Map<String, Tensor> targets) {
        long blocks = s.blocks();
        Parallel.forRange(Math.toIntExact(blocks), 256, (from, to) ->
                Blockwise4bit.quantizeBlocks(s.quantType(), s.blocksize(), dense.data(), dense.dtype(), s.elements(), packed, absmax, from, to));
        float[] table = Codebooks.table(s.quantType());
        for (int i = 0; i < 16; i++) targets.get("weight.quant_map").setFloat(i, table[i]);
        if (s.nested()) {
            float[] raw = absmax.toArray(Blockwise4bit.F32);
            float offset = NestedAbsmax.compress(raw, absmaxTarget.data(), targets.get("weight.nested_absmax").data());
            for (int i = 0; i < 256; i++) targets.get("weight.nested_quant_map").setFloat(i, Codebooks.DYNAMIC[i]);
            state = s.withNestedOffset(offset);
        }
    }

    /** The loaded storage of one weight, fetched once per call so the inner loops do no lookups. */
    private record Storage(QuantState state, MemorySegment packed, MemorySegment absmax, MemorySegment nestedAbsmax,
                           MemorySegment nestedMap, float[] table) {
        float absmax(long block) {
            if (!state.nested()) return absmax.getAtIndex(Blockwise4bit.F32, block);
            return NestedAbsmax.absmax(absmax, nestedAbsmax, nestedMap, (float) state.nestedOffset(), block);
        }

        /** Elements [from, to) of the flattened dequantized weight into out[outOff...]. */
        void decode(long from, long to, float[] out, int outOff) {
            long i = from;
            while (i < to) {
                long block = i / state.blocksize();
                long blockEnd = Math.min((block + 1) * state.blocksize(), to);
                float scale = absmax(block);
                for (; i < blockEnd; i++) out[outOff + (int) (i - from)] = table[Blockwise4bit.code(packed, i)] * scale;
            }
        }
    }

    private Storage storage() {
        QuantState s = state;
        return new Storage(s, slot("weight").get().data(), slot("weight.absmax").get().data(),
                s.nested() ? slot("weight.nested_absmax").get().data() : null,
                s.nested() ? slot("weight.nested_quant_map").get().data() : null,
                slot("weight.quant_map").get().toFloatArray());
    }

    /** The dense weight, F32 [out, in]. */
    float[] dequantize() {
        Storage st = storage();
        float[] w = new float[Math.toIntExact(st.state().elements())];
        st.decode(0, w.length, w, 0);
        return w;
    }

    @Override
    public long inFeatures() {
        return state.in();
    }

    @Override
    public long outFeatures() {
        return state.out();
    }

    @Override
    public void forward(Kernels k, float[] x, int tokens, float[] out) {
        Storage st = storage();
        int in = (int) st.state().in(), outDim = (int) st.state().out(), bs = st.state().blocksize();
        float[] bias = hasBias ? slot("bias").get().toFloatArray() : null;
        Parallel.forRange(outDim, 16, (from, to) -> {
            float[] scratch = new float[Math.min(in, bs)];
            for (int r = from; r < to; r++) {
                long base = (long) r * in;
                for (int t = 0; t < tokens; t++) out[t * outDim + r] = bias == null ? 0 : bias[r];
                int c = 0;
                while (c < in) { // one block (or the part of it inside this row) at a time, decoded once for every token
                    int len = (int) Math.min(in - c, bs - (base + c) % bs);
                    st.decode(base + c, base + c + len, scratch, 0);
                    for (int t = 0; t < tokens; t++) out[t * outDim + r] += k.dot(scratch, 0, x, t * in + c, len);
                    c += len;
                }
            }
        });
    }
}
