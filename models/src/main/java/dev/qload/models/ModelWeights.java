package dev.qload.models;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.module.Module;
import dev.qload.core.nn.LinearForward;
import dev.qload.core.nn.RmsNorm;
import dev.qload.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** How a forward pass finds what it runs in a loaded module tree, and the errors it gives when it cannot. */
public final class ModelWeights {
    private ModelWeights() {}

    /** The decoder layers of a causal LM ({@code model.layers}), in order. */
    public static List<Module> decoderLayers(Module causalLm) {
        Module layers = causalLm.find("model.layers");
        List<Module> out = new ArrayList<>();
        for (int i = 0; layers.children().containsKey(Integer.toString(i)); i++) out.add(layers.children().get(Integer.toString(i)));
        return out;
    }

    /** The token embedding ({@code model.embed_tokens.weight}). */
    public static Tensor embedding(Module causalLm) {
        return causalLm.find("model.embed_tokens").slot("weight").get();
    }

    /** The norm's weight widened to F32. */
    public static float[] norm(Module module) {
        return ((RmsNorm) module).weight().toFloatArray();
    }

    /** The module at {@code path} as a projection: dense or quantized, as long as it runs without dequantizing. */
    public static LinearForward linear(Module parent, String path) {
        Module m = parent.find(path);
        if (m instanceof LinearForward f) return f;
        throw cannotRun(path, m, "LinearForward");
    }

    /** {@code [NotSupported]}: the module at {@code path} does not implement {@code contract}. */
    public static QLoadException cannotRun(String path, Module m, String contract) {
        return new QLoadException(Problem.of(ErrorId.NOT_SUPPORTED, "module '" + path + "' (" + (m == null ? "missing" : m.typeName())
                + ") cannot run a forward pass: it does not implement " + contract + " (its quantizer lacks FORWARD; dequantize it first)"));
    }

    public static QLoadException invalidInput(String message) {
        return new QLoadException(Problem.of(ErrorId.INVALID_INPUT, message));
    }

    /** Rows of the embedding for {@code tokens}, [tokens × hidden], each id checked against the vocabulary. */
    public static float[] embed(Kernels k, Tensor embedding, int[] tokens, int hidden, int vocab) {
        float[] h = new float[tokens.length * hidden];
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocab) throw invalidInput("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            k.toFloat(embedding.data(), embedding.dtype(), (long) id * hidden, h, t * hidden, hidden);
        }
        return h;
    }
}
