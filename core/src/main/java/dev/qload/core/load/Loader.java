package dev.qload.core.load;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.integrity.ChecksumManifest;
import dev.qload.core.integrity.ExpectedDigest;
import dev.qload.core.integrity.FileCheck;
import dev.qload.core.integrity.FileDigester;
import dev.qload.core.integrity.Verification;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.nn.RandomInit;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.CheckpointView;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Device;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import jakarta.inject.Inject;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load pipeline: open → build on META → quantize on META → plan → materialize → finish.
 * See DESIGN.md "The load, step by step". Every step that can fail on bad input does so before
 * the step that allocates, and a failure anywhere releases every mapping and allocation.
 *
 * <p>With {@link LoadOptions#verifyPolicy()} other than OFF, the expected digests (the options', else
 * the directory's qload-checksums.json) are checked right after open: under REQUIRE a weight file
 * without one, or a listed file that is absent or of the wrong size, fails the load there, before
 * anything is allocated. Each file is then hashed from its mapping by one task on the materialize
 * workers, submitted ahead of the materialize work (phase {@code verify}, overlapping
 * {@code materialize}); the digests are compared before any slot is set, so under REQUIRE a
 * mismatch fails the load before the model exists, and under WARN it becomes a report warning.
 */
public final class Loader {
    private static final Logger LOG = LoggerFactory.getLogger(Loader.class);

    private final Plugins plugins;

    @Inject
    public Loader(Plugins plugins) {
        this.plugins = plugins;
    }

    public LoadedModel load(Path directory, LoadOptions options) {
        long start = System.nanoTime();
        List<Phase> phases = new ArrayList<>();
        long liveBefore = OffHeap.liveBytes();
        OffHeap.resetPeak();

        Checkpoint checkpoint = timed(phases, start, "open", () -> Checkpoint.open(directory));
        ModelArena arena = null;
        try {
            Verification verification = planVerification(checkpoint, options);
            ModelConfig config = readConfig(checkpoint);
            ArchitectureProvider architecture = plugins.architectureFor(config);
            DType dtype = resolveDtype(options, config, checkpoint);
            QuantizationConfig quantization = resolveQuantization(options, config, checkpoint.view());
            Quantizer quantizer = quantization == null ? null : plugins.quantizer(quantization.method()).create(quantization);

            boolean meta = options.initMode() == InitMode.META;
            Device device = meta ? Device.META : Device.CPU;
            Module root = timed(phases, start, meta ? "build_meta" : "build_eager",
                    () -> MetaDevice.withDevice(device, () -> build(architecture, config, dtype)));
            if (meta) requireAllMeta(root, "architecture '" + architecture.name() + "'");
            if (quantizer != null) {
                timed(phases, start, meta ? "quantize_meta" : "quantize_eager", () -> {
                    MetaDevice.withDevice(device, () -> {
                        pluginStep(quantizer, "replaceWithQuantized", () -> quantizer.replaceWithQuantized(root, quantization));
                        return null;
                    });
                    return null;
                });
                if (meta) requireAllMeta(root, "quantizer '" + quantizer.name() + "'");
            }

            LoadPlan plan = timed(phases, start, "plan", () -> new LoadPlanner(root, checkpoint,
                    architecture.keyRenames(config), architecture.tiedWeights(config), quantizer, options).plan());
            plan.warnings().forEach(w -> LOG.warn("{}", w));

            ModelArena modelArena = new ModelArena();
            arena = modelArena;
            Materializer materializer = new Materializer(options, modelArena, start, quantizer == null ? null : quantizer.name());
            List<Materializer.SideTask<String>> hashing = new ArrayList<>();
            List<FileDigester> digesters = verification == null ? List.of() : verification.digesters();
            for (FileDigester d : digesters) hashing.add(new Materializer.SideTask<>(d.name(), d::digest));
            long materializeStart = System.nanoTime();
            List<FileCheck> checks = new ArrayList<>();
            try {
                materializer.run(plan, hashing, digests -> {
                    Map<FileDigester, String> byDigester = new HashMap<>();
                    for (int i = 0; i < digesters.size(); i++) byDigester.put(digesters.get(i), digests.get(i));
                    if (verification != null) checks.addAll(verification.checks(byDigester));
                    Verification.enforce(options.verifyPolicy(), checks); // under REQUIRE, a mismatch ends the load here
                });
            } finally {
                long done = materializer.workDoneNanos() == 0 ? System.nanoTime() : materializer.workDoneNanos();
                phases.add(new Phase("materialize", materializeStart - start, done - materializeStart));
                if (verification != null) {
                    Phase verify = materializer.sidePhase("verify");
                    phases.add(verify != null ? verify : new Phase("verify", materializeStart - start, 0));
                }
            }
            if (Thread.currentThread().isInterrupted()) {
                // The workers may have finished everything before the interrupt was seen; it still cancels the load (the flag stays set).
                throw new LoadException(Problem.inFile(ErrorId.MATERIALIZE_FAILED, "interrupted while loading", directory, null, -1));
            }
            List<String> verifyWarnings = Verification.enforce(options.verifyPolicy(), checks);
            int verifiedFiles = (int) checks.stream().filter(FileCheck::ok).count();
            verifyWarnings.forEach(w -> LOG.warn("{}", w));
            timed(phases, start, "finish", () -> {
                finish(root, plan, modelArena);
                if (quantizer != null) pluginStep(quantizer, "afterLoad", () -> quantizer.afterLoad(root));
                return null;
            });

            List<String> quantizerWarnings = quantizer == null ? List.of() : quantizer.loadWarnings();
            quantizerWarnings.forEach(w -> LOG.warn("{}", w));

            boolean anyMapped = plan.mappedBytes() > 0;
            if (!anyMapped) checkpoint.close();
            LoadReport report = report(directory, architecture, quantizer, dtype, options, phases, System.nanoTime() - start,
                    checkpoint, root, plan, materializer.spans(), liveBefore, concat(verifyWarnings, quantizerWarnings), verifiedFiles,
                    verification == null ? "none" : verification.algorithms());
            return new LoadedModel(root, config, quantizer, report, modelArena, anyMapped ? checkpoint : null);
        } catch (RuntimeException | Error e) {
            if (arena != null) arena.close();
            checkpoint.close();
            if (e instanceof InternalError fault && isMappedMemoryFault(fault)) {
                // Outside the materializer (a quantizer reading metadata through the view, say): still the file's fault, typed.
                throw new LoadException(Problem.inFile(ErrorId.MAPPED_FILE_CHANGED, "a file of the checkpoint was truncated or changed while "
                        + "loading: " + fault.getMessage(), directory, null, -1), fault);
            }
            if (e instanceof LoadException le) throw locate(le, checkpoint);
            throw e;
        }
    }

    /**
     * The same problems with the file and byte offset filled in where a plugin named a checkpoint
     * tensor but not where it lives (a quantizer sees tensor names, not files): every error names
     * its file when it has one. {@code e} itself when nothing was missing.
     */
    static LoadException locate(LoadException e, Checkpoint checkpoint) {
        List<Problem> located = new ArrayList<>(e.problems().size());
        boolean changed = false;
        for (Problem p : e.problems()) {
            CheckpointTensor t = p.file() == null && p.tensor() != null ? checkpoint.tensors().get(p.tensor()) : null;
            if (t == null) {
                located.add(p);
                continue;
            }
            located.add(Problem.inFile(p.id(), p.message(), t.file().path(), p.tensor(), p.offset() >= 0 ? p.offset() : t.fileOffset()));
            changed = true;
        }
        return changed ? new LoadException(located, e) : e;
    }

    /**
     * Whether the JVM raised {@code fault} for a memory access that hit a page it could not read
     * (SIGBUS on a mapping whose file shrank): HotSpot's message for it, unchanged since JDK 7, is
     * "a fault occurred in [a recent] unsafe memory access operation".
     */
    static boolean isMappedMemoryFault(InternalError fault) {
        return fault.getMessage() != null && fault.getMessage().contains("unsafe memory access operation");
    }

    /** A quantizer hook; a plain exception out of it (a bug in the plugin) becomes a typed error naming the plugin and the hook. */
    private static void pluginStep(Quantizer quantizer, String hook, Runnable step) {
        try {
            step.run();
        } catch (QLoadException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PluginException(Problem.of(ErrorId.PLUGIN_CONTRACT, "quantizer '" + quantizer.name() + "' failed in "
                    + hook + ": " + e), e);
        }
    }

    /**
     * The checks to make while loading, or null when the policy is OFF (nothing is read for it then,
     * not even the manifest). Failures known without hashing end a REQUIRE load here; under WARN they
     * become warnings with the others once the hashing is done.
     */
    private static Verification planVerification(Checkpoint checkpoint, LoadOptions options) {
        if (options.verifyPolicy() == VerifyPolicy.OFF) return null;
        Map<String, ExpectedDigest> expected = options.expectedDigests();
        String source = "the expected digests of the load options";
        if (expected.isEmpty()) {
            expected = ChecksumManifest.find(checkpoint.directory()).map(ChecksumManifest::files).orElse(Map.of());
            source = ChecksumManifest.FILE_NAME;
        }
        Map<String, MemorySegment> weightFiles = new LinkedHashMap<>();
        for (SafetensorsFile f : checkpoint.files()) weightFiles.put(f.path().getFileName().toString(), f.mapping());
        Verification verification = Verification.plan(checkpoint.directory(), weightFiles, expected, source, Verification.Scope.FASTEST);
        if (options.verifyPolicy() == VerifyPolicy.REQUIRE) Verification.enforce(VerifyPolicy.REQUIRE, verification.settledFailures());
        return verification;
    }

    /** The architecture's build; a failure that is not already a typed error is wrapped in one naming the provider. */
    private static Module build(ArchitectureProvider architecture, ModelConfig config, DType dtype) {
        try {
            return architecture.build(config, dtype);
        } catch (QLoadException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new LoadException(Problem.inFile(ErrorId.ARCHITECTURE_BUILD_FAILED, "architecture '" + architecture.name()
                    + "' could not build the model from this config: " + e.getMessage(), config.source(), null, -1), e);
        }
    }

    private static ModelConfig readConfig(Checkpoint checkpoint) {
        Path file = checkpoint.configFile();
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "the checkpoint has no config.json", checkpoint.directory(), null, -1));
        }
        return ModelConfig.read(file);
    }

    /**
     * transformers' {@code dtype="auto"}: {@code config.dtype} (or the older {@code torch_dtype}),
     * else the first floating tensor of the checkpoint (spec/HF-LOADING.md §1.4).
     */
    static DType resolveDtype(LoadOptions options, ModelConfig config, Checkpoint checkpoint) {
        if (options.dtype() != null) return options.dtype();
        for (String key : List.of("dtype", "torch_dtype")) {
            if (config.has(key)) {
                String name = config.string(key);
                if (name.equals("auto")) continue;
                return DType.fromTorchName(name).orElseThrow(() -> new ConfigException(Problem.inFile(ErrorId.CONFIG_WRONG_TYPE,
                        "'" + key + "' is '" + name + "', not a floating dtype (float32, float16, bfloat16)", config.source(), null, -1)));
            }
        }
        for (CheckpointTensor t : checkpoint.tensors().values()) if (t.info().dtype().isConvertibleFloat()) return t.info().dtype();
        return DType.F32;
    }

    /** AutoGPTQ's own config file, next to config.json in checkpoints it wrote (transformers reads only config.json). */
    public static final String AUTOGPTQ_QUANTIZE_CONFIG = "quantize_config.json";

    private static QuantizationConfig resolveQuantization(LoadOptions options, ModelConfig config, CheckpointView view) {
        ModelConfig declared = config.object("quantization_config").orElse(null);
        String defaultMethod = null;
        if (declared == null && config.source() != null) {
            // AutoGPTQ checkpoints (TheBloke's among them) may carry their settings only in
            // quantize_config.json, which has no quant_method: it is GPTQ's by definition.
            java.nio.file.Path autoGptq = config.source().resolveSibling(AUTOGPTQ_QUANTIZE_CONFIG);
            if (java.nio.file.Files.isRegularFile(autoGptq)) {
                declared = ModelConfig.read(autoGptq);
                defaultMethod = "gptq";
            }
        }
        if (declared != null) {
            String method = defaultMethod != null && !declared.has("quant_method") ? defaultMethod : declared.string("quant_method");
            if (options.quantizeMethod() != null && !options.quantizeMethod().equals(method)) {
                throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "the checkpoint is already quantized with '" + method
                        + "'; it cannot be quantized again with '" + options.quantizeMethod() + "'", config.source(), null, -1));
            }
            return new QuantizationConfig(method, declared, true, view);
        }
        if (options.quantizeMethod() == null) return null;
        return new QuantizationConfig(options.quantizeMethod(), options.quantizeFields(), false, view);
    }

    /** Neither building nor replacing may allocate: anything off META here is a broken provider. */
    private static void requireAllMeta(Module root, String who) {
        List<Problem> problems = new ArrayList<>();
        for (NamedSlot ns : root.namedSlots()) {
            if (!ns.slot().get().isMeta()) {
                problems.add(Problem.of(ErrorId.ALLOCATED_ON_META, who + " allocated '" + ns.path() + "' (" + ns.slot().owner().typeName()
                        + ") inside the meta scope; create tensors with Tensor.empty so they stay on META"));
            }
        }
        if (!problems.isEmpty()) throw new LoadException(problems);
    }

    /** Ties, recomputed buffers, allowed random fills; then proves nothing is left on META. */
    private static void finish(Module root, LoadPlan plan, ModelArena arena) {
        for (LoadPlan.Tie tie : plan.ties()) tie.target().slot().set(tie.source().slot().get());
        for (NamedSlot ns : plan.initialized()) {
            Tensor meta = ns.slot().get();
            Tensor t = arena.allocate(meta.shape(), meta.dtype());
            ns.slot().initializer().initialize(t);
            ns.slot().set(t);
        }
        for (NamedSlot ns : plan.randomized()) {
            Tensor meta = ns.slot().get();
            Tensor t = arena.allocate(meta.shape(), meta.dtype());
            if (meta.dtype().isConvertibleFloat()) RandomInit.normal(t, 0.02); // transformers' initializer_range default
            ns.slot().set(t);
        }
        List<Problem> left = new ArrayList<>();
        for (NamedSlot ns : root.namedSlots()) {
            if (ns.slot().get().isMeta()) {
                left.add(Problem.of(ErrorId.TENSOR_LEFT_ON_META, "'" + ns.path() + "' (" + kindName(ns.slot().kind()) + " of "
                        + ns.slot().owner().typeName() + ") is still on META after loading: it has no data"));
            }
        }
        if (!left.isEmpty()) throw new LoadException(left);
    }

    private static String kindName(TensorKind kind) {
        return switch (kind) {
            case PARAMETER -> "parameter";
            case PERSISTENT_BUFFER -> "persistent buffer";
            case NON_PERSISTENT_BUFFER -> "non-persistent buffer";
        };
    }

    private LoadReport report(Path directory, ArchitectureProvider architecture, Quantizer quantizer, DType dtype, LoadOptions options,
                              List<Phase> phases, long totalNanos, Checkpoint checkpoint, Module root, LoadPlan plan,
                              List<TaskSpan> spans, long liveBefore, List<String> verifyWarnings, int verifiedFiles, String digestAlgorithm) {
        Set<Tensor> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        long modelBytes = 0, parameters = 0;
        for (NamedSlot ns : root.namedSlots()) {
            Tensor t = ns.slot().get();
            if (!distinct.add(t)) continue;
            modelBytes += t.byteSize();
            if (ns.slot().kind() == TensorKind.PARAMETER) parameters += t.elementCount();
        }
        long bytesRead = plan.sourceBytes() - plan.mappedBytes();
        return new LoadReport(directory.toString(), architecture.name() + " (" + String.join(", ", root.typeName()) + ")",
                quantizer == null ? "none" : quantizer.name(), dtype.name(), List.copyOf(phases), totalNanos, options.threads(),
                checkpoint.files().size(), checkpoint.tensors().size(), parameters, bytesRead, plan.mappedBytes(), plan.allocationBytes(),
                Math.max(0, OffHeap.peakBytes() - liveBefore), modelBytes, plan.missingKeys(), plan.unexpectedKeys(), plan.mismatchedKeys(),
                plan.initialized().stream().map(NamedSlot::path).toList(), concat(plan.warnings(), verifyWarnings), spans,
                options.verifyPolicy().key(), verifiedFiles, digestAlgorithm);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        if (b.isEmpty()) return a;
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    private static <T> T timed(List<Phase> phases, long loadStart, String name, Supplier<T> step) {
        long s = System.nanoTime();
        try {
            return step.get();
        } finally {
            phases.add(new Phase(name, s - loadStart, System.nanoTime() - s));
        }
    }
}
