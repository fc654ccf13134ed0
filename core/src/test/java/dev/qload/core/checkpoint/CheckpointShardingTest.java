package dev.qload.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.error.SafetensorsException;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.safetensors.SafetensorsWriter;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sharded checkpoints: {@link CheckpointWriter} against huggingface_hub's split and transformers'
 * index format (spec/FORMATS.md §1.4), and {@link Checkpoint#open} on good and broken directories.
 */
class CheckpointShardingTest {

    private static final String SHARD_1_OF_2 = "model-00001-of-00002.safetensors";
    private static final String SHARD_2_OF_2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    private static Path fixture() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path candidate = p.resolve("testdata/tiny-llama-sharded");
            if (Files.isDirectory(candidate)) return candidate;
            p = p.getParent();
        }
        throw new IllegalStateException("testdata/tiny-llama-sharded not found above " + Path.of("").toAbsolutePath());
    }

    /** A U8 tensor of {@code bytes} bytes whose content is {@code seed, seed+1, ...}. */
    private static Tensor u8(int bytes, int seed) {
        Tensor t = Tensor.allocate(Shape.of(bytes), DType.U8, Arena.ofAuto());
        for (int i = 0; i < bytes; i++) t.data().set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i));
        return t;
    }

    private static Tensor f32(float... values) {
        return Tensor.ofFloats(Shape.of(values.length), values);
    }

    private void shard(String name, Map<String, Tensor> tensors) {
        SafetensorsWriter.write(dir.resolve(name), tensors);
    }

    private void index(String json) throws IOException {
        Files.writeString(dir.resolve(CheckpointIndex.FILE_NAME), json, StandardCharsets.UTF_8);
    }

    private static String weightMap(String... nameShardPairs) {
        StringBuilder sb = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
        for (int i = 0; i < nameShardPairs.length; i += 2) {
            sb.append(i == 0 ? "" : ", ").append('"').append(nameShardPairs[i]).append("\": \"").append(nameShardPairs[i + 1]).append('"');
        }
        return sb.append("}}").toString();
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static QLoadException openFails(Path dir, ErrorId id) {
        QLoadException e = assertThrows(QLoadException.class, () -> {
            try (Checkpoint c = Checkpoint.open(dir)) {
                c.tensors(); // unreachable when the open fails
            }
        });
        assertEquals(id, e.id(), e::getMessage);
        return e;
    }

    /** Whether this process currently maps {@code file} (Linux: /proc/self/maps lists every mapped file). */
    private static boolean isMapped(Path file) throws IOException {
        String real = file.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith(" " + real));
    }

    // ---------------------------------------------------------------- the committed fixture

    @Test
    void opensTheShardedFixtureWithEveryIndexedTensor() throws IOException {
        Path fx = fixture();
        JsonNode index = JsonMapper.builder().build().readTree(Files.readString(fx.resolve(CheckpointIndex.FILE_NAME)));
        JsonNode weightMap = index.get("weight_map");
        try (Checkpoint c = Checkpoint.open(fx)) {
            assertEquals(weightMap.size(), c.tensors().size());
            assertEquals(20, c.tensors().size());
            for (String name : weightMap.propertyNames()) {
                CheckpointTensor t = c.tensors().get(name);
                assertTrue(t != null, name + " is loaded");
                assertEquals(weightMap.get(name).asString(), t.file().path().getFileName().toString(), name + " comes from its indexed shard");
            }
            assertEquals(index.get("metadata").get("total_size").asLong(), c.totalBytes(), "total_size counts tensor bytes only");
            assertEquals(3, c.files().size());
            assertTrue(c.index().isPresent());
            assertEquals(List.of(), c.warnings());
            CheckpointTensor embed = c.tensors().get("model.embed_tokens.weight");
            assertEquals(Shape.of(256, 64), embed.info().shape());
            assertEquals(DType.BF16, embed.info().dtype());
            assertEquals(Shape.of(256, 64), embed.view().shape());
        }
    }

    /**
     * Re-saving the fixture's tensors in HF state-dict order (LlamaForCausalLM's module order: embed,
     * then per layer q/k/v/o, gate/up/down, the two norms, then the final norm; tied lm_head not saved)
     * with the fixture's max shard size of 78,720 bytes must reproduce the same split, the same shard
     * bytes and the same index bytes.
     */
    @Test
    void reproducesTheFixtureShardsAndIndexByteForByte() throws IOException {
        Path fx = fixture();
        List<String> order = new ArrayList<>();
        order.add("model.embed_tokens.weight");
        for (int layer = 0; layer < 2; layer++) {
            String p = "model.layers." + layer + ".";
            for (String s : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                    "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")) {
                order.add(p + s + ".weight");
            }
        }
        order.add("model.norm.weight");

        Path out = dir.resolve("resaved");
        try (Checkpoint c = Checkpoint.open(fx)) {
            assertEquals(Set.copyOf(order), c.tensors().keySet(), "the state-dict order names every fixture tensor");
            Map<String, Tensor> stateDict = new LinkedHashMap<>();
            for (String name : order) stateDict.put(name, c.tensors().get(name).view());
            List<Path> written = CheckpointWriter.save(out, stateDict, 78_720);
            assertEquals(4, written.size());
        }

        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", CheckpointIndex.FILE_NAME), fileNames(out));
        assertEquals(Files.readString(fx.resolve(CheckpointIndex.FILE_NAME)), Files.readString(out.resolve(CheckpointIndex.FILE_NAME)),
                "index text equals transformers' json.dumps(index, indent=2, sort_keys=True) + \"\\n\"");
        for (int i = 1; i <= 3; i++) {
            String name = "model-0000" + i + "-of-00003.safetensors";
            assertArrayEquals(Files.readAllBytes(fx.resolve(name)), Files.readAllBytes(out.resolve(name)), name + " is byte-identical");
        }
    }

    // ---------------------------------------------------------------- CheckpointWriter

    @Test
    void writesGreedyShardsAndAnIndexFormattedLikePythonJsonDumps() throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("b", f32(1, 2)); // 8 bytes each, max 16: [b, a] then [d, c]
        sd.put("a", f32(3, 4));
        sd.put("d", f32(5, 6));
        sd.put("c", f32(7, 8));
        List<Path> written = CheckpointWriter.save(dir, sd, 16);

        assertEquals(List.of(dir.resolve(SHARD_1_OF_2), dir.resolve(SHARD_2_OF_2), dir.resolve(CheckpointIndex.FILE_NAME)), written);
        assertEquals(List.of(SHARD_1_OF_2, SHARD_2_OF_2, CheckpointIndex.FILE_NAME), fileNames(dir), "nothing else, no .tmp");
        String expected = """
                {
                  "metadata": {
                    "total_size": 32
                  },
                  "weight_map": {
                    "a": "model-00001-of-00002.safetensors",
                    "b": "model-00001-of-00002.safetensors",
                    "c": "model-00002-of-00002.safetensors",
                    "d": "model-00002-of-00002.safetensors"
                  }
                }
                """;
        assertEquals(expected, Files.readString(dir.resolve(CheckpointIndex.FILE_NAME)));

        try (SafetensorsFile s1 = SafetensorsFile.open(dir.resolve(SHARD_1_OF_2))) {
            assertEquals(List.of("a", "b"), List.copyOf(s1.tensors().keySet()));
            assertArrayEquals(new float[] {1, 2}, s1.tensor("b").toFloatArray());
        }
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(4, c.tensors().size());
            assertArrayEquals(new float[] {7, 8}, c.tensors().get("c").view().toFloatArray());
            assertEquals(SHARD_2_OF_2, c.tensors().get("d").file().path().getFileName().toString());
        }
    }

    @Test
    void escapesIndexKeysLikePythonJsonDumpsWithEnsureAscii() throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("caf\u00e9", u8(4, 0));
        sd.put("q\"uote\\back", u8(4, 0));
        sd.put("del\u007f", u8(4, 0));
        CheckpointWriter.save(dir, sd, 4);
        // Python: json.dumps({"caf\u00e9": 1, 'q"uote\\back': 1, "del\x7f": 1}, sort_keys=True)
        // sorts by code point ('c' 0x63 < 'd' 0x64 < 'q' 0x71), escapes non-ASCII and DEL as
        // lower-case \\uXXXX, and '"' / '\' with a backslash.
        String expected = """
                {
                  "metadata": {
                    "total_size": 12
                  },
                  "weight_map": {
                    "caf\\u00e9": "model-00001-of-00003.safetensors",
                    "del\\u007f": "model-00003-of-00003.safetensors",
                    "q\\"uote\\\\back": "model-00002-of-00003.safetensors"
                  }
                }
                """;
        assertEquals(expected, Files.readString(dir.resolve(CheckpointIndex.FILE_NAME)));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(sd.keySet(), c.tensors().keySet(), "the escaped index reads back to the same names");
        }
    }

    @Test
    void sortsIndexKeysByCodePointAsPythonDoes() throws IOException {
        // U+FF5E (fullwidth tilde) < U+1F600 (grinning face) as code points, so Python lists the tilde
        // first; UTF-16 code-unit order would put the emoji (high surrogate 0xD83D) first.
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("\uD83D\uDE00", u8(4, 0));
        sd.put("\uFF5E", u8(4, 0));
        CheckpointWriter.save(dir, sd, 4);
        String expected = """
                {
                  "metadata": {
                    "total_size": 8
                  },
                  "weight_map": {
                    "\\uff5e": "model-00002-of-00002.safetensors",
                    "\\ud83d\\ude00": "model-00001-of-00002.safetensors"
                  }
                }
                """;
        assertEquals(expected, Files.readString(dir.resolve(CheckpointIndex.FILE_NAME)));
    }

    /**
     * huggingface_hub's own {@code test_multiple_shards}: sizes [6, 10, 30, 2, 2] with a max of 10
     * give [layer_1], [layer_3], [layer_2], [layer_4, layer_5]: the oversized layer_3 is put in a
     * shard of its own at once, while layer_2's shard stays open and is closed by layer_4.
     */
    @Test
    void putsATensorLargerThanTheMaximumInAShardOfItsOwnAsHuggingfaceHubDoes() throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        sd.put("layer_1", u8(6, 1));
        sd.put("layer_2", u8(10, 2));
        sd.put("layer_3", u8(30, 3));
        sd.put("layer_4", u8(2, 4));
        sd.put("layer_5", u8(2, 5));
        CheckpointWriter.save(dir, sd, 10);

        try (Checkpoint c = Checkpoint.open(dir)) {
            Map<String, String> assignment = new TreeMap<>();
            c.tensors().forEach((name, t) -> assignment.put(name, t.file().path().getFileName().toString()));
            assertEquals(Map.of(
                    "layer_1", "model-00001-of-00004.safetensors",
                    "layer_3", "model-00002-of-00004.safetensors",
                    "layer_2", "model-00003-of-00004.safetensors",
                    "layer_4", "model-00004-of-00004.safetensors",
                    "layer_5", "model-00004-of-00004.safetensors"), assignment);
            assertEquals(50, c.totalBytes());
            assertEquals(30, c.tensors().get("layer_3").view().data().byteSize());
            assertEquals(3, c.tensors().get("layer_3").view().data().get(ValueLayout.JAVA_BYTE, 0));
        }
        assertTrue(Files.readString(dir.resolve(CheckpointIndex.FILE_NAME)).contains("\"total_size\": 50\n"));
    }

    @Test
    void writesASingleShardAsModelSafetensorsWithoutAnIndex() throws IOException {
        List<Path> written = CheckpointWriter.save(dir, Map.of("w", f32(1, 2, 3)), 12);
        assertEquals(List.of(dir.resolve(Checkpoint.SINGLE_FILE)), written);
        assertEquals(List.of(Checkpoint.SINGLE_FILE), fileNames(dir));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertTrue(c.index().isEmpty());
            assertArrayEquals(new float[] {1, 2, 3}, c.tensors().get("w").view().toFloatArray());
        }
    }

    // ---------------------------------------------------------------- Checkpoint.open resolution

    @Test
    void prefersModelSafetensorsOverAnIndex() throws IOException {
        SafetensorsWriter.write(dir.resolve(Checkpoint.SINGLE_FILE), Map.of("single", f32(1)));
        shard(SHARD_1_OF_2, Map.of("sharded", f32(2)));
        index(weightMap("sharded", SHARD_1_OF_2));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(Set.of("single"), c.tensors().keySet());
            assertTrue(c.index().isEmpty());
            assertEquals(1, c.files().size());
        }
    }

    @Test
    void opensAnIndexWithoutMetadata() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        shard(SHARD_2_OF_2, Map.of("b", f32(2)));
        index("{\"weight_map\": {\"a\": \"" + SHARD_1_OF_2 + "\", \"b\": \"" + SHARD_2_OF_2 + "\"}}");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(Set.of("a", "b"), c.tensors().keySet());
            assertTrue(c.index().orElseThrow().metadata().isEmpty());
            assertEquals(2f, c.tensors().get("b").view().getFloat(0));
        }
    }

    @Test
    void opensAnIndexWithEmptyMetadataAsDeepSeekWritesIt() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        index("{\"metadata\": {}, \"weight_map\": {\"a\": \"" + SHARD_1_OF_2 + "\"}}");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(Set.of("a"), c.tensors().keySet());
        }
    }

    @Test
    void loadsAShardTensorTheIndexDoesNotListAndWarnsAboutIt() throws IOException {
        shard(SHARD_1_OF_2, Map.of("listed", f32(1), "stray", f32(9)));
        index(weightMap("listed", SHARD_1_OF_2));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertEquals(Set.of("listed", "stray"), c.tensors().keySet());
            assertEquals(9f, c.tensors().get("stray").view().getFloat(0));
            assertEquals(1, c.warnings().size(), c.warnings()::toString);
            assertTrue(c.warnings().getFirst().contains("stray"), c.warnings().getFirst());
        }
    }

    // ---------------------------------------------------------------- Checkpoint.open failures

    @Test
    void reportsANonexistentDirectoryAsCheckpointNotFound() {
        Path missing = dir.resolve("nope");
        QLoadException e = openFails(missing, ErrorId.CHECKPOINT_NOT_FOUND);
        assertEquals(missing, e.problems().getFirst().file());
    }

    @Test
    void reportsARegularFileAsCheckpointNotFound() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        openFails(file, ErrorId.CHECKPOINT_NOT_FOUND);
    }

    @Test
    void reportsADirectoryWithoutWeightsAsNoWeightsFound() throws IOException {
        Files.writeString(dir.resolve(Checkpoint.CONFIG), "{}");
        shard("pytorch_model.safetensors", Map.of("a", f32(1))); // not a name transformers looks for
        QLoadException e = openFails(dir, ErrorId.NO_WEIGHTS_FOUND);
        assertEquals(dir, e.problems().getFirst().file());
    }

    @Test
    void rejectsAnIndexThatNamesAMissingShardAsInvalidIndex() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        index(weightMap("a", SHARD_1_OF_2, "b", SHARD_2_OF_2));
        QLoadException e = openFails(dir, ErrorId.INVALID_INDEX);
        assertEquals(dir.resolve(CheckpointIndex.FILE_NAME), e.problems().getFirst().file());
        assertTrue(e.problems().getFirst().message().contains(SHARD_2_OF_2), e.getMessage());
    }

    @Test
    void rejectsAnIndexedTensorAbsentFromItsShardAsIndexedTensorMissing() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        index(weightMap("a", SHARD_1_OF_2, "ghost", SHARD_1_OF_2));
        QLoadException e = openFails(dir, ErrorId.INDEXED_TENSOR_MISSING);
        Problem p = e.problems().getFirst();
        assertEquals("ghost", p.tensor());
        assertEquals(dir.resolve(CheckpointIndex.FILE_NAME), p.file());
    }

    @Test
    void rejectsAnIndexThatPutsATensorInTheWrongShardAsIndexedTensorMissing() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        shard(SHARD_2_OF_2, Map.of("b", f32(2)));
        index(weightMap("a", SHARD_2_OF_2, "b", SHARD_2_OF_2));
        // Shard 1 is not named by the index, so "a" is nowhere the index says it is.
        QLoadException e = openFails(dir, ErrorId.INDEXED_TENSOR_MISSING);
        assertEquals("a", e.problems().getFirst().tensor());
    }

    @Test
    void rejectsAShardPathThatClimbsOutOfTheCheckpointAsShardOutsideCheckpoint() throws IOException {
        Path inner = Files.createDirectories(dir.resolve("ckpt"));
        SafetensorsWriter.write(dir.resolve("evil.safetensors"), Map.of("a", f32(1))); // it exists: the path, not its absence, is the problem
        Files.writeString(inner.resolve(CheckpointIndex.FILE_NAME), weightMap("a", "../evil.safetensors"));
        QLoadException e = openFails(inner, ErrorId.SHARD_OUTSIDE_CHECKPOINT);
        assertEquals("a", e.problems().getFirst().tensor());
        assertEquals(inner.resolve(CheckpointIndex.FILE_NAME), e.problems().getFirst().file());
    }

    @Test
    void rejectsAnAbsoluteShardPathAsShardOutsideCheckpoint() throws IOException {
        Path elsewhere = dir.resolve("elsewhere.safetensors");
        SafetensorsWriter.write(elsewhere, Map.of("a", f32(1)));
        Path inner = Files.createDirectories(dir.resolve("ckpt"));
        Files.writeString(inner.resolve(CheckpointIndex.FILE_NAME), weightMap("a", elsewhere.toAbsolutePath().toString()));
        openFails(inner, ErrorId.SHARD_OUTSIDE_CHECKPOINT);
    }

    @Test
    void rejectsAShardPathInASubdirectoryAsShardOutsideCheckpoint() throws IOException {
        Files.createDirectories(dir.resolve("sub"));
        shard("sub/" + SHARD_1_OF_2, Map.of("a", f32(1)));
        index(weightMap("a", "sub/" + SHARD_1_OF_2));
        openFails(dir, ErrorId.SHARD_OUTSIDE_CHECKPOINT);
    }

    @Test
    void rejectsTheSameTensorInTwoShardsAsTensorInTwoShards() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1), "dup", f32(2)));
        shard(SHARD_2_OF_2, Map.of("b", f32(3), "dup", f32(4)));
        index(weightMap("a", SHARD_1_OF_2, "b", SHARD_2_OF_2, "dup", SHARD_1_OF_2));
        QLoadException e = openFails(dir, ErrorId.TENSOR_IN_TWO_SHARDS);
        Problem p = e.problems().getFirst();
        assertEquals("dup", p.tensor());
        assertEquals(dir.resolve(SHARD_2_OF_2), p.file(), "names the second shard holding it");
        assertTrue(p.offset() >= 0, p.toString());
        assertTrue(p.message().contains(SHARD_1_OF_2), "and the first: " + p.message());
    }

    @Test
    void rejectsMalformedIndexJsonAsInvalidIndex() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        index("{\"weight_map\": {\"a\": \"" + SHARD_1_OF_2 + "\"");
        QLoadException e = openFails(dir, ErrorId.INVALID_INDEX);
        assertEquals(dir.resolve(CheckpointIndex.FILE_NAME), e.problems().getFirst().file());
    }

    @Test
    void rejectsAnIndexWithoutAWeightMapAsInvalidIndex() throws IOException {
        index("{\"metadata\": {\"total_size\": 4}}");
        openFails(dir, ErrorId.INVALID_INDEX);
    }

    @Test
    void rejectsAnIndexWhoseTopLevelIsAnArrayAsInvalidIndex() throws IOException {
        index("[]");
        openFails(dir, ErrorId.INVALID_INDEX);
    }

    @Test
    void rejectsAnIndexWithADuplicateTensorNameAsInvalidIndex() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        shard(SHARD_2_OF_2, Map.of("b", f32(1)));
        index("{\"weight_map\": {\"a\": \"" + SHARD_1_OF_2 + "\", \"a\": \"" + SHARD_2_OF_2 + "\"}}");
        openFails(dir, ErrorId.INVALID_INDEX);
    }

    @Test
    void rejectsANonStringShardNameAsInvalidIndex() throws IOException {
        index("{\"weight_map\": {\"a\": 1}}");
        openFails(dir, ErrorId.INVALID_INDEX);
    }

    @Test
    void reportsABadShardWithItsOwnIdAndFile() throws IOException {
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        Files.write(dir.resolve(SHARD_2_OF_2), new byte[] {1, 2, 3});
        index(weightMap("a", SHARD_1_OF_2, "b", SHARD_2_OF_2));
        QLoadException e = openFails(dir, ErrorId.HEADER_TOO_SMALL);
        assertEquals(dir.resolve(SHARD_2_OF_2), e.problems().getFirst().file());
    }

    // ---------------------------------------------------------------- no leaks on failure

    @Test
    void unmapsTheShardsAlreadyOpenedWhenALaterShardIsBad() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc");
        Path good = dir.resolve(SHARD_1_OF_2);
        shard(SHARD_1_OF_2, Map.of("a", f32(1)));
        shard(SHARD_2_OF_2, Map.of("b", f32(2)));
        index(weightMap("a", SHARD_1_OF_2, "b", SHARD_2_OF_2));

        // Control: an open checkpoint does show up in the process's mappings, and closing removes it.
        Checkpoint ok = Checkpoint.open(dir);
        assertTrue(isMapped(good), "the probe sees an open shard");
        ok.close();
        assertFalse(isMapped(good), "close() unmaps");

        // Break shard 2 (opened after shard 1, as shards open in sorted order).
        Files.write(dir.resolve(SHARD_2_OF_2), new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        openFails(dir, ErrorId.INVALID_HEADER_LENGTH);
        assertFalse(isMapped(good), "the good shard opened before the failure was closed");
    }

    @Test
    void unmapsEveryShardWhenTheIndexDisagreesWithThem() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc");
        shard(SHARD_1_OF_2, Map.of("a", f32(1), "dup", f32(2)));
        shard(SHARD_2_OF_2, Map.of("dup", f32(3)));
        index(weightMap("a", SHARD_1_OF_2, "dup", SHARD_2_OF_2));
        openFails(dir, ErrorId.TENSOR_IN_TWO_SHARDS);
        assertFalse(isMapped(dir.resolve(SHARD_1_OF_2)));
        assertFalse(isMapped(dir.resolve(SHARD_2_OF_2)));
    }
}
