package dev.qload.core.safetensors;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.SafetensorsException;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;

/**
 * Validates a safetensors header exactly as the reference Rust reader does
 * ({@code safetensors/src/tensor.rs :: read_metadata, Metadata::validate}; spec/FORMATS.md §1.3),
 * and a little more strictly where the reference is lax: duplicate keys are rejected outright
 * (the reference keeps one silently), and JSON nesting is capped so a "JSON bomb" fails fast.
 *
 * <pre>
 * [0, 8)        N, u64 little-endian, at most 100_000_000
 * [8, 8+N)      UTF-8 JSON object: "__metadata__": {string: string}, and per tensor
 *               {"dtype": D, "shape": [u64...], "data_offsets": [BEGIN, END]}
 * [8+N, EOF)    tensor bytes; sorted by offset, the tensors tile it from 0 with no gap, no overlap
 *               and nothing after the last one; END - BEGIN = product(shape) * bits(D) / 8
 * </pre>
 *
 * Each broken rule raises a {@link SafetensorsException} with its own {@link ErrorId}.
 */
public final class SafetensorsHeaderParser {
    /** {@code MAX_HEADER_SIZE} in the reference reader. */
    public static final long MAX_HEADER_SIZE = 100_000_000;
    /** A valid header nests 3 deep; anything much deeper is hostile. */
    static final int MAX_NESTING_DEPTH = 16;
    private static final int UTF8_SCRATCH_CHARS = 8192;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
            .build();

    private final Path file;

    public SafetensorsHeaderParser(Path file) {
        this.file = file;
    }

    /** Rules 1–3: the 8-byte prefix and the header length against the file size. */
    public long headerLength(long fileSize, long n) {
        if (fileSize < 8) throw error(ErrorId.HEADER_TOO_SMALL, "file is " + fileSize + " bytes; a safetensors file starts with an 8-byte header length", null, 0);
        if (n < 0 || n > MAX_HEADER_SIZE) {
            throw error(ErrorId.HEADER_TOO_LARGE, "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes", null, 0);
        }
        if (8 + n > fileSize) {
            throw error(ErrorId.INVALID_HEADER_LENGTH, "header length " + n + " runs past the end of the " + fileSize + "-byte file", null, 0);
        }
        return n;
    }

    /** Rules 4–6: parses and validates {@code headerBytes} (the N bytes after the prefix). */
    public SafetensorsHeader parse(byte[] headerBytes, long fileSize) {
        checkUtf8(headerBytes);
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        try (JsonParser p = JSON.createParser(ObjectReadContext.empty(), headerBytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw jsonError("the header is not a JSON object", p);
            Set<String> seen = new HashSet<>();
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                String key = p.currentName();
                if (!seen.add(key)) throw error(ErrorId.DUPLICATE_KEY, "key appears twice in the header", key, 8 + p.currentTokenLocation().getByteOffset());
                p.nextToken();
                if (key.equals("__metadata__")) readMetadata(p, metadata);
                else tensors.add(readTensor(p, key));
            }
            if (p.currentToken() != JsonToken.END_OBJECT) throw jsonError("malformed header object", p);
            if (p.nextToken() != null) throw jsonError("content after the header object", p);
        } catch (JacksonException e) {
            long at = e.getLocation() == null ? -1 : 8 + e.getLocation().getByteOffset();
            throw new SafetensorsException(Problem.inFile(ErrorId.INVALID_HEADER_JSON, "invalid JSON in header: " + e.getOriginalMessage(), file, null, at), e);
        }
        validateLayout(tensors, headerBytes.length, fileSize);
        return new SafetensorsHeader(metadata, List.copyOf(tensors), headerBytes.length);
    }

    private void checkUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        // Validate through one small reusable buffer rather than decoding the whole header at once: a header at the
        // 100 MB limit would otherwise cost a 200 MB char array on top of its bytes (measured in HostileCorpusTest).
        CharBuffer scratch = CharBuffer.allocate(UTF8_SCRATCH_CHARS);
        CoderResult result;
        do {
            scratch.clear();
            result = decoder.decode(in, scratch, true);
        } while (result.isOverflow());
        if (!result.isError()) {
            scratch.clear();
            result = decoder.flush(scratch);
        }
        if (result.isError()) throw error(ErrorId.INVALID_HEADER_UTF8, "invalid UTF-8 in header", null, 8 + in.position());
    }

    private void readMetadata(JsonParser p, Map<String, String> metadata) {
        if (p.currentToken() == JsonToken.VALUE_NULL) return; // the reference reader's Option<HashMap>: null means none
        if (p.currentToken() != JsonToken.START_OBJECT) throw jsonError("__metadata__ must be an object of strings", p);
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) throw jsonError("__metadata__ value for '" + key + "' is not a string", p);
            if (metadata.put(key, p.getString()) != null) {
                throw error(ErrorId.DUPLICATE_KEY, "__metadata__ key '" + key + "' appears twice", null, 8 + p.currentTokenLocation().getByteOffset());
            }
        }
    }

    private TensorInfo readTensor(JsonParser p, String name) {
        long at = 8 + p.currentTokenLocation().getByteOffset();
        if (p.currentToken() != JsonToken.START_OBJECT) throw error(ErrorId.INVALID_HEADER_JSON, "tensor entry is not an object", name, at);
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> fields = new HashSet<>();
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
            String field = p.currentName();
            if (!fields.add(field)) throw error(ErrorId.DUPLICATE_KEY, "field '" + field + "' appears twice", name, 8 + p.currentTokenLocation().getByteOffset());
            p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (p.currentToken() != JsonToken.VALUE_STRING) throw error(ErrorId.INVALID_HEADER_JSON, "dtype is not a string", name, at);
                    dtypeName = p.getString();
                }
                case "shape" -> shape = readUnsignedArray(p, name, "shape", -1);
                case "data_offsets" -> offsets = readUnsignedArray(p, name, "data_offsets", 2);
                default -> p.skipChildren(); // the reference reader ignores unknown fields too
            }
        }
        if (dtypeName == null || shape == null || offsets == null) {
            String lacking = dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw error(ErrorId.INVALID_HEADER_JSON, "tensor entry lacks '" + lacking + "'", name, at);
        }
        String finalDtypeName = dtypeName;
        DType dtype = DType.fromSafetensorsName(dtypeName).orElseThrow(() ->
                error(ErrorId.UNKNOWN_DTYPE, "unknown dtype '" + finalDtypeName + "'", name, at));
        return new TensorInfo(name, dtype, Shape.of(shape), offsets[0], offsets[1]);
    }

    private long[] readUnsignedArray(JsonParser p, String tensor, String field, int requiredLength) {
        long at = 8 + p.currentTokenLocation().getByteOffset();
        ErrorId id = field.equals("shape") ? ErrorId.INVALID_SHAPE : ErrorId.INVALID_OFFSET;
        if (p.currentToken() != JsonToken.START_ARRAY) throw error(id, field + " is not an array", tensor, at);
        List<Long> values = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                throw error(id, field + " holds " + p.getString() + ", not a non-negative integer", tensor, at);
            }
            BigInteger v = p.getBigIntegerValue();
            if (v.signum() < 0 || v.bitLength() > 63) {
                throw error(id, field + " holds " + v + ", outside [0, 2^63)", tensor, at);
            }
            values.add(v.longValue());
        }
        if (requiredLength >= 0 && values.size() != requiredLength) {
            throw error(id, field + " has " + values.size() + " entries, expected " + requiredLength, tensor, at);
        }
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /** Rule 5 and 6 of spec/FORMATS.md §1.3, in the reference reader's order. */
    private void validateLayout(List<TensorInfo> tensors, long n, long fileSize) {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long dataStart = 8 + n;
        long start = 0;
        for (TensorInfo t : tensors) {
            if (t.begin() != start || t.end() < t.begin()) {
                String why = t.end() < t.begin() ? "ends before it begins"
                        : t.begin() < start ? "overlaps the previous tensor, which ends at " + start
                        : start == 0 ? "does not start at offset 0 of the data buffer" : "leaves a gap after offset " + start;
                throw error(ErrorId.INVALID_OFFSET, "data_offsets [" + t.begin() + ", " + t.end() + "] " + why, t.name(), dataStart + t.begin());
            }
            long bits;
            try {
                bits = Math.multiplyExact(t.shape().elementCount(), (long) t.dtype().bits());
            } catch (ArithmeticException e) {
                throw error(ErrorId.VALIDATION_OVERFLOW, "element count of shape " + t.shape() + " overflows", t.name(), dataStart + t.begin());
            }
            if (bits % 8 != 0) {
                throw error(ErrorId.MISALIGNED_SLICE, t.shape() + " of " + t.dtype() + " is " + bits + " bits, not whole bytes", t.name(), dataStart + t.begin());
            }
            if (t.byteLength() != bits / 8) {
                throw error(ErrorId.TENSOR_INVALID_INFO, "shape " + t.shape() + " of " + t.dtype() + " needs " + bits / 8
                        + " bytes but data_offsets span " + t.byteLength(), t.name(), dataStart + t.begin());
            }
            start = t.end();
        }
        long covered;
        try {
            covered = Math.addExact(dataStart, start);
        } catch (ArithmeticException e) {
            throw error(ErrorId.VALIDATION_OVERFLOW, "data offsets overflow", null, -1);
        }
        if (covered != fileSize) {
            String why = covered < fileSize ? (fileSize - covered) + " trailing bytes after the last tensor"
                    : "the file is truncated: tensors need " + covered + " bytes, file has " + fileSize;
            throw error(ErrorId.METADATA_INCOMPLETE_BUFFER, "incomplete metadata, file not fully covered: " + why, null, Math.min(covered, fileSize));
        }
    }

    private SafetensorsException jsonError(String message, JsonParser p) {
        return error(ErrorId.INVALID_HEADER_JSON, message, null, 8 + p.currentTokenLocation().getByteOffset());
    }

    private SafetensorsException error(ErrorId id, String message, String tensor, long offset) {
        return new SafetensorsException(Problem.inFile(id, message, file, tensor, offset));
    }
}
