package dev.qload.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Which kernels {@link Kernels#get()} picks. The choice is made once, when {@link KernelSelection}
 * is initialised, so the alternatives ({@code -Dqload.simd=false}, no Vector API module) are run
 * in child JVMs with this JVM's class path (about half a second each).
 */
class KernelSelectionTest {
    @Test
    void vectorKernelsAreSelectedWhenTheModuleIsPresent() {
        // surefire runs the tests with --add-modules jdk.incubator.vector (qload.jvm.args)
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "the test JVM lacks jdk.incubator.vector");
        assertTrue(Kernels.get().name().startsWith("vector-"), Kernels.get().name());
        assertSame(KernelSelection.vector(), Kernels.get());
        assertEquals("scalar", Kernels.scalar().name());
    }

    @Test
    void simdFalseSelectsTheScalarKernels() throws Exception {
        assertEquals("selected scalar", selectedIn("--add-modules", "jdk.incubator.vector", "-Dqload.simd=false"));
    }

    @Test
    void missingVectorModuleSelectsTheScalarKernels() throws Exception {
        assertEquals("selected scalar", selectedIn());
    }

    @Test
    void simdTrueWithTheModuleSelectsTheVectorKernels() throws Exception {
        assertTrue(selectedIn("--add-modules", "jdk.incubator.vector", "-Dqload.simd=true").startsWith("selected vector-"));
    }

    private static String selectedIn(String... jvmArgs) throws Exception {
        String output = KernelTestSupport.runChildJvm(PrintSelected.class, jvmArgs);
        return output.lines().filter(l -> l.startsWith("selected ")).findFirst().orElseThrow(() -> new AssertionError(output));
    }

    /** The child: prints "selected &lt;name&gt;". */
    static final class PrintSelected {
        public static void main(String[] args) {
            System.out.println("selected " + Kernels.get().name());
        }
    }
}
