package dev.qload.quantizers.mxfp4;

import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.Tensor;
import dev.qload.tests.CheckpointEdits;
import java.nio.file.Path;

/** testdata/mxfp4: vectors and the tiny GPT-OSS made by tools/fixtures/mxfp4 (an independent PyTorch reference). */
final class Mxfp4Fixtures {
    private Mxfp4Fixtures() {}

    static Path mxfp4(String name) {
        String repo = System.getProperty("qload.repo.root");
        return (repo != null ? Path.of(repo) : Path.of("..")).toAbsolutePath().normalize().resolve("testdata").resolve("mxfp4").resolve(name);
    }

    /** A heap copy of one tensor of a fixture file, so the file can be closed at once. */
    static Tensor tensor(String file, String name) {
        try (SafetensorsFile f = SafetensorsFile.open(mxfp4(file))) {
            return CheckpointEdits.heapCopy(f.tensor(name));
        }
    }

    static float[] floats(String file, String name) {
        return tensor(file, name).toFloatArray();
    }
}
