package dev.qload.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.ModelSaver;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.spi.CalibrationRunner;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.models.llama.LlamaForCausalLM;
import dev.qload.models.llama.LlamaInference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPTQ with calibration on the trained demo model (a byte-level Llama trained on the King James
 * Bible): calibrated on the first verses of Genesis 1, evaluated on later ones. GPTQ must lose less
 * of the model's quality (cross-entropy on held-out text) than round-to-nearest at the same
 * settings; the result must save in the AutoGPTQ layout and reload to the same logits.
 */
class GptqCalibrationTest {
    private static final int SEQUENCE = 64;

    static int[] text() throws IOException {
        try (InputStream in = GptqCalibrationTest.class.getResourceAsStream("/genesis-1.txt")) {
            byte[] b = in.readAllBytes();
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
            return ids;
        }
    }

    /** Sequences of {@link #SEQUENCE} bytes from [from, to). */
    static List<int[]> sequences(int[] text, int from, int to) {
        List<int[]> out = new java.util.ArrayList<>();
        for (int s = from; s + SEQUENCE <= to; s += SEQUENCE) out.add(Arrays.copyOfRange(text, s, s + SEQUENCE));
        return out;
    }

    static CalibrationRunner runner(List<int[]> sequences) {
        return new CalibrationRunner() {
            @Override
            public int sequences() {
                return sequences.size();
            }

            @Override
            public void run(Module root, int index) {
                new LlamaInference((LlamaForCausalLM) root, Kernels.get(), SEQUENCE).forward(sequences.get(index));
            }
        };
    }

    /** Mean next-byte cross-entropy (nats) of the model on {@code sequences}. */
    static double crossEntropy(Module root, List<int[]> sequences) {
        double sum = 0;
        int count = 0;
        for (int[] s : sequences) {
            float[] logits = new LlamaInference((LlamaForCausalLM) root, Kernels.get(), SEQUENCE).forward(s);
            int vocab = logits.length / s.length;
            for (int t = 0; t + 1 < s.length; t++) {
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[t * vocab + v]);
                for (int v = 0; v < vocab; v++) z += Math.exp(logits[t * vocab + v] - max);
                sum += Math.log(z) + max - logits[t * vocab + s[t + 1]];
                count++;
            }
        }
        return sum / count;
    }

    static GptqQuantizer quantizer(Map<String, Object> fields) {
        ModelConfig config = ModelConfig.of(dev.qload.core.config.Json.STRICT.valueToTree(fields));
        return (GptqQuantizer) new GptqQuantizerProvider().create(new QuantizationConfig("gptq", config, false));
    }

    static Path demo() {
        return GptqFixtures.root().resolve("demo-llama");
    }

    static LoadedModel loadDense() {
        return GptqModelTest.loader().load(demo(), LoadOptions.defaults());
    }

    @Test
    void gptqLosesLessQualityThanRoundToNearest() throws IOException {
        int[] text = text();
        List<int[]> calibration = sequences(text, 0, 1024), heldOut = sequences(text, 1024, text.length);
        for (Map<String, Object> settings : List.<Map<String, Object>>of(
                Map.of("bits", 4, "group_size", 128, "sym", true),
                Map.of("bits", 2, "group_size", 64, "sym", false))) {
            double dense, rtn, gptq;
            try (LoadedModel m = loadDense()) {
                dense = crossEntropy(m.root(), heldOut);
            }
            try (LoadedModel m = GptqModelTest.loader().load(demo(), LoadOptions.builder().quantize("gptq", settings).build())) {
                rtn = crossEntropy(m.root(), heldOut);
            }
            try (LoadedModel m = loadDense()) {
                quantizer(new LinkedHashMap<>(settings)).quantizeWithCalibration(m.root(), runner(calibration));
                gptq = crossEntropy(m.root(), heldOut);
            }
            System.out.printf("demo-llama %s: held-out cross-entropy dense %.4f, RTN %.4f (+%.4f), GPTQ %.4f (+%.4f)%n", settings, dense, rtn, rtn - dense,
                    gptq, gptq - dense);
            assertTrue(gptq - dense < 0.8 * (rtn - dense), settings + ": GPTQ loses " + (gptq - dense) + " nats, RTN " + (rtn - dense));
        }
    }

    @Test
    void calibratedModelSavesInTheAutoGptqLayoutAndReloadsToTheSameLogits(@TempDir Path tmp) throws IOException {
        int[] text = text();
        int[] probe = Arrays.copyOfRange(text, 1024, 1024 + SEQUENCE);
        Map<String, Object> settings = new LinkedHashMap<>(Map.of("bits", 4, "group_size", 32, "sym", false, "desc_act", true, "true_sequential", false));
        GptqQuantizer q = quantizer(settings);
        float[] inMemory;
        try (LoadedModel m = loadDense()) {
            q.quantizeWithCalibration(m.root(), runner(sequences(text, 0, 512)));
            for (var e : m.root().namedModules().entrySet()) {
                if (e.getKey().startsWith("model.layers.") && e.getKey().endsWith("_proj")) assertInstanceOf(GptqLinear.class, e.getValue(), e.getKey());
            }
            assertInstanceOf(Linear.class, m.root().find("lm_head"), "lm_head stays dense");
            inMemory = new LlamaInference((LlamaForCausalLM) m.root(), Kernels.get(), SEQUENCE).forward(probe);
            ModelSaver.save(m, q, tmp, Long.MAX_VALUE);
        }
        var autoGptq = dev.qload.core.config.Json.STRICT.readTree(java.nio.file.Files.readString(tmp.resolve("quantize_config.json")));
        assertEquals(4, autoGptq.get("bits").asInt(), "AutoGPTQ's quantize_config.json");
        assertEquals(32, autoGptq.get("group_size").asInt());
        assertEquals(true, autoGptq.get("desc_act").asBoolean());
        assertEquals(false, autoGptq.get("sym").asBoolean());
        assertEquals("model", autoGptq.get("model_file_base_name").asString());
        try (LoadedModel reloaded = GptqModelTest.loader().load(tmp, LoadOptions.defaults())) {
            assertEquals("gptq", reloaded.quantizer().orElseThrow().name());
            assertEquals(true, reloaded.config().json().get("quantization_config").get("desc_act").asBoolean());
            float[] again = new LlamaInference((LlamaForCausalLM) reloaded.root(), Kernels.get(), SEQUENCE).forward(probe);
            float diff = GptqModelTest.maxAbsError(inMemory, again);
            assertTrue(diff <= GptqModelTest.SAME_WEIGHTS, "logits after save and reload differ by " + diff);
        }
    }

    @Test
    void trueSequentialRunsOnePassPerGroupOfABlockAndStopsEachSequenceEarly() throws IOException {
        List<int[]> calibration = sequences(text(), 0, 256);
        for (boolean trueSequential : new boolean[] {true, false}) {
            List<String> lastCalled = new java.util.ArrayList<>();
            int[] runs = {0};
            CalibrationRunner counting = new CalibrationRunner() {
                @Override
                public int sequences() {
                    return calibration.size();
                }

                @Override
                public void run(Module root, int index) {
                    runs[0]++;
                    runner(calibration).run(root, index);
                    lastCalled.add("completed");
                }
            };
            try (LoadedModel m = loadDense()) {
                quantizer(new LinkedHashMap<>(Map.of("bits", 4, "group_size", 64, "true_sequential", trueSequential))).quantizeWithCalibration(m.root(), counting);
            }
            int blocks = 4, groupsPerBlock = trueSequential ? 4 : 1; // (q,k,v) (o) (gate,up) (down), or the whole block at once
            assertEquals(blocks * groupsPerBlock * calibration.size(), runs[0], "calibration passes with true_sequential=" + trueSequential);
            assertEquals(0, lastCalled.size(), "every sequence must stop once its block is recorded, never running the whole model");
        }
    }

    @Test
    void noCalibrationSequencesIsAClearError() {
        try (LoadedModel m = loadDense()) {
            QLoadException e = assertThrows(QLoadException.class,
                    () -> quantizer(new LinkedHashMap<>(Map.of("bits", 4))).quantizeWithCalibration(m.root(), runner(List.of())));
            assertEquals(ErrorId.CALIBRATION_INVALID, e.id(), e.getMessage());
        }
    }
}
