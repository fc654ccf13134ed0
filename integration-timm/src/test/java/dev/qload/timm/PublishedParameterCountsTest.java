package dev.qload.timm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.module.Module;
import dev.qload.core.module.NamedSlot;
import dev.qload.core.module.TensorKind;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.MetaDevice;
import dev.qload.core.tensor.OffHeap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Full-size architectures from their names alone (no model_args), built on META: the parameter
 * counts are the published ones, which pins every default of {@link ArchitectureDefaults}.
 * resnet18 / resnet50: torchvision's documented {@code num_params} (same architecture as timm's).
 * The others: timm's model cards give 86.6 M (vit_base_patch16_224), 28.3 M (swin_tiny_patch4_window7_224),
 * 22.1 M (deit3_small_patch16_224), 5.5 M (eva02_tiny_patch14_224 without its head; 5,502,144 + a
 * 1000-class head of 193,000); the exact figures are those of the independent PyTorch reference
 * (tools/fixtures/timm/timm_reference.py) at full size.
 */
class PublishedParameterCountsTest {
    @ParameterizedTest
    @CsvSource({"resnet18, 11689512", "resnet50, 25557032", "vit_base_patch16_224, 86567656", "swin_tiny_patch4_window7_224, 28288354",
            "deit3_small_patch16_224, 22059496", "eva02_tiny_patch14_224, 5695144"})
    void metaBuildHasThePublishedParameterCount(String architecture, long parameters) {
        ModelConfig config = ModelConfig.parse(Path.of("config.json"),
                ("{\"architecture\": \"" + architecture + "\", \"num_classes\": 1000}").getBytes(StandardCharsets.UTF_8));
        long allocated = OffHeap.totalAllocatedBytes();
        Module root = MetaDevice.withMetaDevice(() -> TimmModels.build(TimmConfig.from(config), DType.F32));
        long count = 0;
        for (NamedSlot ns : root.namedSlots()) if (ns.slot().kind() == TensorKind.PARAMETER) count += ns.slot().get().elementCount();
        assertEquals(parameters, count, architecture);
        assertEquals(allocated, OffHeap.totalAllocatedBytes(), "a full-size skeleton on META allocates nothing");
    }
}
