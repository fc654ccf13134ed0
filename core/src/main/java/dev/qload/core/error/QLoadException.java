package dev.qload.core.error;

import java.util.List;

/**
 * Root of every qload failure. It carries one or more {@link Problem}s, so that a load with five
 * bad tensors reports all five at once (collect, then report). The first problem's id is
 * {@link #id()}.
 */
public class QLoadException extends RuntimeException {
    private final List<Problem> problems;

    public QLoadException(Problem problem) {
        this(List.of(problem), null);
    }

    public QLoadException(Problem problem, Throwable cause) {
        this(List.of(problem), cause);
    }

    public QLoadException(List<Problem> problems) {
        this(problems, null);
    }

    public QLoadException(List<Problem> problems, Throwable cause) {
        super(render(problems), cause);
        if (problems.isEmpty()) throw new IllegalArgumentException("an exception needs at least one problem");
        this.problems = List.copyOf(problems);
    }

    public ErrorId id() {
        return problems.getFirst().id();
    }

    public List<Problem> problems() {
        return problems;
    }

    /** The first problem as a single line: what a CLI prints. */
    public String firstLine() {
        String line = problems.getFirst().render();
        return problems.size() == 1 ? line : line + " (and " + (problems.size() - 1) + " more)";
    }

    private static String render(List<Problem> problems) {
        if (problems.size() == 1) return problems.getFirst().render();
        StringBuilder sb = new StringBuilder(problems.size() + " problems:");
        for (Problem p : problems) sb.append("\n  - ").append(p.render());
        return sb.toString();
    }
}
