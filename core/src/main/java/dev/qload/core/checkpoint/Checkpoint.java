package dev.qload.core.checkpoint;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.error.SafetensorsException;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint directory, opened: {@code config.json}, every weight file mapped and validated, and
 * every tensor by name. Resolution follows transformers' order for a local directory
 * ({@code model.safetensors}, then {@code model.safetensors.index.json}; spec/HF-LOADING.md §1.3).
 * With an index, every tensor it lists must exist in its shard; a shard tensor the index does not
 * list is loaded too (transformers iterates the shard's own keys) and reported as a warning.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path directory;
    private final List<SafetensorsFile> files;
    private final Map<String, CheckpointTensor> tensors;
    private final Optional<CheckpointIndex> index;
    private final List<String> warnings;

    private Checkpoint(Path directory, List<SafetensorsFile> files, Map<String, CheckpointTensor> tensors,
                       Optional<CheckpointIndex> index, List<String> warnings) {
        this.directory = directory;
        this.files = files;
        this.tensors = tensors;
        this.index = index;
        this.warnings = warnings;
    }

    public static Checkpoint open(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new QLoadException(Problem.inFile(ErrorId.CHECKPOINT_NOT_FOUND, "not a checkpoint directory", directory, null, -1));
        }
        Path single = directory.resolve(SINGLE_FILE);
        Path indexFile = directory.resolve(CheckpointIndex.FILE_NAME);
        if (Files.isRegularFile(single)) return openFiles(directory, List.of(single), Optional.empty());
        if (Files.isRegularFile(indexFile)) {
            CheckpointIndex index = CheckpointIndex.read(indexFile);
            List<Path> shards = index.shards().stream().map(directory::resolve).toList();
            return openFiles(directory, shards, Optional.of(index));
        }
        throw new QLoadException(Problem.inFile(ErrorId.NO_WEIGHTS_FOUND,
                "neither " + SINGLE_FILE + " nor " + CheckpointIndex.FILE_NAME + " is here", directory, null, -1));
    }

    private static Checkpoint openFiles(Path directory, List<Path> paths, Optional<CheckpointIndex> index) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path p : paths) {
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsException(Problem.inFile(ErrorId.INVALID_INDEX, "the index names shard '" + p.getFileName()
                            + "', which does not exist", index.map(CheckpointIndex::file).orElse(p), null, -1));
                }
                opened.add(SafetensorsFile.open(p));
            }
            Map<String, CheckpointTensor> byName = new LinkedHashMap<>();
            List<Problem> problems = new ArrayList<>();
            List<String> warnings = new ArrayList<>();
            for (SafetensorsFile f : opened) {
                for (TensorInfo t : f.tensors().values()) {
                    CheckpointTensor previous = byName.putIfAbsent(t.name(), new CheckpointTensor(f, t));
                    if (previous != null) {
                        problems.add(Problem.inFile(ErrorId.TENSOR_IN_TWO_SHARDS, "also in " + previous.file().path().getFileName(),
                                f.path(), t.name(), f.fileOffset(t)));
                    }
                }
            }
            index.ifPresent(ix -> checkIndex(ix, byName, problems, warnings));
            if (!problems.isEmpty()) throw new SafetensorsException(problems);
            return new Checkpoint(directory, List.copyOf(opened), Collections.unmodifiableMap(byName), index, List.copyOf(warnings));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static void checkIndex(CheckpointIndex ix, Map<String, CheckpointTensor> byName, List<Problem> problems, List<String> warnings) {
        for (var e : ix.weightMap().entrySet()) {
            CheckpointTensor t = byName.get(e.getKey());
            if (t == null || !t.file().path().getFileName().toString().equals(e.getValue())) {
                problems.add(Problem.inFile(ErrorId.INDEXED_TENSOR_MISSING, "the index puts it in " + e.getValue() + ", which does not hold it",
                        ix.file(), e.getKey(), -1));
            }
        }
        for (String name : byName.keySet()) {
            if (!ix.weightMap().containsKey(name)) {
                warnings.add("tensor '" + name + "' is in " + byName.get(name).file().path().getFileName() + " but not in the index");
            }
        }
    }

    public Path directory() {
        return directory;
    }

    public Path configFile() {
        return directory.resolve(CONFIG);
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** Every tensor by name, in file then buffer order. */
    public Map<String, CheckpointTensor> tensors() {
        return tensors;
    }

    public Optional<CheckpointIndex> index() {
        return index;
    }

    public List<String> warnings() {
        return warnings;
    }

    /** What a quantizer may see of this checkpoint while it replaces modules: headers and small metadata tensors. */
    public dev.qload.core.spi.CheckpointView view() {
        return new MappedCheckpointView(this);
    }

    public long totalBytes() {
        return tensors.values().stream().mapToLong(t -> t.info().byteLength()).sum();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
