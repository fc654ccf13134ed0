package dev.qload.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "qload", mixinStandardHelpOptions = true, version = "qload 0.1.0",
        description = "Loads Hugging Face checkpoints (config.json + safetensors) into the JVM.",
        subcommands = {InspectCommand.class, LoadCommand.class, ForwardCommand.class, ClassifyCommand.class, GenerateCommand.class, QuantizeCommand.class, DequantizeCommand.class, ChecksumCommand.class, PluginsCommand.class, DemoCommand.class, BenchCommand.class})
final class QloadCommand implements Runnable {
    @Option(names = "--stacktrace", description = "Print the full stack trace of an error.", scope = picocli.CommandLine.ScopeType.INHERIT)
    boolean stacktrace;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
