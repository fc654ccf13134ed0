package dev.qload.models.gptoss;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.models.llama.RopeParameters;
import tools.jackson.databind.JsonNode;

/**
 * The fields of transformers' {@code GptOssConfig} ({@code models/gpt_oss/configuration_gpt_oss.py})
 * that shape the model, with its defaults: {@code num_local_experts} 128, {@code num_experts_per_tok}
 * 4 (OpenAI's configs also carry {@code experts_per_token}), {@code sliding_window} 128,
 * {@code swiglu_limit} 7.0, {@code head_dim} 64, {@code rms_norm_eps} 1e-5, {@code attention_bias}
 * true, and {@code layer_types} alternating {@code sliding_attention} (even layers) and
 * {@code full_attention} (odd layers) when absent.
 *
 * @param slidingWindows per layer, the window size or 0 for full attention
 */
public record GptOssConfig(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
                           int headDim, int vocabSize, double rmsNormEps, boolean tieWordEmbeddings, boolean attentionBias,
                           int numLocalExperts, int expertsPerToken, float swigluLimit, int[] slidingWindows, RopeParameters rope) {

    public static GptOssConfig from(ModelConfig c) {
        int hidden = c.intValue("hidden_size");
        int heads = c.intValue("num_attention_heads");
        int kvHeads = c.intValue("num_key_value_heads", heads);
        int layers = c.intValue("num_hidden_layers");
        int experts = c.intValue("num_local_experts", 128);
        int topK = c.intValue("num_experts_per_tok", c.intValue("experts_per_token", 4));
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || layers < 0 || heads % kvHeads != 0 || experts <= 0 || topK <= 0 || topK > experts) {
            throw invalid(c, "inconsistent sizes: hidden_size " + hidden + ", num_attention_heads " + heads + ", num_key_value_heads " + kvHeads
                    + ", num_local_experts " + experts + ", num_experts_per_tok " + topK
                    + " (heads must be a multiple of kv heads, and 0 < experts per token <= experts)");
        }
        int headDim = c.intValue("head_dim", 64);
        // Absent: GptOssConfig's default 128. An explicit null leaves sliding layers without a window,
        // which transformers' masking refuses; so do we (NO_WINDOW), rather than guess one.
        int window = !c.json().has("sliding_window") ? 128 : c.json().get("sliding_window").isNull() ? NO_WINDOW : c.intValue("sliding_window");
        return new GptOssConfig(hidden, c.intValue("intermediate_size"), layers, heads, kvHeads, headDim, c.intValue("vocab_size"),
                c.doubleValue("rms_norm_eps", 1e-5), c.boolValue("tie_word_embeddings", false), c.boolValue("attention_bias", true),
                experts, topK, (float) c.doubleValue("swiglu_limit", 7.0), windows(c, layers, window), RopeParameters.from(c, headDim));
    }

    private static final int NO_WINDOW = -1;

    private static int slidingWindow(ModelConfig c, int layer, int window) {
        if (window == NO_WINDOW) throw invalid(c, "layer " + layer + " is sliding_attention but 'sliding_window' is null");
        return window;
    }

    private static int[] windows(ModelConfig c, int layers, int window) {
        int[] out = new int[layers];
        JsonNode types = c.json().get("layer_types");
        if (types == null || types.isNull()) {
            for (int i = 0; i < layers; i++) out[i] = (i + 1) % 2 == 1 ? slidingWindow(c, i, window) : 0; // GptOssConfig.__init__'s default
            return out;
        }
        if (!types.isArray() || types.size() != layers) {
            throw invalid(c, "'layer_types' must list one of sliding_attention / full_attention for each of the " + layers + " layers");
        }
        for (int i = 0; i < layers; i++) {
            String type = types.get(i).asString();
            out[i] = switch (type) {
                case "sliding_attention" -> slidingWindow(c, i, window);
                case "full_attention" -> 0;
                default -> throw invalid(c, "layer_types[" + i + "] is '" + type + "', not sliding_attention or full_attention");
            };
        }
        return out;
    }

    private static ConfigException invalid(ModelConfig c, String message) {
        return new ConfigException(Problem.inFile(ErrorId.CONFIG_INVALID, message, c.source(), null, -1));
    }
}
