package dev.qload.core;

import com.google.inject.Guice;
import com.google.inject.Injector;
import dev.qload.core.load.LoadOptions;
import dev.qload.core.load.LoadedModel;
import dev.qload.core.load.Loader;
import dev.qload.core.plugin.Plugins;
import java.nio.file.Path;

/**
 * The plain facade: {@code try (LoadedModel m = QLoad.load(dir, LoadOptions.defaults())) { ... }}.
 * Plugins are discovered once, from the classpath, on first use.
 */
public final class QLoad {
    private QLoad() {}

    private static final class Holder {
        static final Injector INJECTOR = Guice.createInjector(new QLoadModule());
    }

    public static LoadedModel load(Path directory, LoadOptions options) {
        return loader().load(directory, options);
    }

    public static LoadedModel load(Path directory) {
        return load(directory, LoadOptions.defaults());
    }

    public static Loader loader() {
        return Holder.INJECTOR.getInstance(Loader.class);
    }

    public static Plugins plugins() {
        return Holder.INJECTOR.getInstance(Plugins.class);
    }
}
