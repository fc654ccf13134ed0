package dev.qload.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.core.config.ModelConfig;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.module.Module;
import dev.qload.core.spi.ArchitectureProvider;
import dev.qload.core.spi.QuantizationConfig;
import dev.qload.core.spi.Quantizer;
import dev.qload.core.spi.QuantizerProvider;
import dev.qload.core.tensor.DType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PluginsTest {

    abstract static class NamedQuantizerProvider implements QuantizerProvider {
        private final String name;

        NamedQuantizerProvider(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public Quantizer create(QuantizationConfig config) {
            throw new UnsupportedOperationException();
        }
    }

    static final class AlphaProvider extends NamedQuantizerProvider {
        AlphaProvider(String name) { super(name); }
    }

    static final class BetaProvider extends NamedQuantizerProvider {
        BetaProvider(String name) { super(name); }
    }

    static final class Arch implements ArchitectureProvider {
        private final String name;
        private final Set<String> architectures, modelTypes;

        Arch(String name, Set<String> architectures, Set<String> modelTypes) {
            this.name = name;
            this.architectures = architectures;
            this.modelTypes = modelTypes;
        }

        public String name() { return name; }
        public Set<String> architectures() { return architectures; }
        public Set<String> modelTypes() { return modelTypes; }
        public Module build(ModelConfig config, DType dtype) { return new Module(); }
    }

    static final class OtherArch implements ArchitectureProvider {
        public String name() { return "other"; }
        public Set<String> architectures() { return Set.of("LlamaForCausalLM"); }
        public Set<String> modelTypes() { return Set.of(); }
        public Module build(ModelConfig config, DType dtype) { return new Module(); }
    }

    private static ModelConfig config(String json) {
        return ModelConfig.parse(Path.of("config.json"), json.getBytes(StandardCharsets.UTF_8));
    }

    private final Arch llama = new Arch("llama", Set.of("LlamaForCausalLM", "MistralForCausalLM"), Set.of("llama", "mistral"));
    private final Arch gptOss = new Arch("gpt-oss", Set.of("GptOssForCausalLM"), Set.of("gpt_oss"));

    private Plugins plugins() {
        return new Plugins(List.of(new AlphaProvider("bitsandbytes"), new AlphaProvider("gptq"), new BetaProvider("mxfp4")), List.of(llama, gptOss));
    }

    @Test
    void twoQuantizerProvidersWithOneNameAreRejectedNamingBothClasses() {
        PluginException e = assertThrows(PluginException.class,
                () -> new Plugins(List.of(new AlphaProvider("toyq"), new BetaProvider("toyq")), List.of()));
        assertEquals(ErrorId.DUPLICATE_PROVIDER, e.id());
        assertTrue(e.getMessage().contains("'toyq'"), e.getMessage());
        assertTrue(e.getMessage().contains(AlphaProvider.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains(BetaProvider.class.getName()), e.getMessage());
    }

    @Test
    void twoArchitectureProvidersForOneArchitectureAreRejected() {
        PluginException e = assertThrows(PluginException.class, () -> new Plugins(List.of(), List.of(llama, new OtherArch())));
        assertEquals(ErrorId.DUPLICATE_PROVIDER, e.id());
        assertTrue(e.getMessage().contains("'LlamaForCausalLM'"), e.getMessage());
        assertTrue(e.getMessage().contains(Arch.class.getName()) && e.getMessage().contains(OtherArch.class.getName()), e.getMessage());
    }

    @Test
    void everyDuplicateIsReportedAtOnce() {
        PluginException e = assertThrows(PluginException.class, () -> new Plugins(
                List.of(new AlphaProvider("a"), new BetaProvider("a"), new AlphaProvider("b"), new BetaProvider("b")), List.of()));
        assertEquals(2, e.problems().size(), e.getMessage());
    }

    @Test
    void quantizerIsFoundByName() {
        Plugins p = plugins();
        assertEquals("gptq", p.quantizer("gptq").name());
        assertEquals(Set.of("bitsandbytes", "gptq", "mxfp4"), p.quantizers().keySet());
    }

    @Test
    void unknownQuantizerListsAvailableNamesAndSuggestsTheClosest() {
        PluginException e = assertThrows(PluginException.class, () -> plugins().quantizer("bitsandbyte"));
        assertEquals(ErrorId.UNKNOWN_QUANTIZER, e.id());
        assertTrue(e.getMessage().contains("did you mean 'bitsandbytes'?"), e.getMessage());
        assertTrue(e.getMessage().contains("available: [bitsandbytes, gptq, mxfp4]"), e.getMessage());
    }

    @Test
    void unknownQuantizerFarFromEveryNameHasNoSuggestion() {
        PluginException e = assertThrows(PluginException.class, () -> plugins().quantizer("awq"));
        assertEquals(ErrorId.UNKNOWN_QUANTIZER, e.id());
        assertTrue(!e.getMessage().contains("did you mean"), e.getMessage());
        assertTrue(e.getMessage().contains("available: [bitsandbytes, gptq, mxfp4]"), e.getMessage());
    }

    @Test
    void architecturesEntryWinsOverModelType() {
        assertSame(gptOss, plugins().architectureFor(config("{\"architectures\": [\"GptOssForCausalLM\"], \"model_type\": \"llama\"}")));
    }

    @Test
    void firstKnownArchitecturesEntryIsUsed() {
        assertSame(llama, plugins().architectureFor(config("{\"architectures\": [\"Unknown\", \"MistralForCausalLM\", \"GptOssForCausalLM\"]}")));
    }

    @Test
    void modelTypeIsTheFallbackWhenNoArchitectureIsKnown() {
        assertSame(gptOss, plugins().architectureFor(config("{\"architectures\": [\"SomethingElse\"], \"model_type\": \"gpt_oss\"}")));
        assertSame(llama, plugins().architectureFor(config("{\"model_type\": \"mistral\"}")));
    }

    @Test
    void unknownArchitectureNamesWhatWasAskedAndWhatIsAvailable() {
        PluginException e = assertThrows(PluginException.class,
                () -> plugins().architectureFor(config("{\"architectures\": [\"LlamaForCausalLm\"], \"model_type\": \"qwen2\"}")));
        assertEquals(ErrorId.UNKNOWN_ARCHITECTURE, e.id());
        assertTrue(e.getMessage().contains("LlamaForCausalLm"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'LlamaForCausalLM'?"), e.getMessage());
        assertTrue(e.getMessage().contains("GptOssForCausalLM") && e.getMessage().contains("MistralForCausalLM"), e.getMessage());
        assertEquals(Path.of("config.json"), e.problems().getFirst().file());
    }

    @Test
    void unknownModelTypeWithoutArchitecturesIsNamed() {
        PluginException e = assertThrows(PluginException.class, () -> plugins().architectureFor(config("{\"model_type\": \"qwen2\"}")));
        assertEquals(ErrorId.UNKNOWN_ARCHITECTURE, e.id());
        assertTrue(e.getMessage().contains("model_type 'qwen2'"), e.getMessage());
    }

    @Test
    void aProviderThatRecognizesTheConfigIsAskedLast() {
        ArchitectureProvider singular = new ArchitectureProvider() { // timm's Hub layout: "architecture", no model_type
            public String name() { return "singular"; }
            public Set<String> architectures() { return Set.of(); }
            public Set<String> modelTypes() { return Set.of(); }
            public Module build(ModelConfig config, DType dtype) { return new Module(); }
            @Override
            public boolean recognizes(ModelConfig config) { return config.has("architecture"); }
        };
        Plugins p = new Plugins(List.of(), List.of(llama, singular));
        assertSame(singular, p.architectureFor(config("{\"architecture\": \"resnet18\"}")));
        assertSame(llama, p.architectureFor(config("{\"architecture\": \"resnet18\", \"model_type\": \"llama\"}")));
        PluginException e = assertThrows(PluginException.class, () -> p.architectureFor(config("{\"model_type\": \"qwen2\"}")));
        assertEquals(ErrorId.UNKNOWN_ARCHITECTURE, e.id());
    }
}
