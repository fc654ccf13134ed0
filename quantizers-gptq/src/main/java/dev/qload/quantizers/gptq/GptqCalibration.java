package dev.qload.quantizers.gptq;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import dev.qload.core.error.QLoadException;
import dev.qload.core.module.Module;
import dev.qload.core.nn.Linear;
import dev.qload.core.spi.CalibrationRunner;
import dev.qload.core.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPTQ over a whole model, block by block, as AutoGPTQ's {@code quantize()} orders it: the
 * Hessians of block b come from running the calibration data through the model whose blocks
 * before b are already quantized, so each block corrects the errors of those before it. With
 * {@code true_sequential}, the layers inside a block are also quantized group by group in the
 * order the forward pass reaches them (q/k/v, then o, then gate/up, then down), each group's
 * inputs taken after the groups before it are quantized.
 */
final class GptqCalibration {
    private final GptqQuantizer quantizer;
    private final GptqConfig config;

    GptqCalibration(GptqQuantizer quantizer, GptqConfig config) {
        this.quantizer = quantizer;
        this.config = config;
    }

    void run(Module root, CalibrationRunner calibration) {
        if (calibration.sequences() <= 0) throw invalid("there are no calibration sequences");
        for (List<String> paths : BlockLinears.byBlock(root, config.modulesInBlockToQuantize()).values()) {
            List<String> remaining = new ArrayList<>(paths);
            while (!remaining.isEmpty()) remaining.removeAll(quantizeNextGroup(root, remaining, calibration));
        }
    }

    /** One calibration pass over {@code paths}; quantizes the layers it recorded and returns their paths. */
    private List<String> quantizeNextGroup(Module root, List<String> paths, CalibrationRunner calibration) {
        List<HessianRecorder> recorders = new ArrayList<>();
        CalibrationPass pass = new CalibrationPass(recorders, config.trueSequential());
        for (String path : paths) recorders.add(new HessianRecorder(path, (Linear) root.find(path), pass));
        for (HessianRecorder r : recorders) root.replace(r.path, r);
        List<HessianRecorder> recorded;
        try {
            for (int s = 0; s < calibration.sequences(); s++) {
                pass.startSequence(s);
                try {
                    calibration.run(root, s);
                } catch (RuntimeException e) {
                    if (!isStop(e)) throw e;
                }
            }
            recorded = pass.recorded();
            if (recorded.isEmpty()) throw invalid("no calibration input reached " + paths + ": the forward pass never calls them");
        } finally {
            for (HessianRecorder r : recorders) root.replace(r.path, r.dense);
        }
        Map<Hessian, double[]> matrices = new HashMap<>();
        List<String> done = new ArrayList<>();
        for (HessianRecorder r : recorded) {
            double[] h = matrices.computeIfAbsent(r.hessian, Hessian::matrix).clone();
            root.replace(r.path, quantize(r.path, r.dense, h));
            done.add(r.path);
        }
        return done;
    }

    private GptqLinear quantize(String path, Linear dense, double[] hessian) {
        int out = (int) dense.outFeatures(), in = (int) dense.inFeatures();
        double[] w = GptqSolver.weightOf(dense.weight());
        GptqSolver.Result result = GptqSolver.gptq(w, out, in, hessian, config, path);
        GptqLinear g = quantizer.emptyFor(dense);
        Map<String, Tensor> targets = new LinkedHashMap<>();
        for (String name : GptqLinear.PACKED_SLOTS) {
            Tensor meta = g.slot(name).get();
            Tensor t = Tensor.allocate(meta.shape(), meta.dtype(), Arena.ofAuto());
            g.slot(name).set(t);
            targets.put(name, t);
        }
        g.fill(result, targets);
        if (dense.hasBias()) g.slot("bias").set(dense.bias());
        return g;
    }

    private static boolean isStop(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) if (t == CalibrationPass.STOP) return true;
        return false;
    }

    private static QLoadException invalid(String message) {
        return new QLoadException(Problem.of(ErrorId.CALIBRATION_INVALID, "GPTQ calibration: " + message));
    }
}
