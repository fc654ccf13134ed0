package dev.qload.core.config;

import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one strict JSON mapper qload reads untrusted JSON with (config.json, index files,
 * quantization state): duplicate keys are an error, nesting is capped so a deeply nested "JSON
 * bomb" fails at once, and trailing content after the document is refused.
 */
public final class Json {
    /** Real configs nest a handful of levels; 64 leaves room and still stops a bomb early. */
    public static final int MAX_NESTING_DEPTH = 64;

    public static final JsonMapper STRICT = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(tools.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {}
}
