package dev.qload.tests;

import static dev.qload.tests.ModelComparison.difference;
import static dev.qload.tests.ModelComparison.differences;
import static dev.qload.tests.ModelComparison.kindName;
import static dev.qload.tests.ModelComparison.relativeRms;
import static dev.qload.tests.ModelComparison.roundingOf;
import static dev.qload.tests.ModelComparison.unwrittenByInitializer;
import static dev.qload.tests.ReplacedModules.classes;
import static dev.qload.tests.ReplacedModules.replaced;
import static dev.qload.tests.ReplacedModules.replacedLinears;
import static dev.qload.tests.ReplacedModules.replacedSlots;
import static dev.qload.tests.ReplacedModules.weightsThroughForward;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointWriter;
import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Loader;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.module.TensorSlot;
import dev.qload.core.nn.Linear;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.spi.Capability;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.ReplacedModules.Replaced;
import dev.qload.models.llama.LlamaArchitecture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;
import tools.jackson.databind.node.ObjectNode;

/**
 * The conformance kit for quantizer plugins, in the manner of Lucene's
 * {@code BasePostingsFormatTestCase}: extend it, return your provider, and every check below runs
 * against it on tiny random Llama checkpoints, once per configuration and model.
 *
 * <pre>{@code
 * class MyQuantizerConformanceTest extends QuantizerConformanceTest {
 *     @Override protected QuantizerProvider provider() { return new MyQuantizerProvider(); }
 *
 *     // Optional: the quantization_config fields to try (default: one empty config).
 *     @Override protected List<Map<String, ?>> configs() { return List.of(Map.of("bits", 4), Map.of("bits", 8)); }
 *
 *     // Optional: what you promise (default: relative RMS error 0.25, forward to float rounding).
 *     @Override protected ErrorBounds errorBounds(Map<String, ?> config) {
 *         return ErrorBounds.dequantized(config.get("bits").equals(4) ? 0.12 : 0.01);
 *     }
 * }
 * }</pre>
 *
 * Put {@code dev.qload:qload-tests} and {@code org.junit.jupiter:junit-jupiter} on the test
 * classpath, and list the provider in {@code META-INF/services/dev.qload.core.spi.QuantizerProvider}.
 * The other optional hooks: {@link #declaredCapabilities} (per config), {@link #skipModulesField}
 * (the config field listing modules to keep dense; {@code modules_to_not_convert} by default) and
 * {@link #shapeMultiple} (for formats that need every layer width to be a multiple of something).
 *
 * <p><b>Capabilities.</b> {@link #declaredCapabilities} (by default the quantizer's own
 * {@link Quantizer#capabilities()}) is tested both ways: a declared capability must work, an
 * undeclared one must fail with exactly the error {@link Quantizer#notSupported} builds
 * ({@code [qload/NotSupported] quantizer 'x' does not support SAVE}). Checks that need an
 * undeclared capability are skipped with {@code assumeTrue}, so they show as skipped, never as passed.
 *
 * <p><b>Randomness.</b> Model shapes, dtypes and weights, inputs and damage are all derived from one
 * root seed ({@code -Dqload.seed=0x…}, fixed by default). One model is aligned (every width a multiple
 * of 32), one has an awkward intermediate size, so partial blocks are exercised; each uses another
 * of F32, BF16 and F16. Every failure ends with the command that replays it.
 *
 * <p><b>The checks</b>, each named for the behaviour it pins: {@link #isDiscoverableThroughServiceLoaderUnderItsName},
 * {@link #declaredCapabilityHolds}, {@link #replacesModulesOnMetaWithoutAllocating},
 * {@link #everyTensorOfAReplacedModuleIsAParameterOrADeclaredBuffer}, {@link #leavesNothingOnMetaAfterLoadingOrDequantizing},
 * {@link #reinitialisesNonPersistentBuffersDeterministically}, {@link #quantizeDequantizeErrorIsWithinTheDeclaredBound},
 * {@link #quantizedForwardMatchesDequantizedMatmul}, {@link #saveThenLoadIsBitIdentical},
 * {@link #modulesInTheSkipListStayDense}, {@link #truncatedCheckpointFailsWithATypedErrorNamingTheFile},
 * {@link #quantizedTensorWithAWrongShapeFailsWithATypedErrorNamingIt},
 * {@link #concurrentLoadsOfOneCheckpointAgreeBitForBit}, {@link #closingTwiceIsHarmlessAndUseAfterCloseIsModelClosed}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(ReproduceOnFailure.class)
@Isolated("OffHeap's allocation counters are global: a load running beside the meta check would be counted against it")
public abstract class QuantizerConformanceTest {

    // ------------------------------------------------------------------------------------------ hooks

    /** The provider under test: the one thing a subclass must say. */
    protected abstract QuantizerProvider provider();

    /** The {@code quantization_config} fields (HF names) to run every check with; default one empty map: the quantizer's defaults. */
    protected List<Map<String, ?>> configs() {
        return List.of(Map.of());
    }

    /** What the quantizer promises under {@code config}; default a relative RMS error of 0.25 and a forward exact to float rounding. */
    protected ErrorBounds errorBounds(Map<String, ?> config) {
        return ErrorBounds.dequantized(0.25);
    }

    /** What the quantizer does under {@code config}; default what its own {@link Quantizer#capabilities()} says. */
    protected Set<Capability> declaredCapabilities(Map<String, ?> config) {
        QuantizerProvider p = provider();
        QLoadException first = null;
        for (boolean preQuantized : new boolean[] {false, true}) {
            try {
                Set<Capability> caps = EnumSet.noneOf(Capability.class);
                caps.addAll(p.create(new QuantizationConfig(p.name(), fields(config), preQuantized)).capabilities());
                return caps;
            } catch (QLoadException e) {
                if (first == null) first = e;
            }
        }
        throw new AssertionFailedError("quantizer '" + p.name() + "' cannot be created from " + sorted(config) + ": " + first.getMessage(), first);
    }

    /**
     * The config field that lists modules to keep dense: transformers' generic
     * {@code modules_to_not_convert} by default ({@code llm_int8_skip_modules} for bitsandbytes);
     * null when the quantizer has none, which skips that check.
     */
    protected String skipModulesField() {
        return "modules_to_not_convert";
    }

    /** A multiple every layer width must have (a format that packs rows in 32s says 32); default 1. */
    protected int shapeMultiple() {
        return 1;
    }

    // ------------------------------------------------------------------------------------------ cases

    /**
     * One configuration on one tiny model: what every parameterized check runs on.
     *
     * @param seed this case's own seed, derived from the root seed
     */
    public record Case(int configIndex, Map<String, ?> fields, int modelIndex, TinyLlama.Spec model, long seed) {
        @Override
        public String toString() {
            return "config " + configIndex + " " + sorted(fields) + " · " + model;
        }
    }

    private static final long MAX_SHARD = CheckpointWriter.DEFAULT_MAX_SHARD_BYTES;

    private final long rootSeed = ConformanceSeed.root();
    private final AtomicInteger directories = new AtomicInteger();
    private final Map<Integer, TinyLlama> models = new ConcurrentHashMap<>();
    private final Map<Integer, Set<Capability>> declared = new ConcurrentHashMap<>();
    private final Map<String, Object> saved = new ConcurrentHashMap<>(); // case → Path, or the Throwable that prevented it
    private volatile Loader loader;
    private volatile Path work; // every model, save and damaged copy of this class's run; removed after all

    /** Removes the files this class's checks wrote (JUnit's @TempDir is per test; the models are shared by all). */
    @AfterAll
    protected final void removeWorkDirectory() throws IOException {
        Path dir = work;
        if (dir == null) return;
        work = null;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private synchronized Path work() {
        if (work == null) {
            try {
                work = Files.createTempDirectory("qload-conformance-" + getClass().getSimpleName() + "-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return work;
    }

    /** Every configuration on every model. */
    protected final Stream<Case> cases() {
        List<Map<String, ?>> configs = configs();
        if (configs.isEmpty()) throw new IllegalStateException("configs() is empty: return at least one map (Map.of() for the defaults)");
        List<TinyLlama.Spec> specs = modelSpecs();
        List<Case> out = new ArrayList<>();
        for (int ci = 0; ci < configs.size(); ci++) {
            for (int mi = 0; mi < specs.size(); mi++) {
                out.add(new Case(ci, Collections.unmodifiableMap(new LinkedHashMap<>(configs.get(ci))), mi, specs.get(mi),
                        ConformanceSeed.derive(rootSeed, "case", ci, mi)));
            }
        }
        return out.stream();
    }

    /** Every capability on every case. */
    protected final Stream<Arguments> capabilityCases() {
        List<Case> all = cases().toList();
        return Stream.of(Capability.values()).flatMap(cap -> all.stream().map(c -> Arguments.of(cap, c)));
    }

    private List<TinyLlama.Spec> modelSpecs() {
        return drawModels(rootSeed, shapeMultiple());
    }

    /**
     * An aligned model (every width a multiple of 32) and an awkward one (an intermediate size that
     * is not), in two different dtypes, every width a multiple of {@code shapeMultiple}; all drawn from {@code rootSeed}.
     */
    static List<TinyLlama.Spec> drawModels(long rootSeed, int shapeMultiple) {
        SplittableRandom r = new SplittableRandom(ConformanceSeed.derive(rootSeed, "models"));
        int multiple = Math.max(1, shapeMultiple);
        int aligned = lcm(32, multiple);
        DType[] dtypes = {DType.F32, DType.BF16, DType.F16};
        int first = r.nextInt(3), second = (first + 1 + r.nextInt(2)) % 3;
        List<TinyLlama.Spec> specs = new ArrayList<>();
        for (int m = 0; m < 2; m++) {
            int hidden = roundUp(r.nextBoolean() ? 64 : 128, lcm(2 * TinyLlama.HEADS, multiple));
            List<Integer> widths = new ArrayList<>();
            for (int w = 96; w <= 192; w++) if (w % multiple == 0 && (m == 0) == (w % 32 == 0)) widths.add(w);
            int intermediate = widths.isEmpty() ? roundUp(96, aligned) : widths.get(r.nextInt(widths.size()));
            int vocab = roundUp(64 + r.nextInt(193), m == 0 ? aligned : multiple);
            specs.add(new TinyLlama.Spec(hidden, intermediate, vocab, dtypes[m == 0 ? first : second], ConformanceSeed.derive(rootSeed, "model", m)));
        }
        return specs;
    }

    // ------------------------------------------------------------------------------------------ checks

    @Test
    public final void isDiscoverableThroughServiceLoaderUnderItsName() {
        QuantizerProvider p = provider();
        String name = p.name();
        assertTrue(name != null && !name.isBlank(), "the provider's name is empty: it must be HF's quant_method ('bitsandbytes', 'gptq', ...)");
        ClassLoader classLoader = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : p.getClass().getClassLoader();
        Plugins found = Plugins.discover(classLoader);
        QuantizerProvider discovered = found.quantizers().get(name);
        if (discovered == null) {
            fail("ServiceLoader finds no quantizer named '" + name + "' (it finds " + found.quantizers().keySet() + "): list "
                    + p.getClass().getName() + " in META-INF/services/" + QuantizerProvider.class.getName());
        }
        assertEquals(p.getClass(), discovered.getClass(), "ServiceLoader's quantizer '" + name + "' is " + discovered.getClass().getName()
                + ", not the provider under test");
        for (Map<String, ?> config : configs()) {
            for (boolean preQuantized : new boolean[] {false, true}) {
                Quantizer q;
                try {
                    q = p.create(new QuantizationConfig(name, fields(config), preQuantized));
                } catch (QLoadException e) {
                    continue; // a configuration it refuses is the capability checks' business
                }
                assertEquals(name, q.name(), "the quantizer created for " + sorted(config) + " calls itself '" + q.name()
                        + "', its provider '" + name + "': the name is the identity written into configs");
            }
        }
    }

    @ParameterizedTest(name = "{0} · {1}")
    @MethodSource("capabilityCases")
    public final void declaredCapabilityHolds(Capability capability, Case c) {
        boolean declared = declared(c).contains(capability);
        switch (capability) {
            case QUANTIZE_ON_LOAD -> {
                if (!declared) {
                    assertNotSupported(capability, "quantize-on-load of a dense checkpoint", () -> quantizeOnLoad(c).close());
                    return;
                }
                try (LoadedModel m = quantizeOnLoad(c)) {
                    assertFalse(replaced(c.model(), m.root()).isEmpty(), "QUANTIZE_ON_LOAD is declared, but loading with " + sorted(c.fields())
                            + " replaced no module: nothing was quantized");
                }
            }
            case PRE_QUANTIZED_LOAD -> {
                if (!declared) {
                    Path dir = canSave(c) ? savedCheckpoint(c) : claimedPreQuantized(c);
                    assertNotSupported(capability, "loading a checkpoint whose config.json declares it quantized", () -> load(dir).close());
                    return;
                }
                Path dir = savedCheckpoint(c);
                try (LoadedModel onLoad = quantizeOnLoad(c); LoadedModel pre = load(dir)) {
                    assertEquals(classes(replaced(c.model(), onLoad.root())), classes(replaced(c.model(), pre.root())),
                            "a pre-quantized load must build the same quantized modules as quantize-on-load");
                }
            }
            case DEQUANTIZE -> {
                try (LoadedModel m = quantizedModel(c)) {
                    Quantizer q = m.quantizer().orElseThrow();
                    if (!declared) {
                        assertNotSupported(capability, "dequantize()", () -> q.dequantize(m.root()));
                        return;
                    }
                    List<Replaced> linears = replacedLinears(c.model(), m.root());
                    runDeclared(capability, "dequantize()", () -> q.dequantize(m.root()));
                    for (Replaced r : linears) {
                        Module now = m.root().find(r.path());
                        if (!(now instanceof Linear dense)) {
                            fail("after dequantize(), '" + r.path() + "' is " + (now == null ? "gone" : now.typeName()) + ", not a dense Linear");
                            return;
                        }
                        Linear original = (Linear) r.original();
                        assertEquals(Shape.of(original.outFeatures(), original.inFeatures()), dense.weight().shape(),
                                "dequantized weight of '" + r.path() + "'");
                        assertTrue(dense.weight().dtype().isConvertibleFloat(), "dequantized weight of '" + r.path() + "' is " + dense.weight().dtype());
                    }
                    assertNothingOnMeta(m.root(), "after dequantize()");
                }
            }
            case SAVE -> {
                try (LoadedModel m = quantizedModel(c)) {
                    Quantizer q = m.quantizer().orElseThrow();
                    Path dir = newDirectory("save-check");
                    if (!declared) {
                        assertNotSupported(capability, "ModelSaver.save", () -> ModelSaver.save(m, dir, MAX_SHARD));
                        assertNotSupported(capability, "quantizationConfig()", q::quantizationConfig);
                        return;
                    }
                    runDeclared(capability, "ModelSaver.save", () -> ModelSaver.save(m, dir, MAX_SHARD));
                    ModelConfig written = ModelConfig.read(dir.resolve(Checkpoint.CONFIG));
                    ModelConfig qc = written.object("quantization_config").orElse(null);
                    assertNotNull(qc, "the saved config.json has no quantization_config: quantizationConfig() must return it");
                    assertEquals(provider().name(), qc.optionalString("quant_method").orElse(null),
                            "quant_method in the saved quantization_config");
                }
            }
            case FORWARD -> {
                try (LoadedModel m = quantizedModel(c)) {
                    SplittableRandom random = random(c, "forward-capability");
                    for (Replaced r : replacedLinears(c.model(), m.root())) {
                        Linear original = (Linear) r.original();
                        int in = Math.toIntExact(original.inFeatures()), out = Math.toIntExact(original.outFeatures());
                        float[] x = gaussian(random, 2 * in);
                        if (!declared) {
                            if (r.replacement() instanceof LinearForward f) {
                                assertNotSupported(capability, "forward() of '" + r.path() + "'", () -> f.forward(Kernels.get(), x, 2, new float[2 * out]));
                            }
                            continue;
                        }
                        if (!(r.replacement() instanceof LinearForward f)) {
                            fail("FORWARD is declared, but '" + r.path() + "' (" + r.replacement().typeName() + ") does not implement LinearForward");
                            return;
                        }
                        assertEquals(in, f.inFeatures(), "inFeatures() of '" + r.path() + "'");
                        assertEquals(out, f.outFeatures(), "outFeatures() of '" + r.path() + "'");
                        float[] y = new float[2 * out];
                        runDeclared(capability, "forward() of '" + r.path() + "'", () -> f.forward(Kernels.get(), x, 2, y));
                        for (int i = 0; i < y.length; i++) {
                            if (!Float.isFinite(y[i])) fail("forward() of '" + r.path() + "' gives " + y[i] + " at output " + i + " for a finite input");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void replacesModulesOnMetaWithoutAllocating(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        Path dense = model(c).directory();
        replaceOnMeta(c, dense, fields(c.fields()), false, "quantize-on-load");
        if (declared(c).containsAll(Set.of(Capability.SAVE, Capability.PRE_QUANTIZED_LOAD))) {
            Path dir = savedCheckpoint(c);
            ModelConfig qc = ModelConfig.read(dir.resolve(Checkpoint.CONFIG)).object("quantization_config").orElseThrow();
            replaceOnMeta(c, dir, qc, true, "a pre-quantized checkpoint");
        }
    }

    private void replaceOnMeta(Case c, Path checkpoint, ModelConfig fields, boolean preQuantized, String what) {
        Module root = TinyLlama.skeleton(c.model());
        try (Checkpoint ckpt = Checkpoint.open(checkpoint)) {
            QuantizationConfig config = new QuantizationConfig(provider().name(), fields, preQuantized, ckpt.view());
            Quantizer q = provider().create(config);
            long before = OffHeap.totalAllocatedBytes();
            MetaDevice.withMetaDevice(() -> q.replaceWithQuantized(root, config));
            long allocated = OffHeap.totalAllocatedBytes() - before;
            List<String> offMeta = root.namedSlots().stream().filter(ns -> !ns.slot().get().isMeta()).map(NamedSlot::path).toList();
            if (allocated != 0 || !offMeta.isEmpty()) {
                fail("replaceWithQuantized (" + what + ") must only declare tensors, but inside the meta scope it allocated " + allocated
                        + " bytes and left " + offMeta.size() + " tensors off META " + head(offMeta)
                        + ": create them with Tensor.empty, which stays on META there");
            }
            assertFalse(replaced(c.model(), root).isEmpty(), "replaceWithQuantized (" + what + ") replaced no module: nothing would be quantized");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void everyTensorOfAReplacedModuleIsAParameterOrADeclaredBuffer(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        try (LoadedModel m = quantizeOnLoad(c)) {
            List<NamedSlot> slots = replacedSlots(c.model(), m.root());
            assertFalse(slots.isEmpty(), "the replaced modules register no tensor at all");
            List<String> problems = new ArrayList<>();
            for (NamedSlot ns : slots) {
                TensorSlot s = ns.slot();
                if (s.kind() == null) problems.add("'" + ns.path() + "' has no TensorKind");
                else if (s.kind() == TensorKind.NON_PERSISTENT_BUFFER && !s.hasInitializer()) {
                    problems.add("non-persistent buffer '" + ns.path() + "' has no initializer: nothing refills it after a meta load");
                }
            }
            if (declared(c).contains(Capability.SAVE)) {
                Set<String> state = m.quantizer().orElseThrow().checkpointState(m.root()).keySet();
                for (NamedSlot ns : slots) {
                    boolean persistent = ns.slot().kind().inStateDict();
                    if (persistent && !state.contains(ns.path())) {
                        problems.add(kindName(ns.slot().kind()) + " '" + ns.path() + "' is missing from checkpointState(): a saved model would lose it");
                    } else if (!persistent && state.contains(ns.path())) {
                        problems.add("non-persistent buffer '" + ns.path() + "' is in checkpointState(): it is recomputed, so it must never be saved"
                                + " (or register it persistent)");
                    }
                }
            }
            if (!problems.isEmpty()) fail(list("tensors of the replaced modules break the state-dict contract:", problems));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void leavesNothingOnMetaAfterLoadingOrDequantizing(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        try (LoadedModel m = quantizeOnLoad(c)) {
            assertNothingOnMeta(m.root(), "after quantize-on-load");
            if (declared(c).contains(Capability.DEQUANTIZE)) {
                runDeclared(Capability.DEQUANTIZE, "dequantize()", () -> m.quantizer().orElseThrow().dequantize(m.root()));
                assertNothingOnMeta(m.root(), "after dequantize()");
            }
        }
        if (declared(c).containsAll(Set.of(Capability.SAVE, Capability.PRE_QUANTIZED_LOAD))) {
            try (LoadedModel m = load(savedCheckpoint(c))) {
                assertNothingOnMeta(m.root(), "after a pre-quantized load");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void reinitialisesNonPersistentBuffersDeterministically(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        try (LoadedModel a = quantizeOnLoad(c); LoadedModel b = quantizeOnLoad(c)) {
            List<String> problems = new ArrayList<>();
            for (NamedSlot ns : a.root().namedSlots()) {
                if (ns.slot().kind() != TensorKind.NON_PERSISTENT_BUFFER) continue;
                String where = "non-persistent buffer '" + ns.path() + "' (" + ns.slot().owner().typeName() + ")";
                String unwritten = unwrittenByInitializer(ns.slot());
                if (unwritten != null) {
                    problems.add(where + " is not re-initialised: its initializer leaves " + unwritten
                            + " as it found it, so after a meta load it holds whatever the allocation held, not its value");
                    continue;
                }
                TensorSlot other = b.root().slotAt(ns.path());
                String diff = other == null ? "missing from the second load" : difference(ns.slot().get(), other.get());
                if (diff != null) problems.add(where + " differs between two loads of one checkpoint (" + diff + "): its initializer is not deterministic");
            }
            if (!problems.isEmpty()) fail(list("non-persistent buffers are not re-initialised deterministically:", problems));
            assertSameModel(a.root(), b.root(), "two loads of one checkpoint");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void quantizeDequantizeErrorIsWithinTheDeclaredBound(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        Set<Capability> caps = declared(c);
        assumeTrue(caps.contains(Capability.DEQUANTIZE) || caps.contains(Capability.FORWARD),
                () -> "the weights can only be seen through DEQUANTIZE or FORWARD, and " + provider().name() + " declares neither");
        double bound = errorBounds(c.fields()).dequantized();
        try (LoadedModel m = quantizeOnLoad(c)) {
            List<Replaced> linears = replacedLinears(c.model(), m.root());
            assertFalse(linears.isEmpty(), "no Linear was quantized");
            Map<String, float[]> weights = caps.contains(Capability.DEQUANTIZE) ? dequantizedWeights(m, linears) : weightsThroughForward(linears);
            List<String> problems = new ArrayList<>();
            for (Replaced r : linears) {
                Linear original = (Linear) r.original();
                int out = Math.toIntExact(original.outFeatures()), in = Math.toIntExact(original.inFeatures());
                double[] exact = model(c).linearWeights().get(r.path());
                float[] approx = weights.get(r.path());
                String tensor = "'" + r.path() + "' [" + out + ", " + in + "] " + c.model().dtype();
                double error = relativeRms(approx, 0, exact, 0, exact.length);
                if (!(error <= bound)) {
                    problems.add(String.format(Locale.ROOT, "%s: relative RMS error %.4f of quantize → dequantize exceeds the declared bound %.4f",
                            tensor, error, bound));
                    continue;
                }
                // A lost block or row barely moves the average over a whole weight; per row it cannot hide.
                for (int row = 0; row < out; row++) {
                    double rowError = relativeRms(approx, row * in, exact, row * in, in);
                    if (!(rowError <= 4 * bound)) {
                        problems.add(String.format(Locale.ROOT, "%s: row %d has relative RMS error %.4f, more than 4 × the declared bound %.4f"
                                + " (the whole weight: %.4f): part of the row is lost or misplaced", tensor, row, rowError, bound, error));
                        break;
                    }
                }
            }
            if (!problems.isEmpty()) fail(list("quantize → dequantize is less accurate than declared:", problems));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void quantizedForwardMatchesDequantizedMatmul(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD, Capability.FORWARD, Capability.DEQUANTIZE);
        double bound = errorBounds(c.fields()).forward();
        SplittableRandom random = random(c, "forward");
        int tokens = 1 + random.nextInt(4);
        try (LoadedModel m = quantizeOnLoad(c)) {
            List<Replaced> linears = replacedLinears(c.model(), m.root());
            Map<String, float[]> inputs = new LinkedHashMap<>(), outputs = new LinkedHashMap<>();
            for (Replaced r : linears) {
                LinearForward f = (LinearForward) r.replacement();
                float[] x = gaussian(random, tokens * Math.toIntExact(f.inFeatures()));
                float[] y = new float[tokens * Math.toIntExact(f.outFeatures())];
                f.forward(Kernels.get(), x, tokens, y);
                inputs.put(r.path(), x);
                outputs.put(r.path(), y);
            }
            runDeclared(Capability.DEQUANTIZE, "dequantize()", () -> m.quantizer().orElseThrow().dequantize(m.root()));
            List<String> problems = new ArrayList<>();
            for (Replaced r : linears) {
                Linear dense = (Linear) m.root().find(r.path());
                int in = Math.toIntExact(dense.inFeatures()), out = Math.toIntExact(dense.outFeatures());
                float[] w = dense.weight().toFloatArray(), x = inputs.get(r.path());
                float[] b = dense.hasBias() ? dense.bias().toFloatArray() : null;
                double[] expected = new double[tokens * out];
                for (int t = 0; t < tokens; t++) {
                    for (int o = 0; o < out; o++) {
                        double s = b == null ? 0 : b[o];
                        for (int i = 0; i < in; i++) s += (double) x[t * in + i] * w[o * in + i];
                        expected[t * out + o] = s;
                    }
                }
                // dequantize() may hand back the weights rounded to the checkpoint's dtype (bitsandbytes does, like
                // transformers); the forward pass never sees that rounding, so it is allowed on top of the bound.
                double rounding = roundingOf(dense.weight().dtype());
                double error = relativeRms(outputs.get(r.path()), 0, expected, 0, expected.length);
                if (!(error <= bound + rounding)) {
                    problems.add(String.format(Locale.ROOT, "'%s' on %d token(s): relative RMS difference %.6f from dequantize-then-matmul exceeds the"
                            + " declared forward bound %.6f (+ %.6f for the %s of the dequantized weights)", r.path(), tokens, error, bound, rounding,
                            dense.weight().dtype()));
                }
            }
            if (!problems.isEmpty()) fail(list("the quantized forward pass disagrees with its own dequantized weights:", problems));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void saveThenLoadIsBitIdentical(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD, Capability.SAVE, Capability.PRE_QUANTIZED_LOAD);
        Path first = newDirectory("save-first"), second = newDirectory("save-second");
        try (LoadedModel a = quantizeOnLoad(c)) {
            ModelSaver.save(a, first, MAX_SHARD);
            try (LoadedModel b = load(first)) {
                Map<String, Tensor> savedState = a.quantizer().orElseThrow().checkpointState(a.root());
                Map<String, Tensor> reloadedState = b.quantizer().orElseThrow().checkpointState(b.root());
                assertEquals(new TreeMap<>(savedState).keySet(), new TreeMap<>(reloadedState).keySet(),
                        "the reloaded model's checkpointState() has other keys than the saved one");
                List<String> problems = new ArrayList<>();
                for (var e : savedState.entrySet()) {
                    String diff = difference(e.getValue(), reloadedState.get(e.getKey()));
                    if (diff != null) problems.add("'" + e.getKey() + "': " + diff);
                }
                if (!problems.isEmpty()) fail(list("save → load is not bit-identical; the reloaded model differs from the saved one in:", problems));
                assertSameModel(a.root(), b.root(), "the saved model and the reloaded one");
                ModelSaver.save(b, second, MAX_SHARD);
            }
        }
        for (Path f : files(first)) {
            Path other = second.resolve(f.getFileName());
            try {
                assertTrue(Files.exists(other) && Files.mismatch(f, other) == -1, "saving the reloaded model again changes " + f.getFileName()
                        + ": save → load → save must write the same bytes");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void modulesInTheSkipListStayDense(Case c) {
        String field = skipModulesField();
        assumeTrue(field != null, () -> provider().name() + " has no skip-list field (skipModulesField() is null)");
        requires(c, Capability.QUANTIZE_ON_LOAD);
        List<String> candidates;
        try (LoadedModel m = quantizeOnLoad(c)) {
            candidates = replacedLinears(c.model(), m.root()).stream().map(Replaced::path).toList();
        }
        assumeTrue(candidates.size() >= 2, () -> "fewer than two Linears are quantized under " + sorted(c.fields()) + "; nothing to keep dense");
        SplittableRandom random = random(c, "skip");
        List<String> keep = new ArrayList<>(candidates);
        Collections.shuffle(keep, random);
        keep = List.copyOf(keep.subList(0, Math.min(2, candidates.size() - 1)));
        Map<String, Object> fields = new LinkedHashMap<>(c.fields());
        fields.put(field, keep);
        try (LoadedModel m = loader().load(model(c).directory(), LoadOptions.builder().threads(2).quantize(provider().name(), fields).build())) {
            List<String> problems = new ArrayList<>();
            for (String path : keep) {
                Module now = m.root().find(path);
                if (now == null || now.getClass() != Linear.class) {
                    problems.add("'" + path + "' is named in " + field + " but was replaced by " + (now == null ? "nothing" : now.typeName()));
                    continue;
                }
                Tensor w = ((Linear) now).weight();
                double[] exact = model(c).linearWeights().get(path);
                for (int i = 0; i < exact.length; i++) {
                    if (w.getFloat(i) != exact[i]) {
                        problems.add("'" + path + "' stays a Linear but its weight differs from the checkpoint at element " + i);
                        break;
                    }
                }
            }
            if (!problems.isEmpty()) fail(list("modules in the skip list " + field + "=" + keep + " were not kept dense:", problems));
            assertFalse(replacedLinears(c.model(), m.root()).isEmpty(), "with " + field + "=" + keep + " no Linear is quantized at all");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void truncatedCheckpointFailsWithATypedErrorNamingTheFile(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        SplittableRandom random = random(c, "truncate");
        Path dense = CheckpointDamage.truncated(model(c).directory(), newDirectory("truncated-dense"), 0.05 + 0.45 * random.nextDouble());
        assertNamesTheFile(expectTypedError("quantize-on-load of a checkpoint whose model.safetensors is truncated",
                () -> quantizeOnLoad(dense.getParent(), c.fields()).close()), dense);
        if (canLoadSaved(c)) {
            Path saved = CheckpointDamage.truncated(savedCheckpoint(c), newDirectory("truncated-saved"), 0.05 + 0.45 * random.nextDouble());
            assertNamesTheFile(expectTypedError("loading a pre-quantized checkpoint whose model.safetensors is truncated",
                    () -> load(saved.getParent()).close()), saved);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void quantizedTensorWithAWrongShapeFailsWithATypedErrorNamingIt(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD, Capability.SAVE, Capability.PRE_QUANTIZED_LOAD);
        Path saved = savedCheckpoint(c);
        Map<String, Tensor> dense = TinyLlama.skeleton(c.model()).stateDict();
        List<String> quantized = new ArrayList<>();
        try (Checkpoint ckpt = Checkpoint.open(saved)) {
            for (var e : ckpt.tensors().entrySet()) {
                Tensor d = dense.get(e.getKey());
                Shape shape = e.getValue().info().shape();
                boolean denseLayout = d != null && d.shape().equals(shape) && d.dtype() == e.getValue().info().dtype();
                if (!denseLayout && shape.rank() >= 1 && shape.dim(0) >= 2) quantized.add(e.getKey());
            }
        }
        assertFalse(quantized.isEmpty(), "the saved checkpoint holds no tensor in a quantized layout");
        String victim = quantized.get(random(c, "wrong-shape").nextInt(quantized.size()));
        Path damaged = CheckpointDamage.withOneRowLess(saved, newDirectory("wrong-shape"), victim);
        QLoadException e = expectTypedError("loading a checkpoint whose quantized tensor '" + victim + "' lost its last row",
                () -> load(damaged.getParent()).close());
        assertTrue(e.problems().stream().anyMatch(p -> victim.equals(p.tensor()) || p.message().contains(victim)),
                "the error for a wrong-shaped '" + victim + "' does not name it: " + e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void concurrentLoadsOfOneCheckpointAgreeBitForBit(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        int threads = 2 + random(c, "threads").nextInt(3);
        concurrently(threads, "quantize-on-load", () -> quantizeOnLoad(c));
        if (canLoadSaved(c)) {
            Path dir = savedCheckpoint(c);
            concurrently(threads, "pre-quantized load", () -> load(dir));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    public final void closingTwiceIsHarmlessAndUseAfterCloseIsModelClosed(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        LoadedModel m = quantizeOnLoad(c);
        m.close();
        m.close();
        assertTrue(m.isClosed(), "isClosed() after close()");
        QLoadException e = assertThrows(QLoadException.class, m::root, "root() after close() must fail with qload/ModelClosed");
        assertEquals(ErrorId.MODEL_CLOSED, e.id(), "the error of root() after close(): " + e.getMessage());
    }

    // ------------------------------------------------------------------------------------------ loading

    private Loader loader() {
        Loader l = loader;
        if (l == null) {
            l = new Loader(new Plugins(List.of(provider()), List.of(new LlamaArchitecture())));
            loader = l;
        }
        return l;
    }

    private LoadedModel quantizeOnLoad(Case c) {
        return quantizeOnLoad(model(c).directory(), c.fields());
    }

    private LoadedModel quantizeOnLoad(Path dir, Map<String, ?> fields) {
        return loader().load(dir, LoadOptions.builder().threads(2).quantize(provider().name(), fields).build());
    }

    private LoadedModel load(Path dir) {
        return loader().load(dir, LoadOptions.builder().threads(2).build());
    }

    /** A quantized model to inspect: quantize-on-load is the kit's only way to make one. */
    private LoadedModel quantizedModel(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD);
        return quantizeOnLoad(c);
    }

    private TinyLlama model(Case c) {
        return models.computeIfAbsent(c.modelIndex(), i -> TinyLlama.write(c.model(), work().resolve("model-" + i)));
    }

    private boolean canSave(Case c) {
        return declared(c).containsAll(Set.of(Capability.QUANTIZE_ON_LOAD, Capability.SAVE));
    }

    private boolean canLoadSaved(Case c) {
        return canSave(c) && declared(c).contains(Capability.PRE_QUANTIZED_LOAD);
    }

    /** The case's model quantized on load and saved: a pre-quantized checkpoint, made once per case. */
    private Path savedCheckpoint(Case c) {
        requires(c, Capability.QUANTIZE_ON_LOAD, Capability.SAVE);
        Object made = saved.computeIfAbsent(c.configIndex() + "/" + c.modelIndex(), key -> {
            try (LoadedModel m = quantizeOnLoad(c)) {
                Path dir = newDirectory("saved");
                ModelSaver.save(m, dir, MAX_SHARD);
                return dir;
            } catch (RuntimeException | Error e) {
                return e;
            }
        });
        if (made instanceof Throwable t) {
            throw new AssertionFailedError("this check needs a pre-quantized checkpoint, and quantize-on-load then ModelSaver.save failed: " + t, t);
        }
        return (Path) made;
    }

    /** The dense checkpoint with a config.json that claims it is quantized: for a quantizer that cannot save. */
    private Path claimedPreQuantized(Case c) {
        Path dir = newDirectory("claimed");
        CheckpointDamage.copy(model(c).directory(), dir);
        ObjectNode config = TinyLlama.config(c.model());
        ObjectNode qc = Json.STRICT.valueToTree(c.fields());
        qc.put("quant_method", provider().name());
        config.set("quantization_config", qc);
        try {
            Files.writeString(dir.resolve(Checkpoint.CONFIG), Json.STRICT.writeValueAsString(config));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private Path newDirectory(String what) {
        Path dir = work().resolve(what + "-" + directories.incrementAndGet());
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void concurrently(int threads, String what, Supplier<LoadedModel> load) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<LoadedModel>> futures = new ArrayList<>();
        List<LoadedModel> loaded = new ArrayList<>();
        try {
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return load.get();
                }));
            }
            start.countDown();
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                try {
                    loaded.add(futures.get(i).get(60, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    failures.add("load " + (i + 1) + ": " + e.getCause());
                } catch (Exception e) {
                    failures.add("load " + (i + 1) + ": " + e);
                }
            }
            if (!failures.isEmpty()) fail(list(failures.size() + " of " + threads + " concurrent " + what + "s failed:", failures));
            for (int i = 1; i < loaded.size(); i++) {
                assertSameModel(loaded.getFirst().root(), loaded.get(i).root(), threads + " concurrent " + what + "s (first and " + (i + 1) + ")");
            }
        } finally {
            pool.shutdownNow();
            loaded.forEach(LoadedModel::close);
        }
    }

    // ------------------------------------------------------------------------------------------ model inspection

    private static Map<String, float[]> dequantizedWeights(LoadedModel m, List<Replaced> linears) {
        runDeclared(Capability.DEQUANTIZE, "dequantize()", () -> m.quantizer().orElseThrow().dequantize(m.root()));
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Replaced r : linears) {
            Module now = m.root().find(r.path());
            if (!(now instanceof Linear dense)) throw new AssertionFailedError("after dequantize(), '" + r.path() + "' is not a dense Linear");
            out.put(r.path(), dense.weight().toFloatArray());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ assertions

    private Set<Capability> declared(Case c) {
        return declared.computeIfAbsent(c.configIndex(), i -> {
            Set<Capability> caps = EnumSet.noneOf(Capability.class);
            caps.addAll(declaredCapabilities(c.fields()));
            return Collections.unmodifiableSet(caps);
        });
    }

    private void requires(Case c, Capability... needed) {
        Set<Capability> missing = EnumSet.noneOf(Capability.class);
        for (Capability cap : needed) if (!declared(c).contains(cap)) missing.add(cap);
        assumeTrue(missing.isEmpty(), () -> "needs " + missing + ", which " + provider().name() + " does not declare for " + sorted(c.fields()));
    }

    /** The problem {@link Quantizer#notSupported} builds for this provider's name. */
    private Problem notSupported(Capability capability) {
        String name = provider().name();
        Quantizer reference = new Quantizer() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Set<Capability> capabilities() {
                return Set.of();
            }

            @Override
            public void replaceWithQuantized(Module root, QuantizationConfig config) {}
        };
        return reference.notSupported(capability).problems().getFirst();
    }

    private void assertNotSupported(Capability capability, String action, Executable run) {
        Problem expected = notSupported(capability);
        String rule = "a capability declared unsupported must fail with exactly \"" + expected.render() + "\" (Quantizer.notSupported)";
        Throwable thrown = null;
        try {
            run.execute();
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown == null) fail(capability + " is declared unsupported, but " + action + " succeeded: declare " + capability + ", or " + rule);
        if (!(thrown instanceof QLoadException q)) {
            throw new AssertionFailedError(capability + " is declared unsupported and " + action + " threw " + thrown + "; " + rule, thrown);
        }
        if (!q.problems().contains(expected)) {
            throw new AssertionFailedError(capability + " is declared unsupported and " + action + " threw \"" + q.firstLine() + "\"; " + rule, q);
        }
    }

    /** Runs what a declared capability promises; a "not supported" error from it is a false declaration. */
    private static void runDeclared(Capability capability, String action, Executable run) {
        try {
            run.execute();
        } catch (QLoadException e) {
            if (e.id() == ErrorId.NOT_SUPPORTED || e.problems().stream().anyMatch(p -> p.id() == ErrorId.NOT_SUPPORTED)) {
                throw new AssertionFailedError(capability + " is declared, but " + action + " says it is not supported: " + e.firstLine(), e);
            }
            throw e;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionFailedError(action + " failed: " + t, t);
        }
    }

    private static QLoadException expectTypedError(String action, Executable run) {
        try {
            run.execute();
        } catch (QLoadException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionFailedError(action + " threw " + t + ", not a typed QLoadException naming what is wrong", t);
        }
        throw new AssertionFailedError(action + " succeeded: the damage went unnoticed");
    }

    private static void assertNamesTheFile(QLoadException e, Path file) {
        String name = file.getFileName().toString();
        assertTrue(e.problems().stream().anyMatch(p -> file.equals(p.file()) || (p.file() != null && p.file().endsWith(name)) || p.message().contains(name)),
                "the error for a truncated " + name + " does not name the file: " + e.getMessage());
    }

    private static void assertSameModel(Module a, Module b, String what) {
        List<String> problems = differences(a, b);
        if (!problems.isEmpty()) fail(list(what + " are not bit-identical:", problems));
    }

    private static void assertNothingOnMeta(Module root, String when) {
        List<String> meta = root.namedSlots().stream().filter(ns -> ns.slot().get().isMeta()).map(NamedSlot::path).toList();
        assertTrue(meta.isEmpty(), meta.size() + " tensors are still on META " + when + " " + head(meta));
    }

    // ------------------------------------------------------------------------------------------ numbers and words

    private SplittableRandom random(Case c, String check) {
        return new SplittableRandom(ConformanceSeed.derive(c.seed(), check));
    }

    private static float[] gaussian(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }

    private static ModelConfig fields(Map<String, ?> config) {
        return LoadOptions.builder().quantize("fields", config).build().quantizeFields();
    }

    static String sorted(Map<String, ?> fields) {
        return new TreeMap<>(fields).toString();
    }

    private static String list(String title, List<String> problems) {
        StringBuilder sb = new StringBuilder(title);
        for (String p : problems.subList(0, Math.min(problems.size(), 10))) sb.append("\n  - ").append(p);
        if (problems.size() > 10) sb.append("\n  - … and ").append(problems.size() - 10).append(" more");
        return sb.toString();
    }

    private static String head(List<String> paths) {
        return paths.isEmpty() ? "" : "(" + String.join(", ", paths.subList(0, Math.min(3, paths.size()))) + (paths.size() > 3 ? ", …" : "") + ")";
    }

    private static List<Path> files(Path dir) {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int roundUp(int value, int multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    private static int lcm(int a, int b) {
        int x = a, y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }
}
