package dev.qload.core.load;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Embedding;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.TiedWeight;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;

/**
 * A tiny architecture for the loader tests, built entirely from config.json fields:
 *
 * <pre>
 * ToyModel
 *   embed        Embedding [vocab_size, hidden_size]          (only when vocab_size is set)
 *   encoder      Module
 *     proj       Linear hidden_size → intermediate_size, with bias
 *     norm       RmsNorm [intermediate_size]
 *     rope       ToyRotary: non-persistent F32 "table" [table_size] (recomputed),
 *                           persistent I64 "position_ids" [table_size] with an initializer (arange)
 *   lm_head      Linear hidden_size → vocab_size, no bias     (only when vocab_size is set)
 * </pre>
 *
 * {@code tie_word_embeddings: true} ties {@code lm_head.weight} to {@code embed.weight}.
 */
public final class ToyArchitecture implements ArchitectureProvider {
    public static final String ARCHITECTURE = "ToyForTest";
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public String name() {
        return "toy";
    }

    @Override
    public Set<String> architectures() {
        return Set.of(ARCHITECTURE);
    }

    @Override
    public Set<String> modelTypes() {
        return Set.of("toy");
    }

    @Override
    public Module build(ModelConfig config, DType dtype) {
        return new ToyModel(config, dtype);
    }

    @Override
    public List<TiedWeight> tiedWeights(ModelConfig config) {
        return config.boolValue("tie_word_embeddings", false) ? List.of(new TiedWeight("lm_head.weight", "embed.weight")) : List.of();
    }

    /** The value the "table" buffer must hold at index i: independent of the initializer's code path on purpose. */
    public static float expectedTable(int i, int size, double scale) {
        return (float) (scale * Math.pow(10000.0, -(double) i / size));
    }

    public static final class ToyModel extends Module {
        ToyModel(ModelConfig config, DType dtype) {
            int hidden = config.intValue("hidden_size");
            if (config.has("vocab_size")) registerChild("embed", new Embedding(config.intValue("vocab_size"), hidden, dtype));
            Module encoder = registerChild("encoder", new Module());
            encoder.registerChild("proj", new Linear(hidden, config.intValue("intermediate_size"), true, dtype));
            encoder.registerChild("norm", new RmsNorm(config.intValue("intermediate_size"), 1e-6, dtype));
            encoder.registerChild("rope", new ToyRotary(config.intValue("table_size"), config.doubleValue("table_scale")));
            if (config.has("vocab_size")) registerChild("lm_head", new Linear(hidden, config.intValue("vocab_size"), false, dtype));
        }
    }

    /** Like a RoPE module: a non-persistent table computed from the config, and persistent position ids. */
    public static final class ToyRotary extends Module {
        final int size;
        final double scale;

        ToyRotary(int size, double scale) {
            this.size = size;
            this.scale = scale;
            registerNonPersistentBuffer("table", Tensor.empty(Shape.of(size), DType.F32), t -> {
                for (int i = 0; i < size; i++) t.setFloat(i, (float) (scale * Math.pow(10000.0, -(double) i / size)));
            });
            registerPersistentBuffer("position_ids", Tensor.empty(Shape.of(size), DType.I64), t -> {
                for (int i = 0; i < size; i++) t.data().setAtIndex(I64, i, i);
            });
        }
    }
}
