package dev.qload.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@link SafetensorsWriter} output read back by {@link SafetensorsFile}, and the writer's on-disk conventions checked on raw bytes. */
class SafetensorsRoundTripTest {

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- fixtures

    private static Tensor f32(Shape shape, int... bits) {
        Tensor t = Tensor.allocate(shape, DType.F32, Arena.ofAuto());
        for (int i = 0; i < bits.length; i++) t.data().setAtIndex(LE_INT, i, bits[i]);
        return t;
    }

    private static Tensor halfs(DType dtype, Shape shape, int... bits) {
        Tensor t = Tensor.allocate(shape, dtype, Arena.ofAuto());
        for (int i = 0; i < bits.length; i++) t.data().setAtIndex(LE_SHORT, i, (short) bits[i]);
        return t;
    }

    private static Tensor i64(Shape shape, long... values) {
        Tensor t = Tensor.allocate(shape, DType.I64, Arena.ofAuto());
        for (int i = 0; i < values.length; i++) t.data().setAtIndex(LE_LONG, i, values[i]);
        return t;
    }

    private static Tensor u8(Shape shape, int... values) {
        Tensor t = Tensor.allocate(shape, DType.U8, Arena.ofAuto());
        for (int i = 0; i < values.length; i++) t.data().set(ValueLayout.JAVA_BYTE, i, (byte) values[i]);
        return t;
    }

    /** Insertion order deliberately differs from the order the writer must use. */
    private static Map<String, Tensor> mixedStateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("u8.mask", u8(Shape.of(5), 0, 1, 127, 128, 255));
        m.put("f32.z", f32(Shape.of(2, 2),
                Float.floatToRawIntBits(1.5f), 0x80000000 /* -0.0 */, 0x00000001 /* min subnormal */, 0x7FC12345 /* NaN with payload */));
        m.put("f16.w", halfs(DType.F16, Shape.of(3), 0x3C00 /* 1.0 */, 0x7BFF /* 65504 */, 0x7E01 /* NaN payload */));
        m.put("f32.a", f32(Shape.of(3), Float.floatToRawIntBits(-3.25f), 0x7F800000 /* +Inf */, Float.floatToRawIntBits(1e-30f)));
        m.put("bf16.w", halfs(DType.BF16, Shape.of(2, 3), 0x3F80, 0xBF80, 0x7F7F, 0x0001, 0xFF80, 0x7FC1));
        m.put("i64.steps", i64(Shape.of(2), Long.MIN_VALUE, 0x0123_4567_89AB_CDEFL));
        m.put("f32.scalar", f32(Shape.of(), Float.floatToRawIntBits(0.1f)));
        m.put("u8.empty", u8(Shape.of(0)));
        return m;
    }

    /**
     * Descending dtype rank (I64=20 > F32=17 > BF16=14 > F16=13 > U8=4 in the reference enum), then
     * by name: worked out by hand from spec/FORMATS.md §1.2, not from the writer.
     */
    private static final List<String> EXPECTED_ORDER = List.of(
            "i64.steps", "f32.a", "f32.scalar", "f32.z", "bf16.w", "f16.w", "u8.empty", "u8.mask");

    // ---------------------------------------------------------------- round trip

    @Test
    void readsBackEveryDtypeBitExact() {
        Map<String, Tensor> written = mixedStateDict();
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, written);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(written.keySet(), f.tensors().keySet());
            for (var e : written.entrySet()) {
                Tensor back = f.tensor(e.getKey());
                Tensor orig = e.getValue();
                assertEquals(orig.dtype(), back.dtype(), e.getKey());
                assertEquals(orig.shape(), back.shape(), e.getKey());
                assertEquals(-1, orig.data().mismatch(back.data()), () -> e.getKey() + " differs in its bytes");
            }
            // And a few values through the typed accessors, spelled out independently of the fixture.
            Tensor z = f.tensor("f32.z");
            assertEquals(0x80000000, Float.floatToRawIntBits(z.getFloat(1)), "-0.0 keeps its sign");
            assertEquals(0x7FC12345, z.data().getAtIndex(LE_INT, 3), "NaN payload survives");
            assertEquals(-3.25f, f.tensor("f32.a").getFloat(0));
            assertEquals(65504f, f.tensor("f16.w").getFloat(1));
            assertEquals(-1f, f.tensor("bf16.w").getFloat(1));
            assertEquals(Long.MIN_VALUE, f.tensor("i64.steps").data().getAtIndex(LE_LONG, 0));
            assertEquals(0x0123_4567_89AB_CDEFL, f.tensor("i64.steps").data().getAtIndex(LE_LONG, 1));
            assertEquals(255f, f.tensor("u8.mask").getFloat(4));
            assertEquals(128f, f.tensor("u8.mask").getFloat(3));
            assertEquals(0.1f, f.tensor("f32.scalar").getFloat(0));
            assertEquals(0, f.tensor("u8.empty").elementCount());
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    @Test
    void writesHeaderPaddedWithSpacesToAMultipleOfEight() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, mixedStateDict());
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "N = " + n);
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), "a strict writer starts with '{'");
        int close = header.lastIndexOf('}');
        String padding = header.substring(close + 1);
        assertTrue(padding.length() < 8, "pads only up to the next multiple of 8, got " + padding.length());
        for (char c : padding.toCharArray()) assertEquals(' ', c, "padding is 0x20 only");
    }

    @Test
    void writesFormatPtMetadataFirstAndTensorsByDescendingDtypeRankThenName() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, mixedStateDict());
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},"), header);

        JsonNode root = JsonMapper.builder().build().readTree(header);
        List<String> keys = new ArrayList<>(root.propertyNames());
        assertEquals("__metadata__", keys.getFirst());
        assertEquals(EXPECTED_ORDER, keys.subList(1, keys.size()));

        // Offsets contiguous from 0 to the end of the file; each start aligned to its element width.
        long expectedBegin = 0;
        for (String name : EXPECTED_ORDER) {
            JsonNode t = root.get(name);
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            assertEquals(expectedBegin, begin, name + " starts where the previous one ended");
            int width = DType.valueOf(t.get("dtype").asString()).bits() / 8;
            assertEquals(0, (8 + n + begin) % width, name + " is naturally aligned in the file");
            expectedBegin = end;
        }
        assertEquals(raw.length, 8 + n + expectedBegin, "the last tensor ends at EOF");
    }

    @Test
    void writesTheDataOfEachTensorAtItsDeclaredOffset() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("b", f32(Shape.of(1), 0x11223344), "a", f32(Shape.of(1), 0x55667788)));
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer data = ByteBuffer.wrap(raw, (int) (8 + n), 8).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x55667788, data.getInt(), "'a' sorts first");
        assertEquals(0x11223344, data.getInt());
    }

    @Test
    void leavesNoTemporaryFileBehind() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, mixedStateDict());
        SafetensorsWriter.write(file, Map.of("only", f32(Shape.of(1), 0))); // overwrite in place
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("only"), List.copyOf(f.tensors().keySet()), "the second write replaced the first");
        }
    }

    @Test
    void refusesToWriteAMetaTensorAndLeavesNothingBehind() throws IOException {
        Path file = dir.resolve("model.safetensors");
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(file, Map.of("m", Tensor.meta(Shape.of(4), DType.F32))));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void closeIsIdempotentAndLaterAccessFails() {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, Map.of("w", Tensor.ofFloats(Shape.of(2, 3), 1, 2, 3, 4, 5, 6)));
        SafetensorsFile f = SafetensorsFile.open(file);
        assertEquals(6f, f.tensor("w").getFloat(5));
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> f.tensor("w"));
    }

    // ---------------------------------------------------------------- F32 -> BF16 rounding

    /**
     * Inputs as F32 bit patterns and the BF16 each must round to, derived by hand from IEEE 754
     * round-to-nearest-even on the low 16 bits (BF16 is the top half of a binary32):
     *
     * <pre>
     * 0x3F800000  1.0                      exact                                   -> 0x3F80
     * 0x3F808000  1.00390625 = 1 + 2^-8    dropped 0x8000 is exactly half an ULP
     *                                      (ULP at 1 is 2^-7); kept 0x3F80 is even  -> 0x3F80
     * 0x3F818000  1 + 2^-7 + 2^-8          tie again; kept 0x3F81 is odd, round up -> 0x3F82
     * 0x3F808001  just above the tie       dropped 0x8001 > 0x8000, round up       -> 0x3F81
     * 0x3F807FFF  just below the tie       dropped 0x7FFF < 0x8000, round down     -> 0x3F80
     * 0xBF808000  -1.00390625              sign-magnitude: same as +, sign kept     -> 0xBF80
     * 0x7F800000  +Inf                     exact                                   -> 0x7F80
     * 0xFF800000  -Inf                     exact                                   -> 0xFF80
     * 0x7FC00000  quiet NaN                canonical quiet NaN                     -> 0x7FC0
     * 0x7F800001  NaN, payload only in the dropped bits: truncating would give
     *             0x7F80 (= +Inf); it must stay a NaN, the canonical one          -> 0x7FC0
     * 0xFFFFFFFF  negative NaN             canonical (c10 returns 0x7FC0)          -> 0x7FC0
     * 0x7F7F0000  (2 - 2^-7) * 2^127       largest finite BF16, exact              -> 0x7F7F
     * 0x7F7F7FFF  below the tie            round down                              -> 0x7F7F
     * 0x7F7F8000  tie; kept 0x7F7F is odd, round up: the carry reaches the
     *             exponent, all ones, mantissa 0                                  -> 0x7F80 (+Inf)
     * 0x7F7FFFFF  largest finite F32       above the tie, round up, overflows      -> 0x7F80 (+Inf)
     * 0x80000000  -0.0                     exact                                   -> 0x8000
     * 0x00000001  smallest F32 subnormal   below half                              -> 0x0000
     * 0x00008000  tie; kept 0x0000 even                                            -> 0x0000
     * 0x00018000  tie; kept 0x0001 odd, round up                                   -> 0x0002
     * 0x007FFFFF  largest F32 subnormal    round up; carry into the exponent gives
     *                                      the smallest normal BF16 (2^-126)       -> 0x0080
     * </pre>
     */
    private static final int[][] BF16_CASES = {
            {0x3F800000, 0x3F80},
            {0x3F808000, 0x3F80},
            {0x3F818000, 0x3F82},
            {0x3F808001, 0x3F81},
            {0x3F807FFF, 0x3F80},
            {0xBF808000, 0xBF80},
            {0x7F800000, 0x7F80},
            {0xFF800000, 0xFF80},
            {0x7FC00000, 0x7FC0},
            {0x7F800001, 0x7FC0},
            {0xFFFFFFFF, 0x7FC0},
            {0x7F7F0000, 0x7F7F},
            {0x7F7F7FFF, 0x7F7F},
            {0x7F7F8000, 0x7F80},
            {0x7F7FFFFF, 0x7F80},
            {0x80000000, 0x8000},
            {0x00000001, 0x0000},
            {0x00008000, 0x0000},
            {0x00018000, 0x0002},
            {0x007FFFFF, 0x0080},
    };

    @Test
    void roundsF32ToBf16ToNearestEven() {
        // Sanity on the derivation's anchor: 1.00390625f really is 0x3F808000.
        assertEquals(0x3F808000, Float.floatToRawIntBits(1.00390625f));
        assertEquals(3.3895314e38f, Float.intBitsToFloat(0x7F7F0000));
        for (int[] c : BF16_CASES) {
            float in = Float.intBitsToFloat(c[0]);
            assertEquals(c[1], FloatFormats.floatToBf16(in) & 0xFFFF,
                    () -> String.format("0x%08X -> expected 0x%04X, got 0x%04X", c[0], c[1], FloatFormats.floatToBf16(in) & 0xFFFF));
        }
    }

    @Test
    void writesBf16ConvertedValuesWithTheExpectedBitPatterns() throws IOException {
        Tensor t = Tensor.allocate(Shape.of(BF16_CASES.length), DType.BF16, Arena.ofAuto());
        for (int i = 0; i < BF16_CASES.length; i++) t.setFloat(i, Float.intBitsToFloat(BF16_CASES[i][0]));
        Path file = dir.resolve("bf16.safetensors");
        SafetensorsWriter.write(file, Map.of("x", t));

        // Read the raw little-endian shorts from the file itself, not through qload's reader.
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(8 + n + 2L * BF16_CASES.length, raw.length);
        ByteBuffer data = ByteBuffer.wrap(raw, (int) (8 + n), 2 * BF16_CASES.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] c : BF16_CASES) {
            int got = data.getShort() & 0xFFFF;
            assertEquals(c[1], got, () -> String.format("0x%08X -> expected 0x%04X, got 0x%04X", c[0], c[1], got));
        }

        // Read back, BF16 widens to the F32 with the same top half and zero low half.
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Tensor x = f.tensor("x");
            for (int i = 0; i < BF16_CASES.length; i++) {
                float v = x.getFloat(i);
                if (Float.isNaN(v)) assertEquals(0x7FC0, BF16_CASES[i][1]);
                else assertEquals(BF16_CASES[i][1] << 16, Float.floatToRawIntBits(v), "element " + i);
            }
            assertTrue(Float.isInfinite(x.getFloat(14)), "F32 max rounds to +Inf in BF16");
            assertFalse(Float.isInfinite(x.getFloat(11)));
        }
    }

    @Test
    void writesAnEmptyStateDictAsAHeaderOnlyFile() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        SafetensorsWriter.write(file, Map.of());
        byte[] raw = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(8 + n, raw.length);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertTrue(f.tensors().isEmpty());
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }
}
