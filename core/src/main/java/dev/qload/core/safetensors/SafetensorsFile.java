package dev.qload.core.safetensors;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.SafetensorsException;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open safetensors file: its validated header and a read-only memory mapping of the whole
 * file. Tensors handed out are views of the mapping, so opening a 10 GB file reads only its header;
 * the bytes come in from the page cache when something touches them. The mapping lives until
 * {@link #close()}, which is idempotent.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final SafetensorsHeader header;
    private final Map<String, TensorInfo> byName;
    private final Arena arena;
    private final MemorySegment mapping;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafetensorsFile(Path path, SafetensorsHeader header, Arena arena, MemorySegment mapping) {
        this.path = path;
        this.header = header;
        this.arena = arena;
        this.mapping = mapping;
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : header.tensors()) m.put(t.name(), t);
        this.byName = m;
    }

    /** Opens, validates and maps {@code path}. Nothing beyond the header is read. */
    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            SafetensorsHeaderParser parser = new SafetensorsHeaderParser(path);
            long n = parser.headerLength(size, size < 8 ? 0 : readPrefix(ch));
            byte[] headerBytes = new byte[(int) n];
            readFully(ch, ByteBuffer.wrap(headerBytes), 8);
            SafetensorsHeader header = parser.parse(headerBytes, size);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, header, arena, mapping);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw new SafetensorsException(Problem.inFile(ErrorId.FILE_UNREADABLE, "cannot read: " + e.getMessage(), path, null, -1), e);
        }
    }

    private static long readPrefix(FileChannel ch) throws IOException {
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, prefix, 0);
        return prefix.getLong(0);
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int r = ch.read(dst, position + dst.position());
            if (r < 0) throw new IOException("unexpected end of file");
        }
    }

    public Path path() {
        return path;
    }

    public SafetensorsHeader header() {
        return header;
    }

    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Tensor entries by name, in buffer order. */
    public Map<String, TensorInfo> tensors() {
        return java.util.Collections.unmodifiableMap(byName);
    }

    public TensorInfo info(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) throw new SafetensorsException(Problem.inFile(ErrorId.TENSOR_NOT_FOUND, "no such tensor", path, name, -1));
        return t;
    }

    /** Absolute file offset of a tensor's first byte. */
    public long fileOffset(TensorInfo info) {
        return header.dataStart() + info.begin();
    }

    /** The tensor's bytes, zero-copy, as a read-only CPU tensor. */
    public Tensor tensor(String name) {
        return tensor(info(name));
    }

    public Tensor tensor(TensorInfo info) {
        return Tensor.wrap(info.shape(), info.dtype(), bytes(info));
    }

    public MemorySegment bytes(TensorInfo info) {
        ensureOpen();
        return mapping.asSlice(fileOffset(info), info.byteLength());
    }

    /**
     * The whole file, header included, as mapped: what a checksum of the file is computed over
     * (the hashing reads the same pages the tensor views do, so it is their one read).
     */
    public MemorySegment mapping() {
        ensureOpen();
        return mapping;
    }

    private void ensureOpen() {
        if (closed.get()) throw new IllegalStateException(path + " is closed");
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }
}
