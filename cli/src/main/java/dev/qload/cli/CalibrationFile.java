package dev.qload.cli;

import dev.qload.core.config.Json;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.safetensors.SafetensorsFile;
import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Calibration token ids for {@code qload quantize --calibration FILE}, one sequence each:
 * <ul>
 * <li>{@code .safetensors}: tensor {@code input_ids}, I32 or I64, [sequences, tokens] or [tokens];</li>
 * <li>{@code .json}: {@code [[ids…], …]} or {@code {"input_ids": [[ids…], …]}} (a tokenizer's batch output);</li>
 * <li>anything else: text, one sequence per line, ids separated by white space.</li>
 * </ul>
 * Or, for byte-level vocabularies, {@link #fromText}: a text file's UTF-8 bytes cut into sequences.
 * Every id is checked against the vocabulary here, so a bad file fails naming its position.
 */
final class CalibrationFile {
    private CalibrationFile() {}

    static List<int[]> read(Path file, int vocab) {
        List<int[]> sequences;
        String name = file.getFileName().toString();
        try {
            if (name.endsWith(".safetensors")) sequences = fromSafetensors(file);
            else if (name.endsWith(".json")) sequences = fromJson(file, Json.STRICT.readTree(Files.readAllBytes(file)));
            else sequences = fromLines(file, Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw invalid(file, "cannot be read: " + e.getMessage());
        }
        return checked(file, sequences, vocab);
    }

    /** The file's UTF-8 bytes as ids (a byte-level vocabulary), in sequences of {@code length}, at most {@code max} of them. */
    static List<int[]> fromText(Path file, int length, int max, int vocab) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw invalid(file, "cannot be read: " + e.getMessage());
        }
        if (length <= 0) throw invalid(file, "--sequence-length must be positive");
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s + length <= bytes.length && out.size() < max; s += length) {
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) ids[i] = bytes[s + i] & 0xFF;
            out.add(ids);
        }
        if (out.isEmpty()) throw invalid(file, "has " + bytes.length + " bytes, fewer than one sequence of " + length);
        return checked(file, out, vocab);
    }

    private static List<int[]> fromSafetensors(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.tensors().containsKey("input_ids")) throw invalid(file, "has no tensor 'input_ids' (it has " + f.tensors().keySet() + ")");
            Tensor t = f.tensor("input_ids");
            if (t.dtype() != DType.I32 && t.dtype() != DType.I64) throw invalid(file, "'input_ids' is " + t.dtype() + ", not I32 or I64");
            if (t.shape().rank() != 1 && t.shape().rank() != 2) throw invalid(file, "'input_ids' has shape " + t.shape() + ", not [sequences, tokens]");
            int rows = t.shape().rank() == 1 ? 1 : Math.toIntExact(t.shape().dim(0));
            int cols = Math.toIntExact(t.shape().dim(t.shape().rank() - 1));
            List<int[]> out = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                int[] ids = new int[cols];
                for (int c = 0; c < cols; c++) {
                    long i = (long) r * cols + c;
                    long v = t.dtype() == DType.I32 ? t.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i)
                            : t.data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                    ids[c] = v < Integer.MIN_VALUE || v > Integer.MAX_VALUE ? -1 : (int) v;
                }
                out.add(ids);
            }
            return out;
        }
    }

    private static List<int[]> fromJson(Path file, JsonNode root) {
        JsonNode list = root.isObject() ? root.get("input_ids") : root;
        if (list == null || !list.isArray()) throw invalid(file, "must be [[ids...], ...] or {\"input_ids\": [[ids...], ...]}");
        List<int[]> out = new ArrayList<>();
        for (JsonNode seq : list) {
            if (!seq.isArray()) throw invalid(file, "sequence " + out.size() + " is not a list of token ids");
            int[] ids = new int[seq.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode v = seq.get(i);
                if (!v.isIntegralNumber() || !v.canConvertToInt()) throw invalid(file, "sequence " + out.size() + ", position " + i + ": " + v + " is not a token id");
                ids[i] = v.asInt();
            }
            out.add(ids);
        }
        return out;
    }

    private static List<int[]> fromLines(Path file, List<String> lines) {
        List<int[]> out = new ArrayList<>();
        for (int l = 0; l < lines.size(); l++) {
            String line = lines.get(l).strip();
            if (line.isEmpty()) continue;
            try {
                out.add(Arrays.stream(line.split("\\s+")).mapToInt(Integer::parseInt).toArray());
            } catch (NumberFormatException e) {
                throw invalid(file, "line " + (l + 1) + " is not white-space separated token ids (" + e.getMessage() + "); for raw text of a byte-level model use --calibration-text");
            }
        }
        return out;
    }

    private static List<int[]> checked(Path file, List<int[]> sequences, int vocab) {
        if (sequences.isEmpty()) throw invalid(file, "holds no sequences");
        for (int s = 0; s < sequences.size(); s++) {
            int[] ids = sequences.get(s);
            if (ids.length == 0) throw invalid(file, "sequence " + s + " is empty");
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] < 0 || ids[i] >= vocab) throw invalid(file, "sequence " + s + ", position " + i + ": token id " + ids[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return sequences;
    }

    private static QLoadException invalid(Path file, String message) {
        return new QLoadException(Problem.inFile(ErrorId.CALIBRATION_INVALID, "calibration file " + message, file, null, -1));
    }
}
