package dev.qload.models;

/**
 * A loaded causal language model ready to run, with its key/value cache: what the CLI's
 * {@code forward} and {@code generate} need, whatever the architecture.
 */
public interface CausalLanguageModel {
    int vocabSize();

    /** Logits for every position of {@code tokens} from a fresh cache: [tokens × vocab]. */
    float[] forward(int[] tokens);

    /** Feeds {@code tokens} at the next positions; all their logits ([tokens × vocab]) or the last one's ([vocab]). */
    float[] append(int[] tokens, boolean allLogits);
}
