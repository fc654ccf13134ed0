package dev.qload.core.error;

/**
 * The closed set of things that can go wrong, each with a stable id. Ids appear in messages as
 * {@code [qload/HeaderTooSmall]}; scripts and users may match on them, so they never change.
 * The safetensors ids mirror the reference reader's {@code SafeTensorError} variants
 * (spec/FORMATS.md §1.3) where one exists.
 */
public enum ErrorId {
    // safetensors, one per validation rule
    HEADER_TOO_SMALL("HeaderTooSmall"),
    HEADER_TOO_LARGE("HeaderTooLarge"),
    INVALID_HEADER_LENGTH("InvalidHeaderLength"),
    INVALID_HEADER_UTF8("InvalidHeaderUtf8"),
    INVALID_HEADER_JSON("InvalidHeaderJson"),
    DUPLICATE_KEY("DuplicateKey"),
    UNKNOWN_DTYPE("UnknownDtype"),
    INVALID_SHAPE("InvalidShape"),
    INVALID_OFFSET("InvalidOffset"),
    VALIDATION_OVERFLOW("ValidationOverflow"),
    MISALIGNED_SLICE("MisalignedSlice"),
    TENSOR_INVALID_INFO("TensorInvalidInfo"),
    METADATA_INCOMPLETE_BUFFER("MetadataIncompleteBuffer"),
    TENSOR_NOT_FOUND("TensorNotFound"),
    FILE_UNREADABLE("FileUnreadable"),

    // checkpoint directory and index
    CHECKPOINT_NOT_FOUND("CheckpointNotFound"),
    NO_WEIGHTS_FOUND("NoWeightsFound"),
    INVALID_INDEX("InvalidIndex"),
    SHARD_OUTSIDE_CHECKPOINT("ShardOutsideCheckpoint"),
    INDEXED_TENSOR_MISSING("IndexedTensorMissing"),
    TENSOR_IN_TWO_SHARDS("TensorInTwoShards"),

    // config.json
    CONFIG_INVALID("ConfigInvalid"),
    CONFIG_MISSING_KEY("ConfigMissingKey"),
    CONFIG_WRONG_TYPE("ConfigWrongType"),

    // plugins
    UNKNOWN_QUANTIZER("UnknownQuantizer"),
    UNKNOWN_ARCHITECTURE("UnknownArchitecture"),
    DUPLICATE_PROVIDER("DuplicateProvider"),
    NOT_SUPPORTED("NotSupported"),
    /** A plugin broke the SPI's contract (returned no action, named a tensor its module lacks, ...). */
    PLUGIN_CONTRACT("PluginContractViolation"),

    // the load plan and its execution
    MISSING_KEY("MissingKey"),
    TENSOR_SHAPE_MISMATCH("TensorShapeMismatch"),
    TENSOR_DTYPE_MISMATCH("TensorDtypeMismatch"),
    MEMORY_BUDGET_EXCEEDED("MemoryBudgetExceeded"),
    ALLOCATED_ON_META("AllocatedOnMeta"),
    BUFFER_WITHOUT_INITIALIZER("BufferWithoutInitializer"),
    ARCHITECTURE_BUILD_FAILED("ArchitectureBuildFailed"),
    TENSOR_LEFT_ON_META("TensorLeftOnMeta"),
    MATERIALIZE_FAILED("MaterializeFailed"),
    MODEL_CLOSED("ModelClosed"),

    // quantized formats
    INVALID_QUANT_STATE("InvalidQuantState"),
    UNSUPPORTED_QUANT_FORMAT("UnsupportedQuantFormat"),

    // quantizing with calibration data (GPTQ)
    /** A calibration file cannot be read or holds no usable token sequences. */
    CALIBRATION_INVALID("CalibrationInvalid"),
    /** The dampened Hessian of a layer has no Cholesky factor (degenerate calibration data). */
    GPTQ_HESSIAN_NOT_POSITIVE_DEFINITE("GptqHessianNotPositiveDefinite"),

    // checksum verification (dev.qload.core.integrity)
    /** A file's size or digest differs from the expected one. */
    CHECKSUM_MISMATCH("ChecksumMismatch"),
    /** Verification was required but a file to verify has no expected digest (or there is no manifest at all). */
    CHECKSUM_MISSING("ChecksumMissing"),
    /** The expected digests name a file that is not in the checkpoint directory. */
    CHECKSUM_FILE_MISSING("ChecksumFileMissing"),
    /** qload-checksums.json (or a digest passed in the options) breaks a rule of its format. */
    CHECKSUM_MANIFEST_INVALID("ChecksumManifestInvalid"),

    // running a model
    INVALID_INPUT("InvalidInput"),

    // issue 7 (quantizers-mxfp4): an E8M0 scale byte 0xFF, which OCP MX v1.0 defines as NaN
    E8M0_NAN_SCALE("E8m0NanScale"),


    // issue 9: integrity and hostile input (faults mid-load)
    /**
     * A file was truncated, shrunk or replaced in place while qload had it memory-mapped: reading the
     * mapping faulted (SIGBUS, which the JVM reports as an {@link InternalError}).
     */
    MAPPED_FILE_CHANGED("MappedFileChanged");

    private final String id;

    ErrorId(String id) {
        this.id = id;
    }

    /** The stable text id, e.g. {@code qload/HeaderTooSmall}. */
    public String id() {
        return "qload/" + id;
    }

    @Override
    public String toString() {
        return id();
    }
}
