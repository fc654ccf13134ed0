package dev.qload.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-2 style (SentencePiece converted to Hugging Face {@code tokenizers}) {@code tokenizer.json}
 * of exactly {@code vocab} entries, generated rather than trained:
 * <ul>
 *   <li>ids 0, 1, 2: {@code <unk>}, {@code <s>}, {@code </s>} (also {@code added_tokens}, special);</li>
 *   <li>ids 3..258: the byte-fallback tokens {@code <0x00>}..{@code <0xFF>} (Jlama's
 *       {@code LlamaTokenizer} finds them through {@code <0x00>});</li>
 *   <li>then {@code ▁} and printable ASCII, one symbol each;</li>
 *   <li>then merged tokens, breadth first: {@code ▁}/letter + letter, then those + letter, ...,
 *       each with the merge rule {@code "left right"} that makes it, in rank order.</li>
 * </ul>
 * The normalizer is Llama 2's (prepend {@code ▁}, replace spaces with {@code ▁}), with no
 * pre-tokenizer: the format Jlama 0.8.4 parses ({@code TokenizerModel}, {@code Normalizer}).
 */
final class TokenizerJson {
    static final String SPIECE = "\u2581";
    private static final String LETTERS = "etaoinsrhldcumfpgwybvkxjqz";
    static final int MIN_VOCAB = 3 + 256 + 1 + ('~' - '!' + 1) + 1;

    private TokenizerJson() {}

    record Vocab(List<String> tokens, List<String> merges) {}

    static Vocab vocab(int size) {
        List<String> tokens = new ArrayList<>(size);
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        for (int b = 0; b < 256; b++) tokens.add(String.format("<0x%02X>", b));
        tokens.add(SPIECE);
        for (char c = '!'; c <= '~'; c++) tokens.add(String.valueOf(c));
        List<String> merges = new ArrayList<>();
        List<String> level = new ArrayList<>();
        level.add(SPIECE);
        for (char c : LETTERS.toCharArray()) level.add(String.valueOf(c));
        while (tokens.size() < size) {
            List<String> next = new ArrayList<>();
            outer:
            for (String left : level) {
                for (char c : LETTERS.toCharArray()) {
                    if (tokens.size() >= size) break outer;
                    String merged = left + c;
                    tokens.add(merged);
                    merges.add(left + " " + c);
                    next.add(merged);
                }
            }
            level = next;
        }
        return new Vocab(tokens, merges);
    }

    static void write(Path dir, int size) throws IOException {
        Vocab v = vocab(size);
        StringBuilder sb = new StringBuilder(size * 24);
        sb.append("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n");
        for (int i = 0; i < 3; i++) {
            sb.append("    {\"id\": ").append(i).append(", \"content\": ").append(quote(v.tokens().get(i)))
                    .append(", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}")
                    .append(i < 2 ? ",\n" : "\n");
        }
        sb.append("  ],\n");
        sb.append("  \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", \"prepend\": \"").append(SPIECE)
                .append("\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"").append(SPIECE).append("\"}]},\n");
        sb.append("  \"pre_tokenizer\": null,\n");
        sb.append("  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, ")
                .append("{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, ")
                .append("{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 1}}, ")
                .append("{\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [1], \"tokens\": [\"<s>\"]}}},\n");
        sb.append("  \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": {\"String\": \"").append(SPIECE)
                .append("\"}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}, {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}]},\n");
        sb.append("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": \"<unk>\",\n")
                .append("    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n")
                .append("    \"fuse_unk\": true,\n    \"byte_fallback\": true,\n    \"ignore_merges\": false,\n    \"vocab\": {\n");
        for (int i = 0; i < v.tokens().size(); i++) {
            sb.append("      ").append(quote(v.tokens().get(i))).append(": ").append(i).append(i + 1 < v.tokens().size() ? ",\n" : "\n");
        }
        sb.append("    },\n    \"merges\": [\n");
        for (int i = 0; i < v.merges().size(); i++) {
            sb.append("      ").append(quote(v.merges().get(i))).append(i + 1 < v.merges().size() ? ",\n" : "\n");
        }
        sb.append("    ]\n  }\n}\n");
        Files.writeString(dir.resolve("tokenizer.json"), sb, StandardCharsets.UTF_8);

        Map<String, String> config = new LinkedHashMap<>();
        config.put("add_bos_token", "true");
        config.put("add_eos_token", "false");
        config.put("bos_token", "\"<s>\"");
        config.put("eos_token", "\"</s>\"");
        config.put("unk_token", "\"<unk>\"");
        config.put("pad_token", "null");
        config.put("legacy", "false");
        config.put("clean_up_tokenization_spaces", "false");
        config.put("model_max_length", "1000000000000000019884624838656");
        config.put("tokenizer_class", "\"LlamaTokenizer\"");
        StringBuilder tc = new StringBuilder("{\n");
        int i = 0;
        for (var e : config.entrySet()) tc.append("  \"").append(e.getKey()).append("\": ").append(e.getValue()).append(++i < config.size() ? ",\n" : "\n");
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.append("}\n"), StandardCharsets.UTF_8);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
