package dev.qload.core;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.qload.core.load.Loader;
import dev.qload.core.plugin.Plugins;

/**
 * The Guice composition root of qload. Callers who use Guice install it and may override a
 * binding (for example {@link Plugins}, to load plugins from a particular class loader); callers who
 * do not use Guice go through {@link QLoad}.
 */
public class QLoadModule extends AbstractModule {
    private final ClassLoader pluginLoader;

    public QLoadModule() {
        this(Thread.currentThread().getContextClassLoader());
    }

    public QLoadModule(ClassLoader pluginLoader) {
        this.pluginLoader = pluginLoader == null ? QLoadModule.class.getClassLoader() : pluginLoader;
    }

    @Override
    protected void configure() {
        bind(Loader.class).in(Singleton.class);
    }

    @Provides
    @Singleton
    Plugins plugins() {
        return Plugins.discover(pluginLoader);
    }
}
