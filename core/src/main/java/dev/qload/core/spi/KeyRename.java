package dev.qload.core.spi;

import java.util.regex.Pattern;

/**
 * A regular-expression rename of checkpoint keys, as transformers' {@code key_mapping} /
 * {@code WeightRenaming}: every match of {@code pattern} is replaced by {@code replacement}
 * ({@code $1} refers to a group).
 */
public record KeyRename(Pattern pattern, String replacement) {
    public static KeyRename of(String regex, String replacement) {
        return new KeyRename(Pattern.compile(regex), replacement);
    }

    public String apply(String key) {
        return pattern.matcher(key).replaceAll(replacement);
    }
}
