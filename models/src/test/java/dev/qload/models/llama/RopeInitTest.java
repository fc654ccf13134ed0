package dev.qload.models.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.safetensors.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** inv_freq for every rope type, bit for bit against tools/fixtures' PyTorch port of ROPE_INIT_FUNCTIONS. */
class RopeInitTest {
    @ParameterizedTest
    @ValueSource(strings = {"default", "linear", "dynamic", "llama3", "yarn"})
    void invFreqMatchesTransformersBitForBit(String type) {
        ModelConfig config = ModelConfig.read(TestData.dir("rope").resolve("config-" + type + ".json"));
        LlamaConfig llama = LlamaConfig.from(config);
        float[] actual = RopeInit.invFreq(llama.rope());
        try (SafetensorsFile ref = SafetensorsFile.open(TestData.dir("rope").resolve("inv_freq-" + type + ".safetensors"))) {
            float[] expected = ref.tensor("inv_freq").toFloatArray();
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                        type + " inv_freq[" + i + "]: expected " + expected[i] + " got " + actual[i]);
            }
            if (type.equals("yarn")) {
                assertEquals(ref.tensor("attention_scaling").getFloat(0), RopeInit.attentionScaling(llama.rope()), 1e-7f);
            } else {
                assertEquals(1f, RopeInit.attentionScaling(llama.rope()));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linear", "llama3", "yarn"})
    void scaledTypesDifferFromDefault(String type) {
        // Guards the fixture itself: a scaling type that equalled the default would prove nothing.
        LlamaConfig llama = LlamaConfig.from(ModelConfig.read(TestData.dir("rope").resolve("config-" + type + ".json")));
        RopeParameters p = llama.rope();
        RopeParameters plain = new RopeParameters("default", p.theta(), p.dim(), p.maxPositionEmbeddings(), 1, 1, 4,
                p.maxPositionEmbeddings(), 32, 1, null, null, null, true);
        float[] scaled = RopeInit.invFreq(p);
        float[] base = RopeInit.invFreq(plain);
        org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(scaled, base));
        assertEquals(base.length, scaled.length);
    }
}
