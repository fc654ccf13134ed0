package dev.qload.examples.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The E4M3 element against the PyTorch reference (tools/fixtures/fp8/fp8_ref.py), bit for bit. */
class E4M3Test {

    @Test
    void decodesAll256CodesAsTheReference() {
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file("e4m3-decode.safetensors"))) {
            Tensor codes = f.tensor("codes");
            assertEquals(DType.F8_E4M3, codes.dtype());
            byte[] c = Fp8Fixtures.bytes(codes);
            float[] values = f.tensor("values").toFloatArray();
            assertEquals(256, c.length);
            for (int i = 0; i < 256; i++) {
                float expected = values[i], actual = E4M3.decode(c[i]);
                String what = String.format("code 0x%02X: %s vs %s", c[i] & 0xFF, expected, actual);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(actual), what);
                    assertEquals(Float.floatToRawIntBits(expected) < 0, Float.floatToRawIntBits(actual) < 0, what + " (NaN sign)");
                } else {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what);
                }
            }
        }
    }

    @Test
    void encodesTiesSubnormalsOverflowAndNanAsTheReference() {
        try (SafetensorsFile f = SafetensorsFile.open(Fp8Fixtures.file("e4m3-encode.safetensors"))) {
            Tensor input = f.tensor("input");
            byte[] codes = Fp8Fixtures.bytes(f.tensor("codes"));
            assertTrue(codes.length > 1000, "vectors: " + codes.length);
            for (int i = 0; i < codes.length; i++) {
                float x = input.getFloat(i);
                assertEquals(codes[i], E4M3.encode(x), String.format("input %s (0x%08X)", x, Float.floatToRawIntBits(x)));
            }
        }
    }

    @Test
    void theSpecConstantsHold() {
        assertEquals(448f, E4M3.decode(0x7E));
        assertEquals(-448f, E4M3.decode(0xFE));
        assertEquals(0x1p-9f, E4M3.decode(0x01));
        assertEquals(0x1p-6f, E4M3.decode(0x08));
        assertEquals(1f, E4M3.decode(0x38)); // exponent field 7 = bias
        assertTrue(Float.isNaN(E4M3.decode(0x7F)) && Float.isNaN(E4M3.decode(0xFF)));
        assertEquals(0x7E, E4M3.encode(Float.POSITIVE_INFINITY)); // no Inf: saturates
        assertEquals((byte) 0xFE, E4M3.encode(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0x80, E4M3.encode(-0f));
    }

    @Test
    void everyCodeButNanRoundTrips() {
        for (int c = 0; c < 256; c++) {
            if ((c & 0x7F) == 0x7F) continue;
            assertEquals((byte) c, E4M3.encode(E4M3.decode(c)), "code " + c);
        }
    }

    @Test
    void encodeIsTheNearestCodeTiesToEvenOnRandomFloats() {
        // An independent twin: search the 126 finite magnitudes for the nearest, ties to the even code.
        SplittableRandom random = new SplittableRandom(0xF8E4);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-14, 11)));
            assertEquals(nearest(x), E4M3.encode(x), "x = " + x);
        }
    }

    private static byte nearest(float x) {
        double a = Math.abs((double) x);
        int best = 0;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int c = 0; c <= 0x7E; c++) {
            double d = Math.abs(E4M3.decode(c) - a);
            if (d < bestDistance || (d == bestDistance && (c & 1) == 0)) {
                best = c;
                bestDistance = d;
            }
        }
        if (a >= 448) best = 0x7E;
        return (byte) (best | (Float.floatToRawIntBits(x) < 0 ? 0x80 : 0));
    }
}
