package dev.qload.integrity;

import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.safetensors.TensorInfo;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A quantizer that breaks halfway, on purpose (Lucene's "Cranky" test doubles): quantize-on-load
 * that copies every Linear weight as it is, except that it throws a plain {@link IllegalStateException}
 * — what a buggy plugin does — at the point {@code fail} names:
 * <ul>
 *   <li>{@code replace}: in {@code replaceWithQuantized}, after it has replaced the first Linear;</li>
 *   <li>{@code kernel}: in the quantize kernel of the {@code after}-th weight (1-based), when the
 *       others have been written or are being written on the load's workers;</li>
 *   <li>{@code afterLoad}: in {@code afterLoad}, once every tensor has landed.</li>
 * </ul>
 */
public final class FaultyQuantizerProvider implements QuantizerProvider {
    static final String NAME = "faulty-for-tests";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new Faulty(config.fields().string("fail"), config.fields().intValue("after", 1));
    }

    private static final class Faulty implements Quantizer {
        private final String fail;
        private final int after;
        private final AtomicInteger kernels = new AtomicInteger();

        Faulty(String fail, int after) {
            this.fail = fail;
            this.after = after;
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public Set<Capability> capabilities() {
            return Set.of(Capability.QUANTIZE_ON_LOAD);
        }

        @Override
        public void replaceWithQuantized(Module root, QuantizationConfig config) {
            for (var e : root.namedModules().entrySet()) {
                if (!(e.getValue() instanceof Linear linear)) continue;
                root.replace(e.getKey(), new Linear(linear.inFeatures(), linear.outFeatures(), linear.hasBias(), linear.weight().dtype()));
                if (fail.equals("replace")) throw new IllegalStateException("faulty quantizer: broke after replacing " + e.getKey());
            }
        }

        @Override
        public TensorAction planTensor(String key, TensorInfo source, Module owner, String localName) {
            if (!(owner instanceof Linear) || !localName.equals("weight")) return TensorAction.COPY;
            return new TensorAction.Quantize(List.of("weight"), (Tensor dense, java.util.Map<String, Tensor> targets) -> {
                if (fail.equals("kernel") && kernels.incrementAndGet() == after) {
                    throw new IllegalStateException("faulty quantizer: kernel broke on " + key);
                }
                MemorySegment.copy(dense.data(), 0, targets.get("weight").data(), 0, dense.byteSize());
            });
        }

        @Override
        public void afterLoad(Module root) {
            if (fail.equals("afterLoad")) throw new IllegalStateException("faulty quantizer: afterLoad broke");
        }
    }
}
