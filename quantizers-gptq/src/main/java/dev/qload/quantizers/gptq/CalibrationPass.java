package dev.qload.quantizers.gptq;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One round of calibration over the recorders of one block. Layers that receive the same input
 * in a forward pass (q/k/v, gate/up) share one {@link Hessian}, computed once, as they would
 * share it in AutoGPTQ's math (their inputs are identical tensors).
 *
 * <p>A pass ends a sequence early, by throwing {@link #STOP}, once everything it needs is
 * recorded: with {@code true_sequential}, as soon as a layer with a new input is reached (the
 * layers recorded so far are the next group to quantize, before their successors see their
 * quantized outputs); otherwise when every recorder has been called. The layers after the block
 * then never run, which is why calibrating block by block costs a prefix of the model per block.
 */
final class CalibrationPass {
    /** Thrown through the model's forward pass to end a sequence; carries no stack trace. */
    static final RuntimeException STOP = new RuntimeException("GPTQ calibration: sequence done", null, false, false) {};

    private record Input(Hessian hessian, float[] values, int sequence) {}

    private final List<HessianRecorder> recorders;
    private final boolean trueSequential;
    private final List<Input> inputs = new ArrayList<>();
    private final Set<HessianRecorder> calledThisSequence = new HashSet<>();
    private int sequence = -1;

    CalibrationPass(List<HessianRecorder> recorders, boolean trueSequential) {
        this.recorders = recorders;
        this.trueSequential = trueSequential;
    }

    void startSequence(int index) {
        sequence = index;
        calledThisSequence.clear();
    }

    void record(HessianRecorder r, float[] x, int tokens) {
        int n = tokens * (int) r.inFeatures();
        if (r.hessian == null) {
            Input same = sameInput(x, n);
            if (same != null) {
                r.hessian = same.hessian;
            } else {
                if (trueSequential && !inputs.isEmpty()) throw STOP;
                r.hessian = new Hessian((int) r.inFeatures());
                add(r.hessian, x, n, tokens);
            }
        } else if (!hessianAddedThisSequence(r.hessian)) {
            add(r.hessian, x, n, tokens);
        }
        calledThisSequence.add(r);
        if (calledThisSequence.size() == recorders.size()) throw STOP;
        if (trueSequential && nextNeedsNewInput(r)) throw STOP;
    }

    /** The recorders that received input in this pass: the layers to quantize now. */
    List<HessianRecorder> recorded() {
        return recorders.stream().filter(r -> r.hessian != null).toList();
    }

    private Input sameInput(float[] x, int n) {
        for (Input in : inputs) {
            if (in.sequence == sequence && in.values.length == n && Arrays.equals(in.values, 0, n, x, 0, n)) return in;
        }
        return null;
    }

    private boolean hessianAddedThisSequence(Hessian h) {
        for (Input in : inputs) if (in.hessian == h) return in.sequence == sequence;
        return false;
    }

    private void add(Hessian h, float[] x, int n, int tokens) {
        h.addBatch(x, 0, tokens);
        inputs.removeIf(in -> in.hessian == h);
        inputs.add(new Input(h, Arrays.copyOf(x, n), sequence));
    }

    /**
     * With true_sequential, after the first sequence the groups are known: the sequence can stop
     * once every recorder of this pass's group has been called.
     */
    private boolean nextNeedsNewInput(HessianRecorder r) {
        if (sequence == 0) return false;
        for (HessianRecorder other : recorders) if (other.hessian != null && !calledThisSequence.contains(other)) return false;
        return true;
    }
}
