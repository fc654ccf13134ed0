package dev.qload.core.load;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.TiedWeight;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Set;

/** Deliberately broken architecture providers, each showing one guard of the loader. */
final class TestArchitectures {
    private TestArchitectures() {}

    static List<ArchitectureProvider> all() {
        return List.of(new ToyArchitecture(), new Allocating(), new NoInitializer(), new MisTied());
    }

    /** Calls Tensor.allocate inside build: the loader must refuse it (ALLOCATED_ON_META). */
    static final class Allocating implements ArchitectureProvider {
        public String name() { return "allocating"; }
        public Set<String> architectures() { return Set.of("AllocatingForTest"); }
        public Set<String> modelTypes() { return Set.of(); }

        public Module build(ModelConfig config, DType dtype) {
            Module root = new Module();
            root.registerChild("w", new Holder(Tensor.allocate(Shape.of(2, 2), dtype, Arena.ofAuto())));
            return root;
        }
    }

    /** Registers a non-persistent buffer without an initializer. */
    static final class NoInitializer implements ArchitectureProvider {
        public String name() { return "no-initializer"; }
        public Set<String> architectures() { return Set.of("NoInitializerForTest"); }
        public Set<String> modelTypes() { return Set.of(); }

        public Module build(ModelConfig config, DType dtype) {
            Module root = new Module();
            root.registerChild("rotary", new BufferWithoutInitializer());
            return root;
        }
    }

    /** The toy model, but it declares a tie between tensors of different shapes. */
    static final class MisTied implements ArchitectureProvider {
        private final ToyArchitecture toy = new ToyArchitecture();
        public String name() { return "mis-tied"; }
        public Set<String> architectures() { return Set.of("MisTiedForTest"); }
        public Set<String> modelTypes() { return Set.of(); }
        public Module build(ModelConfig config, DType dtype) { return toy.build(config, dtype); }

        @Override
        public List<TiedWeight> tiedWeights(ModelConfig config) {
            return List.of(new TiedWeight("encoder.proj.weight", "encoder.proj.bias"));
        }
    }

    static final class Holder extends Module {
        Holder(Tensor weight) {
            registerParameter("weight", weight);
        }
    }

    static final class BufferWithoutInitializer extends Module {
        BufferWithoutInitializer() {
            registerNonPersistentBuffer("inv_freq", Tensor.empty(Shape.of(4), DType.F32), null);
        }
    }
}
