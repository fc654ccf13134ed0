package dev.qload.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.qload.tests.toy.AllocatesOnMetaConformance;
import dev.qload.tests.toy.BufferNotReinitialisedConformance;
import dev.qload.tests.toy.DequantizeDeclaredNotProvidedConformance;
import dev.qload.tests.toy.DroppedLastBlockConformance;
import dev.qload.tests.toy.IgnoresSkipListConformance;
import dev.qload.tests.toy.ToyInt8Conformance;
import dev.qload.tests.toy.ToyInt8WithoutDequantizeConformance;
import dev.qload.tests.toy.ToyInt8WithoutForwardConformance;
import dev.qload.tests.toy.UnregisteredConformance;
import dev.qload.tests.toy.WrongNotSupportedErrorConformance;
import dev.qload.tests.toy.WrongScaleConformance;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestDescriptor;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * The kit tested the way Lucene tests its test framework: toy quantizers that break the contract on
 * purpose ({@code dev.qload.tests.toy.Flaw}) run through the kit with JUnit's {@link EngineTestKit},
 * and each must fail the right check with the right message, and nothing it does not break.
 */
class QuantizerConformanceKitTest {
    private static final String CAPABILITY = "declaredCapabilityHolds";
    private static final String ON_META = "replacesModulesOnMetaWithoutAllocating";
    private static final String NOTHING_ON_META = "leavesNothingOnMetaAfterLoadingOrDequantizing";
    private static final String BUFFERS = "reinitialisesNonPersistentBuffersDeterministically";
    private static final String ERROR_BOUND = "quantizeDequantizeErrorIsWithinTheDeclaredBound";
    private static final String FORWARD = "quantizedForwardMatchesDequantizedMatmul";
    private static final String SKIP_LIST = "modulesInTheSkipListStayDense";
    private static final String DISCOVERY = "isDiscoverableThroughServiceLoaderUnderItsName";
    private static final Pattern REPRODUCE = Pattern.compile("\nreproduce: mvn -pl \\S+ test -Dtest=(\\w+)#(\\w+) -Dqload\\.seed=(0x[0-9a-f]+)$");

    /** One finished test (a parameterized invocation, or a plain test) of a conformance class. */
    record Outcome(String method, String name, TestExecutionResult.Status status, String message) {
        boolean failed() {
            return status == TestExecutionResult.Status.FAILED;
        }

        boolean skipped() {
            return status == TestExecutionResult.Status.ABORTED;
        }
    }

    private static final Map<Class<?>, List<Outcome>> RUNS = new ConcurrentHashMap<>();

    /** Runs a conformance class once per JVM through the Jupiter engine and returns what happened to each test. */
    private static List<Outcome> run(Class<? extends QuantizerConformanceTest> testClass) {
        return RUNS.computeIfAbsent(testClass, c -> EngineTestKit.engine("junit-jupiter").selectors(selectClass(c)).execute()
                .testEvents().finished().list().stream().map(QuantizerConformanceKitTest::outcome).toList());
    }

    private static Outcome outcome(Event e) {
        TestDescriptor d = e.getTestDescriptor();
        String method = d.getSource().filter(MethodSource.class::isInstance).map(s -> ((MethodSource) s).getMethodName()).orElse(d.getDisplayName());
        TestExecutionResult r = e.getRequiredPayload(TestExecutionResult.class);
        return new Outcome(method, d.getDisplayName(), r.getStatus(), r.getThrowable().map(Throwable::getMessage).orElse(""));
    }

    private static Set<String> failedChecks(List<Outcome> outcomes) {
        return outcomes.stream().filter(Outcome::failed).map(Outcome::method).collect(Collectors.toCollection(TreeSet::new));
    }

    private static List<Outcome> failures(List<Outcome> outcomes, String method) {
        return outcomes.stream().filter(o -> o.failed() && o.method().equals(method)).toList();
    }

    private static String report(List<Outcome> outcomes) {
        return outcomes.stream().filter(o -> !o.status().equals(TestExecutionResult.Status.SUCCESSFUL))
                .map(o -> o.status() + " " + o.method() + " [" + o.name() + "]: " + o.message()).collect(Collectors.joining("\n\n"));
    }

    // ------------------------------------------------------------------------------------------ correct quantizers

    @Test
    void theReferenceToyPassesEveryCheck() {
        List<Outcome> outcomes = run(ToyInt8Conformance.class);
        assertTrue(outcomes.stream().noneMatch(o -> o.failed() || o.skipped()), () -> report(outcomes));
        // 1 discovery test, 5 capabilities × 4 cases, 12 parameterized checks × 4 cases (2 configs × 2 models)
        assertEquals(1 + 5 * 4 + 12 * 4, outcomes.size(), () -> report(outcomes));
    }

    @Test
    void anUndeclaredForwardIsCheckedForTheExactErrorAndItsChecksShowAsSkipped() {
        List<Outcome> outcomes = run(ToyInt8WithoutForwardConformance.class);
        assertTrue(failedChecks(outcomes).isEmpty(), () -> report(outcomes));
        List<Outcome> skipped = outcomes.stream().filter(Outcome::skipped).toList();
        assertEquals(Set.of(FORWARD), skipped.stream().map(Outcome::method).collect(Collectors.toSet()), () -> report(outcomes));
        assertEquals(2, skipped.size(), () -> report(outcomes));
        assertTrue(skipped.getFirst().message().contains("needs [FORWARD], which toy-int8-without-forward does not declare"), skipped.getFirst().message());
        assertEquals(2, outcomes.stream().filter(o -> o.method().equals(CAPABILITY) && o.name().startsWith("FORWARD ·")
                && o.status() == TestExecutionResult.Status.SUCCESSFUL).count(), () -> report(outcomes));
    }

    @Test
    void aQuantizerThatCannotDequantizeIsMeasuredThroughItsForwardPass() {
        List<Outcome> outcomes = run(ToyInt8WithoutDequantizeConformance.class);
        assertTrue(failedChecks(outcomes).isEmpty(), () -> report(outcomes));
        assertEquals(Set.of(FORWARD), outcomes.stream().filter(Outcome::skipped).map(Outcome::method).collect(Collectors.toSet()), () -> report(outcomes));
        assertEquals(2, outcomes.stream().filter(o -> o.method().equals(ERROR_BOUND) && o.status() == TestExecutionResult.Status.SUCCESSFUL).count(),
                () -> report(outcomes));
    }

    // ------------------------------------------------------------------------------------------ broken quantizers

    @Test
    void aWrongScaleFailsTheErrorBound() {
        List<Outcome> outcomes = run(WrongScaleConformance.class);
        assertEquals(Set.of(ERROR_BOUND), failedChecks(outcomes), () -> report(outcomes));
        for (Outcome o : failures(outcomes, ERROR_BOUND)) {
            assertTrue(o.message().startsWith("quantize → dequantize is less accurate than declared:"), o.message());
            assertTrue(Pattern.compile("'model\\.layers\\.0\\.self_attn\\.q_proj' \\[\\d+, \\d+] \\w+: relative RMS error 0\\.50\\d\\d of quantize → dequantize"
                    + " exceeds the declared bound 0\\.0100").matcher(o.message()).find(), o.message());
        }
    }

    @Test
    void aDroppedLastBlockFailsTheErrorBoundOnTheAwkwardModelOnly() {
        List<Outcome> outcomes = run(DroppedLastBlockConformance.class);
        assertEquals(Set.of(ERROR_BOUND), failedChecks(outcomes), () -> report(outcomes));
        List<Outcome> failed = failures(outcomes, ERROR_BOUND);
        assertEquals(1, failed.size(), () -> report(outcomes));
        Matcher intermediate = Pattern.compile(" i(\\d+) ").matcher(failed.getFirst().name());
        assertTrue(intermediate.find() && Integer.parseInt(intermediate.group(1)) % 32 != 0,
                "only the model whose intermediate size leaves a partial block may fail: " + failed.getFirst().name());
        // The partial block sits at the end of down_proj's rows (in = intermediate size), and nowhere else.
        String message = failed.getFirst().message();
        assertTrue(Pattern.compile("'model\\.layers\\.0\\.mlp\\.down_proj' \\[\\d+, \\d+] \\w+: relative RMS error 0\\.\\d+ of quantize → dequantize"
                + " exceeds the declared bound 0\\.0100").matcher(message).find(), message);
        assertFalse(message.contains("q_proj") || message.contains("up_proj") || message.contains("gate_proj"), message);
    }

    @Test
    void aNonPersistentBufferThatIsNotReinitialisedFailsTheBufferCheck() {
        List<Outcome> outcomes = run(BufferNotReinitialisedConformance.class);
        // The zero codebook also zeroes every dequantized weight: the error bound fails with it, and nothing else does.
        assertEquals(Set.of(BUFFERS, ERROR_BOUND), failedChecks(outcomes), () -> report(outcomes));
        for (Outcome o : failures(outcomes, BUFFERS)) {
            assertTrue(o.message().startsWith("non-persistent buffers are not re-initialised deterministically:\n  - non-persistent buffer"
                    + " 'model.layers.0.self_attn.q_proj.weight.codebook' (ToyInt8Linear) is not re-initialised: its initializer leaves byte 0"
                    + " of 1024 as it found it"), o.message());
        }
    }

    @Test
    void aDeclaredCapabilityThatIsNotProvidedFailsItsDeclaration() {
        List<Outcome> outcomes = run(DequantizeDeclaredNotProvidedConformance.class);
        assertEquals(Set.of(CAPABILITY, NOTHING_ON_META, ERROR_BOUND, FORWARD), failedChecks(outcomes), () -> report(outcomes));
        List<Outcome> declaration = failures(outcomes, CAPABILITY);
        assertEquals(2, declaration.size(), () -> report(outcomes));
        String expected = "DEQUANTIZE is declared, but dequantize() says it is not supported: [qload/NotSupported] quantizer"
                + " 'toy-int8-dequantize-declared-not-provided' does not support DEQUANTIZE";
        for (Outcome o : declaration) {
            assertTrue(o.name().startsWith("DEQUANTIZE ·"), o.name());
            assertTrue(o.message().startsWith(expected), o.message());
        }
        for (String check : List.of(NOTHING_ON_META, ERROR_BOUND, FORWARD)) {
            for (Outcome o : failures(outcomes, check)) assertTrue(o.message().startsWith(expected), o.message());
        }
    }

    @Test
    void anUndeclaredCapabilityThatFailsWithAnotherErrorFailsItsDeclaration() {
        List<Outcome> outcomes = run(WrongNotSupportedErrorConformance.class);
        assertEquals(Set.of(CAPABILITY), failedChecks(outcomes), () -> report(outcomes));
        for (Outcome o : failures(outcomes, CAPABILITY)) {
            assertTrue(o.name().startsWith("FORWARD ·"), o.name());
            assertTrue(o.message().startsWith("FORWARD is declared unsupported and forward() of 'model.layers.0.self_attn.q_proj' threw"
                    + " java.lang.UnsupportedOperationException: toy-int8 has no forward pass; a capability declared unsupported must fail with exactly"
                    + " \"[qload/NotSupported] quantizer 'toy-int8-wrong-not-supported-error' does not support FORWARD\" (Quantizer.notSupported)"),
                    o.message());
        }
        assertEquals(Set.of(FORWARD), outcomes.stream().filter(Outcome::skipped).map(Outcome::method).collect(Collectors.toSet()), () -> report(outcomes));
    }

    @Test
    void allocatingWhileReplacingModulesFailsTheMetaCheck() {
        List<Outcome> outcomes = run(AllocatesOnMetaConformance.class);
        List<Outcome> onMeta = failures(outcomes, ON_META);
        assertEquals(2, onMeta.size(), () -> report(outcomes));
        for (Outcome o : onMeta) {
            assertTrue(Pattern.compile("^replaceWithQuantized \\(quantize-on-load\\) must only declare tensors, but inside the meta scope it allocated"
                    + " \\d+ bytes and left 14 tensors off META \\(model\\.layers\\.0\\.self_attn\\.q_proj\\.weight\\.scale, ").matcher(o.message()).find(),
                    o.message());
        }
        // Every load fails too, with the loader's own guard: that is the same bug seen from the outside.
        for (Outcome o : outcomes) {
            if (o.failed() && !o.method().equals(ON_META)) assertTrue(o.message().contains("[qload/AllocatedOnMeta]"), o.method() + ": " + o.message());
        }
        assertFalse(failedChecks(outcomes).contains(DISCOVERY), () -> report(outcomes));
    }

    @Test
    void ignoringTheSkipListFailsTheSkipCheck() {
        List<Outcome> outcomes = run(IgnoresSkipListConformance.class);
        assertEquals(Set.of(SKIP_LIST), failedChecks(outcomes), () -> report(outcomes));
        for (Outcome o : failures(outcomes, SKIP_LIST)) {
            assertTrue(Pattern.compile("^modules in the skip list modules_to_not_convert=\\[model\\.[\\w.]+, model\\.[\\w.]+] were not kept dense:\n"
                    + "  - 'model\\.[\\w.]+' is named in modules_to_not_convert but was replaced by ToyInt8Linear").matcher(o.message()).find(), o.message());
        }
    }

    @Test
    void aProviderMissingFromServiceLoaderFailsDiscovery() {
        List<Outcome> outcomes = run(UnregisteredConformance.class);
        assertEquals(Set.of(DISCOVERY), failedChecks(outcomes), () -> report(outcomes));
        assertTrue(failures(outcomes, DISCOVERY).getFirst().message().startsWith("ServiceLoader finds no quantizer named 'toy-int8-unregistered' (it finds ["
                + "toy-int8, "), () -> report(outcomes));
        assertTrue(failures(outcomes, DISCOVERY).getFirst().message().contains("list dev.qload.tests.toy.ToyInt8Provider$Unregistered in"
                + " META-INF/services/dev.qload.core.spi.QuantizerProvider"), () -> report(outcomes));
    }

    @Test
    void everyFailureEndsWithTheCommandThatReproducesIt() {
        String seed = ConformanceSeed.hex(ConformanceSeed.root());
        for (Class<? extends QuantizerConformanceTest> broken : List.of(WrongScaleConformance.class, DroppedLastBlockConformance.class,
                BufferNotReinitialisedConformance.class, DequantizeDeclaredNotProvidedConformance.class, WrongNotSupportedErrorConformance.class,
                AllocatesOnMetaConformance.class, IgnoresSkipListConformance.class, UnregisteredConformance.class)) {
            List<Outcome> failed = run(broken).stream().filter(Outcome::failed).toList();
            assertFalse(failed.isEmpty(), broken.getSimpleName() + " passed every check");
            for (Outcome o : failed) {
                Matcher m = REPRODUCE.matcher(o.message());
                assertTrue(m.find(), "no reproduce line at the end of: " + o.message());
                assertEquals(broken.getSimpleName(), m.group(1), o.message());
                assertEquals(o.method(), m.group(2), o.message());
                assertEquals(seed, m.group(3), o.message());
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the random cases

    @Test
    void everyRootSeedDrawsAnAlignedAndAnAwkwardModelInTwoDtypes() {
        for (long root = 0; root < 500; root++) {
            List<TinyLlama.Spec> specs = QuantizerConformanceTest.drawModels(ConformanceSeed.mix(root), 1);
            TinyLlama.Spec aligned = specs.get(0), awkward = specs.get(1);
            assertEquals(0, aligned.intermediate() % 32, aligned::toString);
            assertEquals(0, aligned.vocab() % 32, aligned::toString);
            assertTrue(awkward.intermediate() % 32 != 0, awkward::toString);
            assertTrue(aligned.dtype() != awkward.dtype(), specs::toString);
            for (TinyLlama.Spec s : specs) {
                assertTrue(s.hidden() == 64 || s.hidden() == 128, s::toString);
                assertTrue(s.intermediate() >= 96 && s.intermediate() <= 192, s::toString);
                assertTrue(s.vocab() >= 64 && s.vocab() <= 256, s::toString);
            }
        }
    }

    @Test
    void aShapeMultipleIsRespectedEvenWhenNothingAwkwardIsLeft() {
        for (int multiple : new int[] {2, 16, 32, 64}) {
            for (TinyLlama.Spec s : QuantizerConformanceTest.drawModels(42, multiple)) {
                assertEquals(0, s.hidden() % multiple, s::toString);
                assertEquals(0, s.intermediate() % multiple, s::toString);
                assertEquals(0, s.vocab() % multiple, s::toString);
            }
        }
    }

    @Test
    void theSameRootSeedDrawsTheSameModels() {
        assertEquals(QuantizerConformanceTest.drawModels(0x1234, 1), QuantizerConformanceTest.drawModels(0x1234, 1));
        assertFalse(QuantizerConformanceTest.drawModels(0x1234, 1).equals(QuantizerConformanceTest.drawModels(0x1235, 1)));
    }
}
