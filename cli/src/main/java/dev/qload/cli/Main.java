package dev.qload.cli;

import dev.qload.core.error.QLoadException;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Entry point of the {@code qload} command. Bad input never shows a stack trace: a
 * {@link QLoadException} becomes one line ({@code qload: [qload/Id] ...}) and exit code 1; anything
 * else is reported as an internal error with exit code 70 ({@code --stacktrace} shows the trace).
 */
public final class Main {
    static final int EXIT_BAD_INPUT = 1;
    static final int EXIT_INTERNAL = 70;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line; returns the exit code. Used by tests too. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        QloadCommand root = new QloadCommand();
        CommandLine cmd = new CommandLine(root);
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (root.stacktrace) e.printStackTrace(err);
            if (e instanceof QLoadException q) {
                err.println("qload: " + q.firstLine());
                return EXIT_BAD_INPUT;
            }
            if (e instanceof java.io.UncheckedIOException || e instanceof java.nio.file.NoSuchFileException) {
                err.println("qload: " + e.getMessage());
                return EXIT_BAD_INPUT;
            }
            err.println("qload: internal error: " + e + (root.stacktrace ? "" : " (run with --stacktrace for details)"));
            return EXIT_INTERNAL;
        });
        try {
            return cmd.execute(args);
        } finally {
            out.flush(); // print() does not flush even with autoflush, and System.exit would drop it
            err.flush();
        }
    }
}
