package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.QLoad;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import dev.qload.core.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * bitsandbytes on timm models: every {@code nn.Linear} (attention, MLP, patch merging, head)
 * becomes Linear4bit / Linear8bitLt on META while loading; convolutions and norms stay dense. The
 * quantized forward runs through the quantizer's own matmul and must agree with the same model
 * after {@code dequantize} (dense weights = the dequantized ones), and stay near the F32 reference.
 */
class QuantizedTimmTest {
    @ParameterizedTest
    @CsvSource({"vit-tiny, nf4, Linear4bit", "vit-tiny, int8, Linear8bitLt", "swin-tiny, nf4, Linear4bit", "eva02-tiny, int8, Linear8bitLt",
            "resnet-tiny, nf4, Linear4bit", "resnet50-tiny, int8, Linear8bitLt", "swin-tiny-wrapper, fp4, Linear4bit"})
    void quantizedLoadRunsAndAgreesWithItsDequantizedTwin(String model, String method, String quantizedType) {
        Map<String, Object> fields = method.equals("int8") ? Map.of("load_in_8bit", true)
                : Map.of("load_in_4bit", true, "bnb_4bit_quant_type", method);
        float[] reference = TimmFixtures.referenceLogits(model);
        Tensor pixels = TimmFixtures.pixelValues(model);
        int denseLinears = countLinears(model);
        LoadOptions options = LoadOptions.builder().quantize("bitsandbytes", fields).build();
        long live = OffHeap.liveBytes();
        float[] logits;
        try (LoadedModel m = QLoad.load(TimmFixtures.dir(model), options)) {
            long quantized = m.root().namedModules().values().stream().filter(x -> x.typeName().equals(quantizedType)).count();
            assertEquals(denseLinears, quantized, "every Linear is quantized");
            assertEquals(0, m.root().namedModules().values().stream().filter(x -> x instanceof Linear).count());
            logits = ImageClassification.of(m, Kernels.get()).logits(pixels, model);
        }
        assertEquals(live, OffHeap.liveBytes(), "closing the quantized model returns its memory");

        float[] dequantized;
        try (LoadedModel m = QLoad.load(TimmFixtures.dir(model), options)) {
            m.quantizer().orElseThrow().dequantize(m.root());
            dequantized = ImageClassification.of(m, Kernels.get()).logits(pixels, model);
        }
        double scale = 0;
        for (float v : reference) scale = Math.max(scale, Math.abs(v));
        double twin = TimmFixtures.maxAbsDiff(logits, dequantized);
        double vsF32 = TimmFixtures.maxAbsDiff(logits, reference);
        double cosine = cosine(logits, reference);
        System.out.printf("%-18s %-4s quantized vs dequantized %.3g, vs F32 reference %.3g (max |logit| %.3g, cosine %.4f)%n", model,
                method, twin, vsF32, scale, cosine);
        // 4-bit: the kernel dequantizes blocks and multiplies in F32, so it equals the dense twin up to
        // summation order; LLM.int8 also rounds the activations to int8 per row (bnb's int8 matmul).
        double twinBound = method.equals("int8") ? INT8_ACTIVATION_ROUNDING * scale : 1e-4;
        assertTrue(twin <= twinBound, "quantized forward vs dequantized weights: " + twin + " > " + twinBound);
        assertTrue(vsF32 > 0, "the weights were quantized, so the logits must move");
        assertTrue(cosine > 0.9, "quantized logits lost the F32 model's direction: cosine " + cosine);
    }

    /** One int8 step of the largest activation, relative: 1/127 of the row's absmax, with headroom for the sum. */
    private static final double INT8_ACTIVATION_ROUNDING = 0.02;

    private static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static int countLinears(String model) {
        var config = TimmConfig.from(dev.qload.core.config.ModelConfig.read(TimmFixtures.dir(model).resolve("config.json")));
        Module root = MetaDevice.withMetaDevice(() -> TimmModels.build(config, dev.qload.core.tensor.DType.F32));
        return (int) root.namedModules().values().stream().filter(x -> x instanceof Linear).count();
    }
}
