package dev.qload.core.config;

import java.util.Collection;
import java.util.Optional;

/** "Did you mean …?" for misspelled names: the closest candidate by edit distance, if close enough. */
public final class Spelling {
    private Spelling() {}

    public static Optional<String> closest(String wrong, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(wrong.toLowerCase(java.util.Locale.ROOT), c.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        // Allow roughly one typo per four characters, so "hiden_size" finds "hidden_size" but "x" finds nothing.
        return best != null && bestDistance <= Math.max(1, wrong.length() / 4) ? Optional.of(best) : Optional.empty();
    }

    /** " (did you mean 'x'?)" or "". */
    public static String hint(String wrong, Collection<String> candidates) {
        return closest(wrong, candidates).map(c -> " (did you mean '" + c + "'?)").orElse("");
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
