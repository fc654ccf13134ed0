package dev.qload.models.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.ObjectNode;

/** The meta scope's promise: a billion-parameter skeleton costs no tensor bytes and no random numbers. */
class MetaSkeletonTest {

    /** Llama-3.2-1B's published config.json (1.24 B parameters with tied embeddings). */
    static ModelConfig llama32OneB() {
        ObjectNode c = Json.STRICT.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama").put("hidden_size", 2048).put("intermediate_size", 8192).put("num_hidden_layers", 16)
                .put("num_attention_heads", 32).put("num_key_value_heads", 8).put("head_dim", 64).put("vocab_size", 128256)
                .put("rms_norm_eps", 1e-5).put("rope_theta", 500000.0).put("max_position_embeddings", 131072)
                .put("tie_word_embeddings", true).put("torch_dtype", "bfloat16");
        c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 32.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        return ModelConfig.of(c);
    }

    @Test
    void billionParameterSkeletonOnMetaAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        LlamaArchitecture arch = new LlamaArchitecture();
        ModelConfig config = llama32OneB();
        long offHeapBefore = OffHeap.totalAllocatedBytes();
        long heapBefore = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        Module root = MetaDevice.withMetaDevice(() -> arch.build(config, DType.BF16));
        long nanos = System.nanoTime() - start;
        long heapUsed = threads.getCurrentThreadAllocatedBytes() - heapBefore;

        assertEquals(offHeapBefore, OffHeap.totalAllocatedBytes(), "tensor storage was allocated inside the meta scope");
        long params = 0, bytes = 0;
        for (NamedSlot ns : root.namedSlots()) {
            Tensor t = ns.slot().get();
            assertTrue(t.isMeta(), ns.path() + " is not on META");
            if (ns.slot().kind() == TensorKind.PARAMETER) params += t.elementCount();
            bytes += t.byteSize();
        }
        // lm_head is declared separately until tying, so the skeleton counts the embedding twice: 1.50 B.
        assertTrue(params > 1_000_000_000L, "only " + params + " parameters");
        // The skeleton's own objects are a few thousand small ones; the weights it describes are ~3 GB.
        assertTrue(heapUsed < 16L << 20, "the meta build used " + heapUsed + " bytes of heap");
        System.out.printf("meta skeleton: %,d parameters (%,d bytes described), built in %.2f ms, %,d heap bytes, 0 tensor bytes%n",
                params, bytes, nanos / 1e6, heapUsed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "linear", "dynamic", "llama3", "yarn"})
    void metaBuildPlusInitializersEqualsEagerBuildBitForBit(String ropeType) {
        // transformers' test_init_weights_can_init_buffers: every buffer of an eager build equals the meta build's re-initialised one.
        ModelConfig config = ModelConfig.read(TestData.dir("rope").resolve("config-" + ropeType + ".json"));
        ObjectNode small = config.json().deepCopy();
        small.put("num_hidden_layers", 1).put("hidden_size", 128).put("intermediate_size", 64).put("vocab_size", 16)
                .put("num_attention_heads", 2).put("num_key_value_heads", 1);
        ModelConfig c = ModelConfig.of(small);
        Module eager = new LlamaArchitecture().build(c, DType.F32);
        Module meta = MetaDevice.withMetaDevice(() -> new LlamaArchitecture().build(c, DType.F32));
        for (NamedSlot ns : meta.namedSlots()) {
            if (ns.slot().kind() != TensorKind.NON_PERSISTENT_BUFFER) continue;
            Tensor fresh = Tensor.allocate(ns.slot().get().shape(), ns.slot().get().dtype(), java.lang.foreign.Arena.ofAuto());
            ns.slot().initializer().initialize(fresh);
            Tensor built = eager.slotAt(ns.path()).get();
            assertFalse(built.isMeta());
            assertEquals(-1, built.data().mismatch(fresh.data()), ns.path() + " differs between eager and meta+init");
        }
    }
}
