package dev.qload.core.load;

import dev.qload.core.config.Json;
import dev.qload.core.config.ModelConfig;
import dev.qload.core.integrity.ExpectedDigest;
import dev.qload.core.integrity.VerifyPolicy;
import dev.qload.core.tensor.DType;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import tools.jackson.databind.node.ObjectNode;

/**
 * How to load. Defaults mirror transformers' {@code from_pretrained}: dtype "auto" (the
 * checkpoint's own), the quantization the checkpoint declares, and missing weights are an error
 * (transformers would initialise them randomly and warn; {@link Builder#allowMissing} does that).
 *
 * @param dtype              target dtype of floating parameters, or null for the checkpoint's own
 * @param quantizeMethod     quantize a dense checkpoint on load with this quant_method, or null
 * @param quantizeFields     that quantizer's config fields (HF names), may be empty
 * @param threads            worker threads for the materialize phase
 * @param memoryBudgetBytes  refuse, before allocating, a load whose private memory exceeds this
 * @param allowMissing       initialise missing parameters randomly (with a warning) instead of failing
 * @param residency          whether matching weights stay mapped or are copied
 * @param initMode           META (default) or the EAGER baseline
 * @param verifyPolicy       whether the files are checked against expected digests while loading (OFF by default)
 * @param expectedDigests    expected digests by file name relative to the checkpoint directory; when empty, a
 *                           verifying load reads them from the directory's qload-checksums.json
 */
public record LoadOptions(DType dtype, String quantizeMethod, ModelConfig quantizeFields, int threads,
                          long memoryBudgetBytes, boolean allowMissing, Residency residency, ProgressListener progress,
                          InitMode initMode, VerifyPolicy verifyPolicy, Map<String, ExpectedDigest> expectedDigests) {

    public LoadOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (memoryBudgetBytes < 0) throw new IllegalArgumentException("memory budget must not be negative");
        Objects.requireNonNull(residency);
        Objects.requireNonNull(progress);
        Objects.requireNonNull(initMode);
        if (quantizeFields == null) quantizeFields = ModelConfig.of(Json.STRICT.createObjectNode());
        Objects.requireNonNull(verifyPolicy);
        expectedDigests = expectedDigests == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(expectedDigests));
    }

    /** The options without verification, as before it existed. */
    public LoadOptions(DType dtype, String quantizeMethod, ModelConfig quantizeFields, int threads, long memoryBudgetBytes,
                       boolean allowMissing, Residency residency, ProgressListener progress, InitMode initMode) {
        this(dtype, quantizeMethod, quantizeFields, threads, memoryBudgetBytes, allowMissing, residency, progress, initMode,
                VerifyPolicy.OFF, Map.of());
    }

    public static LoadOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private DType dtype;
        private String quantizeMethod;
        private ModelConfig quantizeFields;
        private int threads = Runtime.getRuntime().availableProcessors();
        private long memoryBudgetBytes = Long.MAX_VALUE;
        private boolean allowMissing;
        private Residency residency = Residency.MAPPED;
        private ProgressListener progress = ProgressListener.NONE;
        private InitMode initMode = InitMode.META;
        private VerifyPolicy verify = VerifyPolicy.OFF;
        private Map<String, ExpectedDigest> expectedDigests = Map.of();

        public Builder dtype(DType dtype) {
            this.dtype = dtype;
            return this;
        }

        /** Quantize on load with {@code method}; {@code fields} are its config in HF's names. */
        public Builder quantize(String method, Map<String, ?> fields) {
            this.quantizeMethod = method;
            ObjectNode node = Json.STRICT.valueToTree(fields);
            this.quantizeFields = ModelConfig.of(node);
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder memoryBudgetBytes(long bytes) {
            this.memoryBudgetBytes = bytes;
            return this;
        }

        public Builder allowMissing(boolean allow) {
            this.allowMissing = allow;
            return this;
        }

        public Builder residency(Residency residency) {
            this.residency = residency;
            return this;
        }

        public Builder progress(ProgressListener listener) {
            this.progress = listener;
            return this;
        }

        public Builder initMode(InitMode mode) {
            this.initMode = mode;
            return this;
        }

        /** Verify against the checkpoint directory's qload-checksums.json (see {@link VerifyPolicy}). */
        public Builder verify(VerifyPolicy policy) {
            return verify(policy, Map.of());
        }

        /**
         * Verify against {@code expected} (file name relative to the checkpoint directory → digest, e.g.
         * {@code "model.safetensors" → ExpectedDigest.sha256(lfsOid)}); these replace the directory's
         * qload-checksums.json. An empty map means: use the manifest.
         */
        public Builder verify(VerifyPolicy policy, Map<String, ExpectedDigest> expected) {
            this.verify = Objects.requireNonNull(policy);
            this.expectedDigests = Map.copyOf(expected);
            return this;
        }

        public LoadOptions build() {
            return new LoadOptions(dtype, quantizeMethod, quantizeFields, threads, memoryBudgetBytes, allowMissing, residency, progress, initMode,
                    verify, expectedDigests);
        }
    }
}
