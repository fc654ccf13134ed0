package dev.qload.models.llama;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;

/**
 * The fields of {@code LlamaConfig}, {@code MistralConfig} and {@code Qwen2Config} that shape the
 * model, with those classes' defaults. The variants differ in bias and windowing:
 * <ul>
 *   <li>llama: {@code attention_bias} on q/k/v/o, {@code mlp_bias} on the MLP, no window;</li>
 *   <li>mistral: no bias; {@code sliding_window} on every layer (null means none);</li>
 *   <li>qwen2: bias on q/k/v only; a window only when {@code use_sliding_window}, and then only on
 *       layers {@code >= max_window_layers} ({@code Qwen2Config.__init__} and its layer_types).</li>
 * </ul>
 *
 * @param slidingWindows per layer, the window size or 0 for full attention
 */
public record LlamaConfig(String modelType, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                          int numKeyValueHeads, int headDim, int vocabSize, double rmsNormEps, boolean tieWordEmbeddings,
                          boolean qkvBias, boolean oProjBias, boolean mlpBias, int[] slidingWindows, RopeParameters rope) {

    public static LlamaConfig from(ModelConfig c) {
        String type = c.modelType().isEmpty() ? "llama" : c.modelType();
        int hidden = c.intValue("hidden_size");
        int heads = c.intValue("num_attention_heads");
        int kvHeads = c.intValue("num_key_value_heads", heads);
        int layers = c.intValue("num_hidden_layers");
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || layers < 0 || heads % kvHeads != 0) {
            throw new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, "inconsistent sizes: hidden_size " + hidden + ", num_attention_heads "
                    + heads + ", num_key_value_heads " + kvHeads + " (heads must be a multiple of kv heads)", c.source(), null, -1));
        }
        int headDim = c.intValue("head_dim", hidden / heads);
        boolean attentionBias = c.boolValue("attention_bias", false);
        boolean qkvBias = switch (type) {
            case "qwen2" -> true;
            case "mistral" -> false;
            default -> attentionBias;
        };
        boolean oBias = type.equals("llama") && attentionBias;
        int[] windows = new int[layers];
        int window = c.has("sliding_window") ? c.intValue("sliding_window") : 0;
        if (type.equals("mistral")) {
            java.util.Arrays.fill(windows, window);
        } else if (type.equals("qwen2") && c.boolValue("use_sliding_window", false)) {
            int from = c.intValue("max_window_layers", layers);
            for (int i = from; i < layers; i++) windows[i] = window;
        }
        return new LlamaConfig(type, hidden, c.intValue("intermediate_size"), layers, heads, kvHeads, headDim, c.intValue("vocab_size"),
                c.doubleValue("rms_norm_eps", 1e-6), c.boolValue("tie_word_embeddings", false), qkvBias, oBias,
                type.equals("llama") && c.boolValue("mlp_bias", false), windows, RopeParameters.from(c, headDim));
    }
}
