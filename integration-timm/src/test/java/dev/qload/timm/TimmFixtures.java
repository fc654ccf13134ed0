package dev.qload.timm;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.CheckpointEdits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The committed timm fixtures under testdata/timm, made by tools/fixtures/timm with PyTorch. */
final class TimmFixtures {
    private TimmFixtures() {}

    static Path base() {
        String root = System.getProperty("qload.repo.root");
        return (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize()).resolve("testdata").resolve("timm");
    }

    static Path dir(String name) {
        Path p = base().resolve(name);
        if (!Files.exists(p)) throw new IllegalStateException("fixture " + p + " is missing; see tools/fixtures/timm/make_timm_fixtures.py");
        return p;
    }

    /** The reference directory of a model; the TimmWrapper copy shares the timm layout's. */
    static Path reference(String model) {
        return dir(model.replace("-wrapper", "") + "-reference");
    }

    /** Every tensor of a safetensors file, copied to the heap (the mapping is closed on return). */
    static Map<String, Tensor> read(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.tensors().keySet()) out.put(name, CheckpointEdits.heapCopy(f.tensor(name)));
        }
        return out;
    }

    static Tensor pixelValues(String model) {
        return read(reference(model).resolve("pixel_values.safetensors")).get("pixel_values");
    }

    static float[] referenceLogits(String model) {
        return read(reference(model).resolve("logits.safetensors")).get("logits").toFloatArray();
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths " + a.length + " vs " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }
}
