package dev.qload.cli;

import dev.qload.core.QLoad;
import dev.qload.core.plugin.Plugins;
import dev.qload.core.plugin.ProviderSource;
import dev.qload.core.spi.ArchitectureProvider;
import java.io.PrintWriter;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code qload plugins}: every quantizer and architecture found on the classpath, with the jar it came from. */
@Command(name = "plugins", description = "List the quantizers and architectures found on the classpath, with their jars.")
final class PluginsCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Plugins plugins = QLoad.plugins();
        out.println("quantizers (quant_method):");
        if (plugins.quantizers().isEmpty()) out.println("  (none: put a quantizer plugin jar on the classpath)");
        plugins.quantizers().forEach((name, p) -> out.printf("  %-14s %s  [%s]%n", name, p.getClass().getName(), ProviderSource.of(p.getClass())));
        out.println("architectures:");
        for (ArchitectureProvider a : plugins.architectures()) {
            out.printf("  %-14s %s  [%s]%n", a.name(), String.join(", ", new TreeSet<>(a.architectures())), ProviderSource.of(a.getClass()));
        }
        return 0;
    }
}
