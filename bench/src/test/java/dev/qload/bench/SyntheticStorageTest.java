package dev.qload.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.FloatFormats;
import dev.qload.core.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load matrix's F32 / F16 and sharded variants of the synthetic Llama hold the same weights as the BF16 one, up to rounding. */
class SyntheticStorageTest {
    static final SyntheticLlama.Spec TINY = SyntheticLlama.Spec.tiny();
    static final String WEIGHT = "model.layers.1.mlp.down_proj";

    @Test
    void f32AndF16VariantsRoundToTheBf16Weights(@TempDir Path tmp) {
        Path bf16 = SyntheticLlama.ensure(tmp.resolve("bf16"), TINY);
        for (DType dtype : new DType[] {DType.F32, DType.F16}) {
            Path dir = SyntheticLlama.ensure(tmp.resolve(dtype.name()), TINY, new SyntheticLlama.Storage(dtype, SyntheticLlama.Storage.bf16SingleFile().maxShardBytes()));
            try (LoadedModel a = QLoad.load(bf16); LoadedModel b = QLoad.load(dir)) {
                Tensor ref = SyntheticLlamaTest.tensor(a.root(), WEIGHT, "weight"), other = SyntheticLlamaTest.tensor(b.root(), WEIGHT, "weight");
                assertEquals(dtype, other.dtype());
                assertEquals(ref.shape(), other.shape());
                for (long i = 0; i < ref.elementCount(); i++) {
                    // The same normal draw in each file. F32 holds it exactly, so rounding it to BF16 gives
                    // the BF16 file's value bit for bit; F16 rounded it already, so after a second rounding
                    // it may be one BF16 step off (or an F16 subnormal step, 2^-24, near zero).
                    float wide = other.getFloat(i), r = ref.getFloat(i);
                    float again = FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(wide));
                    if (dtype == DType.F32) {
                        assertEquals(Float.floatToRawIntBits(r), Float.floatToRawIntBits(again), "F32 element " + i + ": " + wide + " vs " + r);
                    } else {
                        float bf16Step = Math.ulp(r) * 65536;
                        assertTrue(Math.abs(again - r) <= Math.max(bf16Step, 0x1p-24f), "F16 element " + i + ": " + wide + " vs " + r);
                    }
                }
            }
        }
    }

    @Test
    void smallShardsGiveSeveralFilesAndAnIndexThatLoads(@TempDir Path tmp) throws Exception {
        Path dir = SyntheticLlama.ensure(tmp.resolve("sharded"), TINY, new SyntheticLlama.Storage(DType.BF16, 40_000));
        long files = LoadCases.safetensors(dir).size();
        assertTrue(files > 1, files + " file(s)");
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        try (LoadedModel m = QLoad.load(dir)) {
            assertEquals(files, m.report().files());
        }
    }

    @Test
    void aVariantIsNotMistakenForTheDefaultCheckpoint(@TempDir Path tmp) throws Exception {
        Path dir = SyntheticLlama.ensure(tmp.resolve("x"), TINY, new SyntheticLlama.Storage(DType.F16, 40_000));
        assertNotEquals(TINY.toString(), Files.readString(dir.resolve(SyntheticLlama.STAMP)).strip());
        assertTrue(!SyntheticLlama.isPresent(dir, TINY), "an F16 sharded directory passed for the BF16 single-file one");
    }
}
