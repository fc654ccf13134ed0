package dev.qload.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.SafetensorsException;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile safetensors files, built byte by byte, one per validation rule of the reference reader
 * (spec/FORMATS.md §1.3), plus the oddities the reference reader accepts. Every rejection must
 * carry its own {@link ErrorId} and say where: the file, the tensor when one is involved, and a
 * byte offset when one is meaningful.
 */
class SafetensorsHostileFilesTest {

    @TempDir
    Path dir;

    private int counter;

    // ---------------------------------------------------------------- helpers

    /** Writes {@code 8-byte LE n} + {@code header} + {@code data} verbatim. */
    private Path raw(long n, byte[] header, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array());
        out.write(header);
        out.write(data);
        return bytes(out.toByteArray());
    }

    /** A file whose prefix is the exact length of {@code header}. */
    private Path file(byte[] header, byte[] data) throws IOException {
        return raw(header.length, header, data);
    }

    private Path file(String header, int dataBytes) throws IOException {
        return file(header.getBytes(StandardCharsets.UTF_8), new byte[dataBytes]);
    }

    private Path bytes(byte[] content) throws IOException {
        Path p = dir.resolve("hostile-" + (counter++) + ".safetensors");
        Files.write(p, content);
        return p;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** Opens {@code p}, which must fail with {@code id}; returns the first problem after checking it names {@code p}. */
    private static Problem rejects(Path p, ErrorId id) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                f.tensors(); // unreachable when the open fails
            }
        });
        assertEquals(id, e.id(), () -> "wrong id; message was: " + e.getMessage());
        assertEquals(1, e.problems().size(), e::getMessage);
        Problem problem = e.problems().getFirst();
        assertEquals(id, problem.id());
        assertEquals(p, problem.file(), "the problem must name the file");
        assertTrue(e.getMessage().contains(id.id()), "the message carries the stable id: " + e.getMessage());
        return problem;
    }

    private static Problem rejects(Path p, ErrorId id, String tensor) {
        Problem problem = rejects(p, id);
        assertEquals(tensor, problem.tensor(), "the problem must name the tensor");
        assertTrue(problem.offset() >= 0, "a byte offset is meaningful here: " + problem);
        return problem;
    }

    // ---------------------------------------------------------------- rule 1: HeaderTooSmall

    @Test
    void rejectsAnEmptyFileAsHeaderTooSmall() throws IOException {
        Problem p = rejects(bytes(new byte[0]), ErrorId.HEADER_TOO_SMALL);
        assertEquals(0, p.offset());
        assertNull(p.tensor());
    }

    @Test
    void rejectsASevenByteFileAsHeaderTooSmall() throws IOException {
        Problem p = rejects(bytes(new byte[] {2, 0, 0, 0, 0, 0, 0}), ErrorId.HEADER_TOO_SMALL);
        assertEquals(0, p.offset());
    }

    // ---------------------------------------------------------------- rule 2: HeaderTooLarge

    @Test
    void rejectsAHeaderLengthAboveOneHundredMillionAsHeaderTooLarge() throws IOException {
        Problem p = rejects(raw(100_000_001L, new byte[0], new byte[0]), ErrorId.HEADER_TOO_LARGE);
        assertEquals(0, p.offset());
    }

    @Test
    void rejectsAHeaderLengthWithTheTopBitSetAsHeaderTooLarge() throws IOException {
        // 0x8000_0000_0000_0010 as u64 is huge; as a Java long it is negative.
        Problem p = rejects(raw(0x8000_0000_0000_0010L, new byte[0], new byte[0]), ErrorId.HEADER_TOO_LARGE);
        assertEquals(0, p.offset());
        assertTrue(p.message().contains(Long.toUnsignedString(0x8000_0000_0000_0010L)), "reports N unsigned: " + p.message());
    }

    @Test
    void rejectsAnAllOnesHeaderLengthAsHeaderTooLarge() throws IOException {
        rejects(raw(-1L, new byte[0], new byte[0]), ErrorId.HEADER_TOO_LARGE);
    }

    @Test
    void acceptsTheMaximumHeaderLengthButThenChecksItAgainstTheFile() throws IOException {
        // Exactly 100_000_000 is allowed by rule 2, so the short file fails rule 3 instead.
        rejects(raw(100_000_000L, new byte[0], new byte[0]), ErrorId.INVALID_HEADER_LENGTH);
    }

    // ---------------------------------------------------------------- rule 3: InvalidHeaderLength

    @Test
    void rejectsAHeaderLengthRunningPastTheEndOfFileAsInvalidHeaderLength() throws IOException {
        byte[] header = "{}".getBytes(StandardCharsets.US_ASCII);
        Problem p = rejects(raw(3, header, new byte[0]), ErrorId.INVALID_HEADER_LENGTH);
        assertTrue(p.offset() >= 0);
    }

    // ---------------------------------------------------------------- rule 4: InvalidHeader (UTF-8)

    @Test
    void rejectsAnInvalidUtf8ByteInsideAJsonStringAsInvalidHeaderUtf8() throws IOException {
        byte[] prefix = "{\"__metadata__\":{\"k\":\"a".getBytes(StandardCharsets.US_ASCII);
        byte[] suffix = "\"}}".getBytes(StandardCharsets.US_ASCII);
        byte[] header = new byte[prefix.length + 1 + suffix.length];
        System.arraycopy(prefix, 0, header, 0, prefix.length);
        header[prefix.length] = (byte) 0xFF; // never valid in UTF-8
        System.arraycopy(suffix, 0, header, prefix.length + 1, suffix.length);
        Problem p = rejects(file(header, new byte[0]), ErrorId.INVALID_HEADER_UTF8);
        assertEquals(8 + prefix.length, p.offset(), "points at the bad byte");
    }

    @Test
    void rejectsAnOverlongUtf8EncodingAsInvalidHeaderUtf8() throws IOException {
        // C0 AF is an overlong '/', which Rust's from_utf8 rejects.
        byte[] head = "{\"__metadata__\":{\"k\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] header = new byte[head.length + 5];
        System.arraycopy(head, 0, header, 0, head.length);
        header[head.length] = (byte) 0xC0;
        header[head.length + 1] = (byte) 0xAF;
        header[head.length + 2] = '"';
        header[head.length + 3] = '}';
        header[head.length + 4] = '}';
        Problem p = rejects(file(header, new byte[0]), ErrorId.INVALID_HEADER_UTF8);
        assertEquals(8 + head.length, p.offset());
    }

    // ---------------------------------------------------------------- rule 4: InvalidHeaderDeserialization

    @Test
    void rejectsAHeaderThatIsNotJsonAsInvalidHeaderJson() throws IOException {
        rejects(file("hello, world", 0), ErrorId.INVALID_HEADER_JSON);
    }

    @Test
    void rejectsAnEmptyHeaderAsInvalidHeaderJson() throws IOException {
        rejects(file("", 0), ErrorId.INVALID_HEADER_JSON);
    }

    @Test
    void rejectsATopLevelArrayAsInvalidHeaderJson() throws IOException {
        Problem p = rejects(file("[" + "{" + entry("t", "F32", "[1]", 0, 4) + "}]", 4), ErrorId.INVALID_HEADER_JSON);
        assertEquals(8, p.offset(), "fails at the first token");
    }

    @Test
    void rejectsANonStringMetadataValueAsInvalidHeaderJson() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"version\":1}}";
        Problem p = rejects(file(header, 0), ErrorId.INVALID_HEADER_JSON);
        assertEquals(8 + header.indexOf('1'), p.offset(), "points at the offending value");
    }

    @Test
    void rejectsMetadataThatIsNotAnObjectAsInvalidHeaderJson() throws IOException {
        rejects(file("{\"__metadata__\":[\"pt\"]}", 0), ErrorId.INVALID_HEADER_JSON);
    }

    @Test
    void rejectsATensorEntryWithoutDtypeAsInvalidHeaderJson() throws IOException {
        Problem p = rejects(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), ErrorId.INVALID_HEADER_JSON, "w");
        assertTrue(p.message().contains("dtype"), p.message());
    }

    @Test
    void rejectsATensorEntryWithoutShapeAsInvalidHeaderJson() throws IOException {
        Problem p = rejects(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), ErrorId.INVALID_HEADER_JSON, "w");
        assertTrue(p.message().contains("shape"), p.message());
    }

    @Test
    void rejectsATensorEntryWithoutDataOffsetsAsInvalidHeaderJson() throws IOException {
        Problem p = rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), ErrorId.INVALID_HEADER_JSON, "w");
        assertTrue(p.message().contains("data_offsets"), p.message());
    }

    @Test
    void rejectsATensorEntryThatIsNotAnObjectAsInvalidHeaderJson() throws IOException {
        rejects(file("{\"w\":[\"F32\",[1],[0,4]]}", 4), ErrorId.INVALID_HEADER_JSON, "w");
    }

    @Test
    void rejectsGarbageAfterTheHeaderObjectAsInvalidHeaderJson() throws IOException {
        String header = "{" + entry("t", "F32", "[1]", 0, 4) + "}garbage";
        Problem p = rejects(file(header, 4), ErrorId.INVALID_HEADER_JSON);
        assertTrue(p.offset() >= 8 + header.indexOf("garbage"), "points at or past the garbage: " + p);
    }

    @Test
    void rejectsASecondJsonValueAfterTheHeaderObjectAsInvalidHeaderJson() throws IOException {
        rejects(file("{" + entry("t", "F32", "[1]", 0, 4) + "} {}", 4), ErrorId.INVALID_HEADER_JSON);
    }

    @Test
    void rejectsADeeplyNestedJsonBombFastAsInvalidHeaderJson() throws IOException {
        // 100_000 '[' hidden in an unknown field of a tensor entry, where the parser skips children:
        // the depth cap must stop it long before the end, and it must not blow the stack.
        String head = "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":";
        Path p = file(head + "[".repeat(100_000), 0);
        Problem problem = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> rejects(p, ErrorId.INVALID_HEADER_JSON));
        // It fails on the depth cap, not on reaching the end of input 100_000 levels later. (Jackson's
        // constraint exception carries no location, so the offset is -1 here; if one is given it must be early.)
        assertTrue(problem.message().toLowerCase(java.util.Locale.ROOT).contains("nesting depth"), problem.message());
        assertTrue(problem.offset() < 8 + head.length() + 1_000, "fails early, not at the end: " + problem);
    }

    @Test
    void rejectsADeeplyNestedObjectBombFastAsInvalidHeaderJson() throws IOException {
        Path p = file("{\"t\":" + "{\"a\":".repeat(100_000), 0);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> rejects(p, ErrorId.INVALID_HEADER_JSON));
    }

    @Test
    void rejectsATopLevelArrayBombAsInvalidHeaderJson() throws IOException {
        Path p = file("[".repeat(100_000), 0);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> rejects(p, ErrorId.INVALID_HEADER_JSON));
    }

    // ---------------------------------------------------------------- duplicate keys (stricter than the reference)

    @Test
    void rejectsTheSameTensorNameTwiceAsDuplicateKey() throws IOException {
        String header = "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}";
        Problem p = rejects(file(header, 8), ErrorId.DUPLICATE_KEY, "w");
        assertEquals(8 + header.lastIndexOf("\"w\""), p.offset(), "points at the second occurrence");
    }

    @Test
    void rejectsTheSameFieldTwiceInOneEntryAsDuplicateKey() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":\"F32\",\"data_offsets\":[0,4]}}";
        Problem p = rejects(file(header, 4), ErrorId.DUPLICATE_KEY, "w");
        assertEquals(8 + header.lastIndexOf("\"dtype\""), p.offset());
    }

    @Test
    void rejectsMetadataTwiceAsDuplicateKey() throws IOException {
        rejects(file("{\"__metadata__\":{\"format\":\"pt\"},\"__metadata__\":{\"format\":\"pt\"}}", 0), ErrorId.DUPLICATE_KEY);
    }

    // ---------------------------------------------------------------- dtype and shape

    @Test
    void rejectsAnUnknownDtypeAsUnknownDtype() throws IOException {
        Problem p = rejects(file("{" + entry("w", "F128", "[1]", 0, 16) + "}", 16), ErrorId.UNKNOWN_DTYPE, "w");
        assertTrue(p.message().contains("F128"), p.message());
    }

    @Test
    void rejectsALowerCaseDtypeAsUnknownDtype() throws IOException {
        rejects(file("{" + entry("w", "f32", "[1]", 0, 4) + "}", 4), ErrorId.UNKNOWN_DTYPE, "w");
    }

    @Test
    void rejectsANegativeDimensionAsInvalidShape() throws IOException {
        rejects(file("{" + entry("w", "F32", "[2,-1]", 0, 0) + "}", 0), ErrorId.INVALID_SHAPE, "w");
    }

    @Test
    void rejectsAFractionalDimensionAsInvalidShape() throws IOException {
        rejects(file("{" + entry("w", "F32", "[2.5]", 0, 10) + "}", 10), ErrorId.INVALID_SHAPE, "w");
    }

    @Test
    void rejectsADimensionOfTwoToTheSixtyThreeAsInvalidShape() throws IOException {
        rejects(file("{" + entry("w", "U8", "[9223372036854775808]", 0, 0) + "}", 0), ErrorId.INVALID_SHAPE, "w");
    }

    @Test
    void rejectsAStringDimensionAsInvalidShape() throws IOException {
        rejects(file("{" + entry("w", "F32", "[\"1\"]", 0, 4) + "}", 4), ErrorId.INVALID_SHAPE, "w");
    }

    @Test
    void rejectsAShapeThatIsNotAnArrayAsInvalidShape() throws IOException {
        rejects(file("{" + entry("w", "F32", "1", 0, 4) + "}", 4), ErrorId.INVALID_SHAPE, "w");
    }

    // ---------------------------------------------------------------- rule 5: InvalidOffset

    @Test
    void rejectsAGapBetweenTensorsAsInvalidOffset() throws IOException {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
        Problem p = rejects(file(header, 12), ErrorId.INVALID_OFFSET, "b");
        assertEquals(8 + header.length() + 8, p.offset(), "the absolute file offset of b's first byte");
    }

    @Test
    void rejectsTensorsThatOverlap() throws IOException {
        String header = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}";
        rejects(file(header, 8), ErrorId.INVALID_OFFSET, "b");
    }

    @Test
    void rejectsTwoTensorsAtTheSameOffsetAsInvalidOffset() throws IOException {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 0, 4) + "}";
        rejects(file(header, 4), ErrorId.INVALID_OFFSET, "b");
    }

    @Test
    void rejectsAFirstTensorThatDoesNotStartAtZeroAsInvalidOffset() throws IOException {
        String header = "{" + entry("a", "F32", "[1]", 4, 8) + "}";
        rejects(file(header, 8), ErrorId.INVALID_OFFSET, "a");
    }

    @Test
    void rejectsATensorThatEndsBeforeItBeginsAsInvalidOffset() throws IOException {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[0]", 4, 0) + "}";
        Problem p = rejects(file(header, 4), ErrorId.INVALID_OFFSET, "b");
        assertTrue(p.message().contains("ends before it begins"), p.message());
    }

    @Test
    void rejectsDataOffsetsWithThreeEntriesAsInvalidOffset() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}";
        rejects(file(header, 4), ErrorId.INVALID_OFFSET, "w");
    }

    @Test
    void rejectsDataOffsetsWithOneEntryAsInvalidOffset() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}";
        rejects(file(header, 4), ErrorId.INVALID_OFFSET, "w");
    }

    @Test
    void rejectsANegativeDataOffsetAsInvalidOffset() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}";
        rejects(file(header, 4), ErrorId.INVALID_OFFSET, "w");
    }

    // ---------------------------------------------------------------- rule 5: ValidationOverflow, MisalignedSlice, TensorInvalidInfo

    @Test
    void rejectsAShapeWhoseElementCountOverflowsAsValidationOverflow() throws IOException {
        // 2^32 * 2^32 * 4 = 2^66 elements.
        String header = "{" + entry("w", "F32", "[4294967296,4294967296,4]", 0, 0) + "}";
        rejects(file(header, 0), ErrorId.VALIDATION_OVERFLOW, "w");
    }

    @Test
    void rejectsAShapeWhoseBitCountOverflowsAsValidationOverflow() throws IOException {
        // 2^31 * 2^31 = 2^62 elements fits a long, but times 32 bits is 2^67.
        String header = "{" + entry("w", "F32", "[2147483648,2147483648]", 0, 0) + "}";
        rejects(file(header, 0), ErrorId.VALIDATION_OVERFLOW, "w");
    }

    @Test
    void rejectsAnOddCountOfF4ElementsAsMisalignedSlice() throws IOException {
        String header = "{" + entry("w", "F4", "[3]", 0, 2) + "}";
        rejects(file(header, 2), ErrorId.MISALIGNED_SLICE, "w");
    }

    @Test
    void acceptsAnEvenCountOfF4Elements() throws IOException {
        Path p = file("{" + entry("w", "F4", "[2,3]", 0, 3) + "}", 3);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(3, f.info("w").byteLength());
            assertEquals(DType.F4, f.info("w").dtype());
        }
    }

    @Test
    void rejectsAByteLengthThatDisagreesWithTheShapeAsTensorInvalidInfo() throws IOException {
        String header = "{" + entry("w", "F32", "[2]", 0, 4) + "}";
        Problem p = rejects(file(header, 4), ErrorId.TENSOR_INVALID_INFO, "w");
        assertTrue(p.message().contains("8") && p.message().contains("4"), p.message());
    }

    @Test
    void rejectsAnEmptyShapeWithBytesAsTensorInvalidInfo() throws IOException {
        rejects(file("{" + entry("w", "F32", "[0]", 0, 4) + "}", 4), ErrorId.TENSOR_INVALID_INFO, "w");
    }

    // ---------------------------------------------------------------- rule 6: MetadataIncompleteBuffer

    @Test
    void rejectsTrailingBytesAfterTheLastTensorAsAPolyglot() throws IOException {
        byte[] header = ("{" + entry("w", "F32", "[1]", 0, 4) + "}").getBytes(StandardCharsets.US_ASCII);
        byte[] data = {0, 0, (byte) 0x80, 0x3F, 'P', 'K', 3, 4}; // 1.0f, then the start of a ZIP entry
        Problem p = rejects(file(header, data), ErrorId.METADATA_INCOMPLETE_BUFFER);
        assertEquals(8 + header.length + 4, p.offset(), "points where the uncovered bytes start");
    }

    @Test
    void rejectsATruncatedFileAsMetadataIncompleteBuffer() throws IOException {
        byte[] header = ("{" + entry("w", "F32", "[2]", 0, 8) + "}").getBytes(StandardCharsets.US_ASCII);
        Problem p = rejects(file(header, new byte[5]), ErrorId.METADATA_INCOMPLETE_BUFFER);
        assertTrue(p.offset() >= 0 && p.offset() <= 8 + header.length + 5, p.toString());
    }

    @Test
    void rejectsBytesAfterAMetadataOnlyHeaderAsMetadataIncompleteBuffer() throws IOException {
        rejects(file("{\"__metadata__\":{\"format\":\"pt\"}}", 1), ErrorId.METADATA_INCOMPLETE_BUFFER);
    }

    // ---------------------------------------------------------------- what the reference reader accepts

    @Test
    void acceptsLeadingWhitespaceBeforeTheHeaderObject() throws IOException {
        Path p = file(floatsHeader("\n\t {" + entry("w", "F32", "[2]", 0, 8) + "}"), floats(1.5f, -2f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2f}, f.tensor("w").toFloatArray());
        }
    }

    @Test
    void acceptsTrailingSpacePaddingAfterTheHeaderObject() throws IOException {
        String header = "{" + entry("w", "F32", "[1]", 0, 4) + "}" + " ".repeat(13);
        Path p = file(floatsHeader(header), floats(7f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(header.length(), f.header().headerLength());
            assertEquals(8 + header.length(), f.fileOffset(f.info("w")));
            assertEquals(7f, f.tensor("w").getFloat(0));
        }
    }

    @Test
    void acceptsTrailingJsonWhitespaceAfterTheHeaderObject() throws IOException {
        Path p = file(floatsHeader("{" + entry("w", "F32", "[1]", 0, 4) + "}\r \t\n"), floats(3f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(3f, f.tensor("w").getFloat(0));
        }
    }

    @Test
    void acceptsAnEmptyTensor() throws IOException {
        Path p = file("{" + entry("e", "F32", "[0]", 0, 0) + "}", 0);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorInfo e = f.info("e");
            assertEquals(0, e.byteLength());
            assertEquals(Shape.of(0), e.shape());
            Tensor t = f.tensor("e");
            assertEquals(0, t.elementCount());
            assertEquals(0, t.data().byteSize());
        }
    }

    @Test
    void acceptsAnEmptyTensorBetweenOthers() throws IOException {
        String header = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("e", "BF16", "[3,0]", 4, 4) + ","
                + entry("b", "F32", "[1]", 4, 8) + "}";
        Path p = file(floatsHeader(header), floats(1f, 2f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(3, f.tensors().size());
            assertEquals(0, f.info("e").byteLength());
            assertEquals(2f, f.tensor("b").getFloat(0));
        }
    }

    @Test
    void acceptsAScalarWithAnEmptyShape() throws IOException {
        Path p = file(floatsHeader("{" + entry("s", "F32", "[]", 0, 4) + "}"), floats(42.25f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Tensor s = f.tensor("s");
            assertEquals(0, s.shape().rank());
            assertEquals(1, s.elementCount());
            assertEquals(42.25f, s.getFloat(0));
        }
    }

    @Test
    void acceptsAHeaderWithOnlyMetadataAndNoTensors() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\u00e9\"}}";
        Path p = file(header, 0);
        assertEquals(8 + header.getBytes(StandardCharsets.UTF_8).length, Files.size(p));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertTrue(f.tensors().isEmpty());
            assertEquals(Map.of("format", "pt", "note", "caf\u00e9"), f.metadata());
        }
    }

    @Test
    void acceptsNullMetadataAsTheReferenceReaderDoes() throws IOException {
        // The reference reader's __metadata__ is an Option<HashMap<String, String>>: null is "none".
        try (SafetensorsFile f = SafetensorsFile.open(file("{\"__metadata__\":null}", 0))) {
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void acceptsAnEmptyHeaderObject() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file("{}", 0))) {
            assertTrue(f.tensors().isEmpty());
            assertTrue(f.metadata().isEmpty());
        }
    }

    @Test
    void ignoresAnUnknownFieldInATensorEntry() throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"extra\":{\"nested\":[1,2,{\"x\":null}]},\"data_offsets\":[0,4]}}";
        Path p = file(floatsHeader(header), floats(-0.5f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Shape.of(1), f.info("w").shape());
            assertEquals(-0.5f, f.tensor("w").getFloat(0));
        }
    }

    @Test
    void acceptsAHeaderWhoseOrderDiffersFromTheBufferOrder() throws IOException {
        String header = "{" + entry("second", "F32", "[1]", 4, 8) + "," + entry("first", "F32", "[1]", 0, 4) + "}";
        Path p = file(floatsHeader(header), floats(10f, 20f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("first", "second"), List.copyOf(f.tensors().keySet()), "tensors() is in buffer order");
            assertEquals(10f, f.tensor("first").getFloat(0));
            assertEquals(20f, f.tensor("second").getFloat(0));
            assertEquals(8 + header.length() + 4, f.fileOffset(f.info("second")));
        }
    }

    @Test
    void reportsAnUnknownTensorNameAsTensorNotFound() throws IOException {
        Path p = file(floatsHeader("{" + entry("w", "F32", "[1]", 0, 4) + "}"), floats(1f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.tensor("nope"));
            assertEquals(ErrorId.TENSOR_NOT_FOUND, e.id());
            assertEquals("nope", e.problems().getFirst().tensor());
            assertEquals(p, e.problems().getFirst().file());
        }
    }

    @Test
    void reportsAMissingFileAsFileUnreadable() {
        Path p = dir.resolve("absent.safetensors");
        Problem problem = rejects(p, ErrorId.FILE_UNREADABLE);
        assertNull(problem.tensor());
    }

    // ---------------------------------------------------------------- small builders for the positive cases

    private static byte[] floatsHeader(String header) {
        return header.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }
}
