package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.kernel.Kernels;
import dev.qload.core.load.LoadedModel;
import dev.qload.models.CausalLanguageModel;
import dev.qload.models.llama.LlamaInference;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qload generate DIR --prompt TEXT}: text from a byte-level model (token id = UTF-8 byte). */
@Command(name = "generate", description = "Continue a prompt with a byte-level model (vocab_size 256: token id = UTF-8 byte).")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Checkpoint directory.")
    Path directory;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "200", description = "Bytes to generate (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 for greedy decoding (default), else sample softmax(logits / T).")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for sampling.")
    long seed;

    @Mixin
    LoadOptionsMixin load;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (prompt.isEmpty()) throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "--prompt is empty"));
        if (maxTokens < 1) throw new ConfigException(Problem.of(ErrorId.CONFIG_INVALID, "--max-tokens must be at least 1"));
        try (LoadedModel model = QLoad.load(directory, load.options(ProgressBar.forTerminal()))) {
            int[] ids = ByteText.encode(prompt);
            CausalLanguageModel inference = CausalLmRunner.of(model, ids.length + maxTokens);
            if (inference.vocabSize() != 256) {
                throw new PluginException(Problem.of(ErrorId.NOT_SUPPORTED, "generate needs a byte-level model (vocab_size 256); this one has "
                        + inference.vocabSize() + " tokens and qload has no tokenizer for it yet. Use `qload forward --input-ids`."));
            }
            Generated g = generate(inference, ids, maxTokens, temperature, seed);
            out.print(prompt);
            out.println(g.text());
            out.printf(Locale.ROOT, "%n[%d bytes, prompt %.1f ms, %.1f tokens/s decoding, kernels %s]%n", g.tokens(), g.promptMs(),
                    g.tokensPerSecond(), Kernels.get().name());
        }
        return 0;
    }

    record Generated(String text, int tokens, double promptMs, double tokensPerSecond) {}

    static Generated generate(CausalLanguageModel inference, int[] prompt, int maxTokens, double temperature, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long start = System.nanoTime();
        float[] logits = inference.append(prompt, false);
        long promptDone = System.nanoTime();
        int produced = 0;
        while (true) {
            int next = temperature <= 0 ? LlamaInference.argmax(logits, 0, logits.length) : sample(logits, temperature, random);
            bytes.write(next);
            if (++produced >= maxTokens) break;
            logits = inference.append(new int[] {next}, false);
        }
        double decodeSeconds = (System.nanoTime() - promptDone) / 1e9;
        return new Generated(bytes.toString(StandardCharsets.UTF_8), produced, (promptDone - start) / 1e6,
                produced > 1 ? (produced - 1) / decodeSeconds : 0);
    }

    private static int sample(float[] logits, double temperature, SplittableRandom random) {
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) p[i] = (float) (logits[i] / temperature);
        Kernels.scalar().softmax(p, 0, p.length);
        double r = random.nextDouble(), acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (r < acc) return i;
        }
        return p.length - 1;
    }
}
