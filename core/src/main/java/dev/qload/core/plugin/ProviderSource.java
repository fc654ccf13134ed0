package dev.qload.core.plugin;

/** Where a provider class comes from: its jar (or class directory), for messages and {@code qload plugins}. */
public final class ProviderSource {
    private ProviderSource() {}

    public static String of(Class<?> type) {
        var domain = type.getProtectionDomain();
        var source = domain == null ? null : domain.getCodeSource();
        if (source == null || source.getLocation() == null) return "(unknown source of " + type.getName() + ")";
        String location = source.getLocation().getPath();
        return location.isEmpty() ? type.getName() : location;
    }
}
