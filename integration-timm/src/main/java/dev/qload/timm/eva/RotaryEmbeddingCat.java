package dev.qload.timm.eva;

import dev.qload.core.tensor.DType;
import dev.qload.core.tensor.Shape;
import dev.qload.core.tensor.Tensor;
import dev.qload.timm.nn.RebuiltBuffers;
import dev.qload.timm.nn.TimmModule;

/**
 * timm's {@code RotaryEmbeddingCat} for a fixed grid ({@code feat_shape} set, so "embed mode"):
 * one non-persistent buffer, {@code pos_embed [H·W, 2·dim]} (sin half, cos half; see
 * {@link RotaryTables}), recomputed by {@code _init_buffers()}. Kept in F32 whatever the model dtype.
 */
public final class RotaryEmbeddingCat extends TimmModule {
    private final int dim;
    private final int grid;
    private final double temperature;
    private final int[] refFeatShape;

    RotaryEmbeddingCat(int dim, int grid, double temperature, int[] refFeatShape, RebuiltBuffers declared) {
        this.dim = dim;
        this.grid = grid;
        this.temperature = temperature;
        this.refFeatShape = refFeatShape;
        registerRebuiltBuffer("pos_embed", Tensor.empty(Shape.of((long) grid * grid, 2L * dim), DType.F32), this::fill, declared);
    }

    private void fill(Tensor target) {
        float[] table = RotaryTables.catTable(dim, grid, grid, temperature, refFeatShape, 0f);
        for (int i = 0; i < table.length; i++) target.setFloat(i, table[i]);
    }

    /** {@code [H·W, 2·dim]}: row p holds sin then cos for patch p. */
    float[] table() {
        return floats("pos_embed");
    }

    int dim() {
        return dim;
    }

    @Override
    public String typeName() {
        return "RotaryEmbeddingCat";
    }
}
