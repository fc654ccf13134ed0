package dev.qload.core.module;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.nn.Linear;
import dev.qload.core.nn.ModuleList;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {

    /** Registers, in this order: weight (parameter), inv_freq (non-persistent), running_mean (persistent), bias (parameter). */
    static final class Mixed extends Module {
        Mixed() {
            registerParameter("weight", Tensor.meta(Shape.of(2, 3), DType.F32));
            registerNonPersistentBuffer("inv_freq", Tensor.meta(Shape.of(4), DType.F32), t -> {});
            registerPersistentBuffer("running_mean", Tensor.meta(Shape.of(3), DType.F32), null);
            registerParameter("bias", Tensor.meta(Shape.of(2), DType.F32));
        }
    }

    static final class Raw extends Module {
        void parameter(String name, Tensor t) {
            registerParameter(name, t);
        }

        void nonPersistent(String name, Tensor t, BufferInitializer init) {
            registerNonPersistentBuffer(name, t, init);
        }
    }

    private static Module tree() {
        Module root = new Module();
        Module model = root.registerChild("model", new Module());
        ModuleList<Module> layers = model.registerChild("layers", new ModuleList<>());
        for (int i = 0; i < 2; i++) {
            Module layer = layers.add(new Module());
            layer.registerChild("self_attn", new Mixed());
        }
        model.registerChild("norm", new Mixed());
        root.registerChild("lm_head", new Mixed());
        return root;
    }

    @Test
    void stateDictHasParametersAndPersistentBuffersInRegistrationOrderWithDottedNames() {
        assertEquals(List.of(
                "model.layers.0.self_attn.weight", "model.layers.0.self_attn.running_mean", "model.layers.0.self_attn.bias",
                "model.layers.1.self_attn.weight", "model.layers.1.self_attn.running_mean", "model.layers.1.self_attn.bias",
                "model.norm.weight", "model.norm.running_mean", "model.norm.bias",
                "lm_head.weight", "lm_head.running_mean", "lm_head.bias"), new ArrayList<>(tree().stateDict().keySet()));
    }

    @Test
    void namedSlotsIncludeNonPersistentBuffersWithTheirKinds() {
        Mixed m = new Mixed();
        List<String> paths = m.namedSlots().stream().map(NamedSlot::path).toList();
        assertEquals(List.of("weight", "inv_freq", "running_mean", "bias"), paths);
        assertEquals(TensorKind.NON_PERSISTENT_BUFFER, m.slot("inv_freq").kind());
        assertEquals(TensorKind.PERSISTENT_BUFFER, m.slot("running_mean").kind());
        assertEquals(TensorKind.PARAMETER, m.slot("bias").kind());
        assertTrue(m.slot("inv_freq").hasInitializer());
        assertSame(m, m.slot("weight").owner());
        assertEquals("model.layers.0.self_attn", new NamedSlot("model.layers.0.self_attn.weight", m.slot("weight")).modulePath());
        assertEquals("", new NamedSlot("weight", m.slot("weight")).modulePath());
    }

    @Test
    void stateDictValuesAreTheSlotTensors() {
        Mixed m = new Mixed();
        Map<String, Tensor> sd = m.stateDict();
        assertSame(m.slot("weight").get(), sd.get("weight"));
        assertSame(m.slot("running_mean").get(), sd.get("running_mean"));
        assertTrue(!sd.containsKey("inv_freq"));
    }

    @Test
    void namedModulesArePreOrderParentsFirstInRegistrationOrder() {
        assertEquals(List.of("", "model", "model.layers", "model.layers.0", "model.layers.0.self_attn", "model.layers.1",
                "model.layers.1.self_attn", "model.norm", "lm_head"), new ArrayList<>(tree().namedModules().keySet()));
    }

    @Test
    void replaceSwapsTheModuleAndReturnsTheOldOne() {
        Module root = tree();
        Module oldAttn = root.find("model.layers.1.self_attn");
        Linear replacement = MetaDevice.withMetaDevice(() -> new Linear(3, 2, false, DType.F32));
        assertSame(oldAttn, root.replace("model.layers.1.self_attn", replacement));
        assertSame(replacement, root.find("model.layers.1.self_attn"));
        assertTrue(root.stateDict().containsKey("model.layers.1.self_attn.weight"));
        assertTrue(!root.stateDict().containsKey("model.layers.1.self_attn.running_mean"));
        // order is kept: the replaced child stays where it was
        assertEquals(List.of("", "model", "model.layers", "model.layers.0", "model.layers.0.self_attn", "model.layers.1",
                "model.layers.1.self_attn", "model.norm", "lm_head"), new ArrayList<>(root.namedModules().keySet()));

        Module oldHead = root.find("lm_head");
        Module newHead = new Module();
        assertSame(oldHead, root.replace("lm_head", newHead), "a top-level child");
        assertSame(newHead, root.find("lm_head"));
    }

    @Test
    void replaceOfAnUnknownPathThrows() {
        Module root = tree();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> root.replace("model.layers.7.self_attn", new Module()));
        assertTrue(e.getMessage().contains("model.layers.7.self_attn"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> root.replace("model.nope", new Module()));
        assertThrows(IllegalArgumentException.class, () -> root.replace("nope", new Module()));
        assertNull(root.find("model.nope"));
        assertSame(root, root.find(""));
    }

    @Test
    void slotSetRefusesADifferentShapeButAcceptsANewDtype() {
        Mixed m = new Mixed();
        TensorSlot w = m.slot("weight");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.set(Tensor.meta(Shape.of(3, 2), DType.F32)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        assertEquals(Shape.of(2, 3), w.get().shape());
        Tensor bf16 = Tensor.meta(Shape.of(2, 3), DType.BF16);
        w.set(bf16);
        assertSame(bf16, w.get());
    }

    @Test
    void nonPersistentBufferWithoutInitializerIsRefused() {
        Raw r = new Raw();
        dev.qload.core.error.LoadException e = assertThrows(dev.qload.core.error.LoadException.class,
                () -> r.nonPersistent("inv_freq", Tensor.meta(Shape.of(4), DType.F32), null));
        assertEquals(dev.qload.core.error.ErrorId.BUFFER_WITHOUT_INITIALIZER, e.id());
        assertTrue(e.getMessage().contains("'inv_freq'"), e.getMessage());
        assertTrue(r.slots().isEmpty());
    }

    @Test
    void namesMustBeUniqueAndWellFormed() {
        Raw r = new Raw();
        r.parameter("weight", Tensor.meta(Shape.of(1), DType.F32));
        r.parameter("weight.absmax", Tensor.meta(Shape.of(1), DType.F32)); // quantized companions may contain dots
        assertThrows(IllegalArgumentException.class, () -> r.parameter("weight", Tensor.meta(Shape.of(1), DType.F32)));
        assertThrows(IllegalArgumentException.class, () -> r.parameter("", Tensor.meta(Shape.of(1), DType.F32)));
        assertThrows(IllegalArgumentException.class, () -> r.parameter("bad.", Tensor.meta(Shape.of(1), DType.F32)));
        assertThrows(IllegalArgumentException.class, () -> r.registerChild("weight", new Module()));
        assertThrows(IllegalArgumentException.class, () -> r.registerChild("a.b", new Module()));
        r.registerChild("child", new Module());
        assertThrows(IllegalArgumentException.class, () -> r.parameter("child", Tensor.meta(Shape.of(1), DType.F32)));
        assertThrows(IllegalArgumentException.class, () -> r.slot("nope"));
    }
}
