package dev.qload.tests;

import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * Ends every failure of a conformance test with the command that replays it:
 * {@code reproduce: mvn -pl <module> test -Dtest=<Class>#<method> -Dqload.seed=0x…}. Skips
 * ({@link TestAbortedException}) pass through untouched; anything else, an assertion or an
 * exception the quantizer let escape, becomes an {@link AssertionFailedError} carrying the original
 * as its cause (and its expected/actual values, when it had them).
 */
final class ReproduceOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withReproduceLine(context, throwable);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withReproduceLine(context, throwable);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withReproduceLine(context, throwable);
    }

    @Override
    public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withReproduceLine(context, throwable);
    }

    @Override
    public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withReproduceLine(context, throwable);
    }

    static Throwable withReproduceLine(ExtensionContext context, Throwable t) {
        if (t instanceof TestAbortedException) return t;
        String line = command(context);
        String message = t instanceof AssertionError ? String.valueOf(t.getMessage()) : t.toString();
        if (message.endsWith(line)) return t;
        String full = message + "\n" + line;
        AssertionFailedError error = t instanceof AssertionFailedError a && (a.isExpectedDefined() || a.isActualDefined())
                ? new AssertionFailedError(full, a.getExpected(), a.getActual(), t)
                : new AssertionFailedError(full, t);
        error.setStackTrace(t.getStackTrace());
        return error;
    }

    /** {@code reproduce: mvn -pl <module> test -Dtest=<Class>[#<method>] -Dqload.seed=0x…}. */
    static String command(ExtensionContext context) {
        String test = context.getRequiredTestClass().getSimpleName() + context.getTestMethod().map(m -> "#" + m.getName()).orElse("");
        return "reproduce: mvn -pl " + module() + " test -Dtest=" + test + " -D" + ConformanceSeed.PROPERTY + "=" + ConformanceSeed.hex(ConformanceSeed.root());
    }

    /** The module directory surefire runs in ({@code basedir}), named as {@code -pl} wants it. */
    private static String module() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
        Path name = dir.getFileName();
        return name == null ? "." : name.toString();
    }
}
