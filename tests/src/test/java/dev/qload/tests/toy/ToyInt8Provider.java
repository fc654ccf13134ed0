package dev.qload.tests.toy;

import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.tests.ErrorBounds;

/**
 * {@code quant_method: "toy-int8"}, and one provider per {@link Flaw}, each under its own name so
 * that all of them can sit in one {@code META-INF/services} file.
 */
public class ToyInt8Provider implements QuantizerProvider {
    /** Blockwise int8 on Gaussian weights: about 0.006 with blocks of 32; the bound leaves room and nothing more. */
    public static final ErrorBounds BOUNDS = ErrorBounds.dequantized(0.01);

    private final String name;
    private final Flaw flaw;

    public ToyInt8Provider() {
        this("toy-int8", Flaw.NONE);
    }

    ToyInt8Provider(String name, Flaw flaw) {
        this.name = name;
        this.flaw = flaw;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Quantizer create(QuantizationConfig config) {
        return new ToyInt8Quantizer(name, flaw, config);
    }

    public static final class WithoutForward extends ToyInt8Provider {
        public WithoutForward() {
            super("toy-int8-without-forward", Flaw.WITHOUT_FORWARD);
        }
    }

    public static final class WithoutDequantize extends ToyInt8Provider {
        public WithoutDequantize() {
            super("toy-int8-without-dequantize", Flaw.WITHOUT_DEQUANTIZE);
        }
    }

    public static final class WrongScale extends ToyInt8Provider {
        public WrongScale() {
            super("toy-int8-wrong-scale", Flaw.WRONG_SCALE);
        }
    }

    public static final class DroppedLastBlock extends ToyInt8Provider {
        public DroppedLastBlock() {
            super("toy-int8-dropped-last-block", Flaw.DROPPED_LAST_BLOCK);
        }
    }

    public static final class BufferNotReinitialised extends ToyInt8Provider {
        public BufferNotReinitialised() {
            super("toy-int8-buffer-not-reinitialised", Flaw.BUFFER_NOT_REINITIALISED);
        }
    }

    public static final class DequantizeDeclaredNotProvided extends ToyInt8Provider {
        public DequantizeDeclaredNotProvided() {
            super("toy-int8-dequantize-declared-not-provided", Flaw.DEQUANTIZE_DECLARED_NOT_PROVIDED);
        }
    }

    public static final class WrongNotSupportedError extends ToyInt8Provider {
        public WrongNotSupportedError() {
            super("toy-int8-wrong-not-supported-error", Flaw.WRONG_NOT_SUPPORTED_ERROR);
        }
    }

    public static final class AllocatesOnMeta extends ToyInt8Provider {
        public AllocatesOnMeta() {
            super("toy-int8-allocates-on-meta", Flaw.ALLOCATES_ON_META);
        }
    }

    public static final class IgnoresSkipList extends ToyInt8Provider {
        public IgnoresSkipList() {
            super("toy-int8-ignores-skip-list", Flaw.IGNORES_SKIP_LIST);
        }
    }

    /** A correct quantizer its author forgot to list in META-INF/services. */
    public static final class Unregistered extends ToyInt8Provider {
        public Unregistered() {
            super("toy-int8-unregistered", Flaw.NONE);
        }
    }
}
