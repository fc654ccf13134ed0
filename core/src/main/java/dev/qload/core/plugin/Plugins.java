package dev.qload.core.plugin;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.config.Spelling;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.QuantizerProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The registry of quantizers and architectures, by name, in the manner of Lucene's
 * {@code NamedSPILoader}: two providers claiming one name is an error naming both sources, and an
 * unknown name fails with the list of names that are available.
 */
public final class Plugins {
    private final Map<String, QuantizerProvider> quantizers = new TreeMap<>();
    private final Map<String, ArchitectureProvider> byArchitecture = new TreeMap<>();
    private final Map<String, ArchitectureProvider> byModelType = new TreeMap<>();
    private final List<ArchitectureProvider> architectures = new ArrayList<>();

    public Plugins(Iterable<QuantizerProvider> quantizers, Iterable<ArchitectureProvider> architectures) {
        List<Problem> problems = new ArrayList<>();
        for (QuantizerProvider q : quantizers) register(this.quantizers, q.name(), q, problems, "quantizer");
        for (ArchitectureProvider a : architectures) {
            this.architectures.add(a);
            for (String name : a.architectures()) register(byArchitecture, name, a, problems, "architecture");
            for (String type : a.modelTypes()) register(byModelType, type, a, problems, "model_type");
        }
        if (!problems.isEmpty()) throw new PluginException(problems);
    }

    /** Everything {@link ServiceLoader} finds through {@code loader}. */
    public static Plugins discover(ClassLoader loader) {
        return new Plugins(ServiceLoader.load(QuantizerProvider.class, loader), ServiceLoader.load(ArchitectureProvider.class, loader));
    }

    private static <T> void register(Map<String, T> map, String name, T provider, List<Problem> problems, String what) {
        T previous = map.putIfAbsent(name, provider);
        if (previous != null) {
            problems.add(Problem.of(ErrorId.DUPLICATE_PROVIDER, "two providers of " + what + " '" + name + "': "
                    + previous.getClass().getName() + " from " + ProviderSource.of(previous.getClass()) + " and "
                    + provider.getClass().getName() + " from " + ProviderSource.of(provider.getClass())
                    + ". Remove one of the jars from the classpath."));
        }
    }

    public QuantizerProvider quantizer(String name) {
        QuantizerProvider p = quantizers.get(name);
        if (p == null) {
            throw new PluginException(Problem.of(ErrorId.UNKNOWN_QUANTIZER, "no quantizer named '" + name + "'"
                    + Spelling.hint(name, quantizers.keySet()) + "; available: " + quantizers.keySet()
                    + ". Put the jar that provides it on the classpath."));
        }
        return p;
    }

    /**
     * The provider for a config: by its first known {@code architectures} entry, else by {@code model_type},
     * else the first provider that {@linkplain ArchitectureProvider#recognizes recognizes} it.
     */
    public ArchitectureProvider architectureFor(ModelConfig config) {
        List<String> names = config.architectures();
        for (String name : names) {
            ArchitectureProvider p = byArchitecture.get(name);
            if (p != null) return p;
        }
        ArchitectureProvider p = byModelType.get(config.modelType());
        if (p != null) return p;
        for (ArchitectureProvider a : architectures) if (a.recognizes(config)) return a;
        String asked = names.isEmpty() ? "model_type '" + config.modelType() + "'" : "architectures " + names;
        String probe = names.isEmpty() ? config.modelType() : names.getFirst();
        throw new PluginException(Problem.inFile(ErrorId.UNKNOWN_ARCHITECTURE, "no architecture provider for " + asked
                + Spelling.hint(probe, names.isEmpty() ? byModelType.keySet() : byArchitecture.keySet())
                + "; available: " + (names.isEmpty() ? "model types " + byModelType.keySet() : byArchitecture.keySet()), config.source(), null, -1));
    }

    public Map<String, QuantizerProvider> quantizers() {
        return java.util.Collections.unmodifiableMap(quantizers);
    }

    public List<ArchitectureProvider> architectures() {
        return java.util.Collections.unmodifiableList(architectures);
    }
}
