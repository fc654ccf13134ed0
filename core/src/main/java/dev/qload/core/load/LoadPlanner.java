package dev.qload.core.load;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.checkpoint.CheckpointTensor;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.LoadException;
import dev.qload.core.error.Problem;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.spi.KeyRename;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.TensorAction;
import dev.qload.core.spi.TiedWeight;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Matches checkpoint keys to model slots and decides every action, following transformers'
 * {@code convert_and_load_state_dict_in_model} and {@code _finalize_model_loading}
 * (spec/HF-LOADING.md §1.7–1.9): renames in order, shapes checked, symmetric tying, stale
 * non-persistent keys ignored. Every problem found is collected and thrown together, before any
 * allocation.
 */
public final class LoadPlanner {
    /** transformers' "legacy" renames, applied to every model (spec/HF-LOADING.md §1.7). */
    static final List<KeyRename> LEGACY_RENAMES = List.of(
            KeyRename.of("LayerNorm\\.gamma$", "LayerNorm.weight"),
            KeyRename.of("LayerNorm\\.beta$", "LayerNorm.bias"));

    private final Module root;
    private final Checkpoint checkpoint;
    private final List<KeyRename> renames;
    private final List<TiedWeight> ties;
    private final Quantizer quantizer; // may be null
    private final LoadOptions options;

    public LoadPlanner(Module root, Checkpoint checkpoint, List<KeyRename> renames, List<TiedWeight> ties, Quantizer quantizer, LoadOptions options) {
        this.root = root;
        this.checkpoint = checkpoint;
        List<KeyRename> all = new ArrayList<>(LEGACY_RENAMES);
        all.addAll(renames);
        this.renames = all;
        this.ties = ties;
        this.quantizer = quantizer;
        this.options = options;
    }

    public LoadPlan plan() {
        Map<String, NamedSlot> slots = new LinkedHashMap<>();
        for (NamedSlot ns : root.namedSlots()) slots.put(ns.path(), ns);
        Map<String, Module> modules = root.namedModules();

        List<Problem> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>(checkpoint.warnings());
        List<PlannedLoad> loads = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<MismatchedKey> mismatched = new ArrayList<>();
        Map<String, String> filledBy = new LinkedHashMap<>();
        Set<String> rejected = new HashSet<>(); // in the checkpoint but unusable: reported as mismatched, not as missing
        long allocation = 0, mapped = 0, source = 0;

        for (CheckpointTensor ct : checkpoint.tensors().values()) {
            String key = rename(ct.name());
            NamedSlot target = slots.get(key);
            if (target != null && target.slot().kind() == TensorKind.NON_PERSISTENT_BUFFER) {
                warnings.add("checkpoint tensor '" + ct.name() + "' is a non-persistent buffer of the model; ignored, it is recomputed");
                continue;
            }
            String ownerPath = target != null ? target.modulePath() : owningModule(key, modules);
            Module owner = ownerPath == null ? null : modules.get(ownerPath);
            TensorAction action = quantizer != null && owner != null
                    ? quantizer.planTensor(key, ct.info(), owner, ownerPath.isEmpty() ? key : key.substring(ownerPath.length() + 1))
                    : TensorAction.COPY;
            if (action == null) {
                problems.add(Problem.inFile(ErrorId.PLUGIN_CONTRACT, "quantizer '" + quantizer.name() + "' returned no action for this tensor",
                        ct.file().path(), ct.name(), ct.fileOffset()));
                continue;
            }
            switch (action) {
                case TensorAction.Copy c -> {
                    if (target == null) {
                        unexpected.add(ct.name());
                        continue;
                    }
                    Tensor model = target.slot().get();
                    if (!model.shape().equals(ct.info().shape())) {
                        mismatched.add(new MismatchedKey(key, ct.info().shape(), model.shape()));
                        rejected.add(key);
                        problems.add(Problem.inFile(ErrorId.TENSOR_SHAPE_MISMATCH, "checkpoint shape " + ct.info().shape() + " " + ct.info().dtype()
                                + " but the model's " + target.slot().owner().typeName() + " expects " + model.shape(), ct.file().path(), ct.name(), ct.fileOffset()));
                        continue;
                    }
                    PlannedLoad.FillKind kind = fillKind(ct.info().dtype(), model.dtype());
                    if (kind == null) {
                        rejected.add(key);
                        problems.add(Problem.inFile(ErrorId.TENSOR_DTYPE_MISMATCH, "checkpoint dtype " + ct.info().dtype() + " cannot become the model's "
                                + model.dtype() + " (only float formats convert)", ct.file().path(), ct.name(), ct.fileOffset()));
                        continue;
                    }
                    if (claim(filledBy, key, ct, problems)) {
                        loads.add(new PlannedLoad.Fill(ct, target, kind));
                        if (kind == PlannedLoad.FillKind.ZERO_COPY) mapped += ct.info().byteLength();
                        else allocation += model.byteSize();
                        source += ct.info().byteLength();
                    }
                }
                case TensorAction.Consumed consumed -> { } // read by the quantizer itself: neither loaded nor unexpected
                case TensorAction.Quantize q -> {
                    List<NamedSlot> targets = new ArrayList<>();
                    for (String local : q.targets()) {
                        NamedSlot ns = slots.get(Module.join(ownerPath, local));
                        if (ns == null) {
                            problems.add(Problem.inFile(ErrorId.PLUGIN_CONTRACT, "quantizer '" + quantizer.name() + "' targets '" + local
                                    + "', which " + owner.typeName() + " at '" + ownerPath + "' does not have", ct.file().path(), ct.name(), ct.fileOffset()));
                        } else if (claim(filledBy, ns.path(), ct, problems)) {
                            targets.add(ns);
                            allocation += ns.slot().get().byteSize();
                        }
                    }
                    loads.add(new PlannedLoad.Quantize(ct, ownerPath, targets, q.kernel()));
                    source += ct.info().byteLength();
                }
            }
        }

        List<LoadPlan.Tie> tiePlan = new ArrayList<>();
        Set<String> tiedTargets = new HashSet<>();
        for (TiedWeight tie : ties) {
            NamedSlot t = slots.get(tie.target()), s = slots.get(tie.source());
            if (t == null || s == null) continue; // e.g. a quantizer replaced the module; nothing to tie
            boolean tIn = filledBy.containsKey(tie.target()), sIn = filledBy.containsKey(tie.source());
            if (sIn != tIn && !t.slot().get().shape().equals(s.slot().get().shape())) {
                problems.add(Problem.of(ErrorId.TENSOR_SHAPE_MISMATCH, "cannot tie '" + tie.target() + "' " + t.slot().get().shape() + " to '"
                        + tie.source() + "' " + s.slot().get().shape() + ": tied weights must have one shape"));
                tiedTargets.add(sIn ? tie.target() : tie.source());
                continue;
            }
            if (sIn && !tIn) {
                tiePlan.add(new LoadPlan.Tie(t, s));
                tiedTargets.add(tie.target());
            } else if (tIn && !sIn) { // transformers ties symmetrically while loading
                tiePlan.add(new LoadPlan.Tie(s, t));
                tiedTargets.add(tie.source());
            } else if (tIn) {
                warnings.add("both '" + tie.target() + "' and '" + tie.source() + "' are in the checkpoint: not tied (set tie_word_embeddings=false in config.json)");
            }
        }

        List<NamedSlot> initialized = new ArrayList<>();
        List<NamedSlot> randomized = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (NamedSlot ns : slots.values()) {
            if (filledBy.containsKey(ns.path()) || tiedTargets.contains(ns.path()) || rejected.contains(ns.path())) continue;
            TensorKind kind = ns.slot().kind();
            if (kind == TensorKind.NON_PERSISTENT_BUFFER) {
                initialized.add(ns);
            } else if (kind == TensorKind.PERSISTENT_BUFFER && ns.slot().hasInitializer()) {
                initialized.add(ns);
                warnings.add("persistent buffer '" + ns.path() + "' is not in the checkpoint; initialised by its module");
            } else if (options.allowMissing()) {
                randomized.add(ns);
                missing.add(ns.path());
                warnings.add("'" + ns.path() + "' is not in the checkpoint; newly initialised at random");
            } else {
                missing.add(ns.path());
                problems.add(Problem.of(ErrorId.MISSING_KEY, "'" + ns.path() + "' (" + ns.slot().owner().typeName() + " " + kind.name().toLowerCase()
                        + ", " + ns.slot().get().shape() + ") is not in checkpoint " + checkpoint.directory()
                        + "; pass allowMissing to initialise it randomly"));
            }
        }
        for (NamedSlot ns : initialized) allocation += ns.slot().get().byteSize();
        for (NamedSlot ns : randomized) allocation += ns.slot().get().byteSize();
        for (String u : unexpected) warnings.add("unexpected checkpoint tensor '" + u + "' is not used by the model");

        if (allocation > options.memoryBudgetBytes()) {
            problems.add(Problem.of(ErrorId.MEMORY_BUDGET_EXCEEDED, "the load needs " + LoadReport.bytes(allocation) + " of private memory, the budget is "
                    + LoadReport.bytes(options.memoryBudgetBytes()) + (mapped > 0 ? " (" + LoadReport.bytes(mapped) + " more stays mapped)" : "")));
        }
        if (!problems.isEmpty()) throw new LoadException(problems);
        return new LoadPlan(loads, tiePlan, initialized, randomized, missing, unexpected, mismatched, warnings, allocation, mapped, source);
    }

    private String rename(String key) {
        for (KeyRename r : renames) key = r.apply(key);
        return key;
    }

    private PlannedLoad.FillKind fillKind(DType from, DType to) {
        if (from == to) return options.residency() == Residency.MAPPED ? PlannedLoad.FillKind.ZERO_COPY : PlannedLoad.FillKind.COPY;
        return from.isConvertibleFloat() && to.isConvertibleFloat() ? PlannedLoad.FillKind.CONVERT : null;
    }

    /** Records that {@code ct} fills {@code path}; two checkpoint tensors for one slot is a problem. */
    private static boolean claim(Map<String, String> filledBy, String path, CheckpointTensor ct, List<Problem> problems) {
        String previous = filledBy.putIfAbsent(path, ct.name());
        if (previous == null) return true;
        problems.add(Problem.inFile(ErrorId.DUPLICATE_KEY, "fills '" + path + "', which '" + previous + "' already fills", ct.file().path(), ct.name(), ct.fileOffset()));
        return false;
    }

    /** The longest module path that prefixes {@code key}, or null when none does. */
    private static String owningModule(String key, Map<String, Module> modules) {
        String path = key;
        while (true) {
            int dot = path.lastIndexOf('.');
            if (dot < 0) return null;
            path = path.substring(0, dot);
            if (modules.containsKey(path)) return path;
        }
    }
}
