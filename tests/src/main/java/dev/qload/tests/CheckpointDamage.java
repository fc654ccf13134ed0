package dev.qload.tests;

import dev.qload.core.checkpoint.Checkpoint;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Copies of a single-file checkpoint with one thing broken, as a disk, a download or a bad writer breaks them. */
final class CheckpointDamage {
    private CheckpointDamage() {}

    /** A copy of {@code source} whose {@code model.safetensors} stops somewhere in the data, {@code 1..fraction} of it cut. */
    static Path truncated(Path source, Path target, double cutFraction) {
        copy(source, target);
        Path file = target.resolve(Checkpoint.SINGLE_FILE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(prefix, 0);
            long dataStart = 8 + prefix.getLong(0);
            long data = ch.size() - dataStart;
            long cut = Math.clamp(Math.round(data * cutFraction), 1, Math.max(1, data));
            ch.truncate(ch.size() - cut);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A copy of {@code source} in which tensor {@code name} lost its last row: a valid file whose header disagrees with the model. */
    static Path withOneRowLess(Path source, Path target, String name) {
        CheckpointEdits.rewrite(source, target, tensors -> {
            Tensor t = tensors.get(name);
            if (t == null) throw new IllegalArgumentException("no tensor '" + name + "' in " + source);
            tensors.put(name, t.narrow(0, t.shape().dim(0) - 1));
        });
        return target.resolve(Checkpoint.SINGLE_FILE);
    }

    static void copy(Path source, Path target) {
        try {
            Files.createDirectories(target);
            try (var files = Files.list(source)) {
                for (Path f : files.toList()) Files.copy(f, target.resolve(f.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
