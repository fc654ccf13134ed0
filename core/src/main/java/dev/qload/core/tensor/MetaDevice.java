package dev.qload.core.tensor;

import java.util.function.Supplier;

/**
 * The meta scope. Inside {@link #withMetaDevice}, every tensor created through {@link Tensor#empty}
 * is a META tensor: nothing is allocated and no random number is drawn. The scope is a
 * {@link ScopedValue}, so it is bound to the calling thread for the extent of the call only, and it
 * is inherited by structured subtasks but never leaks into thread pools.
 */
public final class MetaDevice {
    private static final ScopedValue<Device> DEFAULT_DEVICE = ScopedValue.newInstance();

    private MetaDevice() {}

    /** Builds something (typically a model skeleton) with META as the default device. */
    public static <T> T withMetaDevice(Supplier<T> build) {
        return withDevice(Device.META, build);
    }

    public static void withMetaDevice(Runnable action) {
        ScopedValue.where(DEFAULT_DEVICE, Device.META).run(action);
    }

    public static <T> T withDevice(Device device, Supplier<T> build) {
        return ScopedValue.where(DEFAULT_DEVICE, device).call(build::get);
    }

    /** The device new tensors go to: META inside a meta scope, CPU otherwise. */
    public static Device currentDevice() {
        return DEFAULT_DEVICE.orElse(Device.CPU);
    }

    public static boolean isMetaScope() {
        return currentDevice() == Device.META;
    }
}
