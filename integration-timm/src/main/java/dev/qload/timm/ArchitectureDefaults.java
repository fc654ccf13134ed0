package dev.qload.timm;

import dev.qload.core.error.ErrorId;
import dev.qload.core.error.PluginException;
import dev.qload.core.error.Problem;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What timm's registered model functions pass to the model class for an {@code architecture} name,
 * before the checkpoint's {@code model_args} override them: the {@code model_args = dict(...)} of
 * {@code vit_small_patch16_224()}, {@code swin_tiny_patch4_window7_224()}, ... merged over the
 * class's own constructor defaults (the values a config may not mention). Sources are cited per family.
 */
final class ArchitectureDefaults {
    private static final Pattern VIT = Pattern.compile("(?:vit_(tiny|small|base|large)|deit3_(small|medium|base|large))_patch(\\d+)_(\\d+)");
    private static final Pattern SWIN = Pattern.compile("swin_(tiny|small|base|large)_patch(\\d+)_window(\\d+)_(\\d+)");
    private static final Pattern EVA02 = Pattern.compile("eva02_(tiny|small)_patch14_(224|336)");
    private static final Pattern RESNET = Pattern.compile("resnet(18|26|34|50|101|152)");
    static final String SUPPORTED = "vit_{tiny,small,base,large}_patchP_S, deit3_{small,medium,base,large}_patchP_S, "
            + "swin_{tiny,small,base,large}_patchP_windowW_S, eva02_{tiny,small}_patch14_{224,336}, resnet{18,26,34,50,101,152}";

    record Resolved(ModelFamily family, Map<String, Object> args) {}

    private ArchitectureDefaults() {}

    static Resolved of(String architecture, Path source) {
        Matcher m;
        if ((m = VIT.matcher(architecture)).matches()) return vit(m);
        if ((m = SWIN.matcher(architecture)).matches()) return swin(m);
        if ((m = EVA02.matcher(architecture)).matches()) return eva02(m);
        if ((m = RESNET.matcher(architecture)).matches()) return resnet(m);
        throw new PluginException(Problem.inFile(ErrorId.NOT_SUPPORTED, "timm architecture '" + architecture
                + "' is not one qload builds; supported: " + SUPPORTED, source, null, -1));
    }

    /** vision_transformer.py: VisionTransformer.__init__ defaults; vit_*(): patch_size, embed_dim, depth, num_heads; deit.py deit3_*(): no_embed_class, init_values 1e-6. */
    private static Resolved vit(Matcher m) {
        boolean deit3 = m.group(1) == null;
        int[] size = switch (deit3 ? m.group(2) : m.group(1)) {
            case "tiny" -> new int[] {192, 12, 3};
            case "small" -> new int[] {384, 12, 6};
            case "medium" -> new int[] {512, 12, 8};
            case "base" -> new int[] {768, 12, 12};
            default -> new int[] {1024, 24, 16};
        };
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("img_size", Integer.parseInt(m.group(4)));
        a.put("patch_size", Integer.parseInt(m.group(3)));
        a.put("embed_dim", size[0]);
        a.put("depth", size[1]);
        a.put("num_heads", size[2]);
        a.put("mlp_ratio", 4.0);
        a.put("qkv_bias", true);
        a.put("class_token", true);
        a.put("reg_tokens", 0);
        a.put("no_embed_class", deit3);
        a.put("global_pool", "token");
        a.put("fc_norm", null);
        a.put("init_values", deit3 ? 1e-6 : null);
        return new Resolved(ModelFamily.VISION_TRANSFORMER, a);
    }

    /** swin_transformer.py: SwinTransformer.__init__ defaults and swin_*_patch4_window7_224() args. */
    private static Resolved swin(Matcher m) {
        Map<String, Object> a = new LinkedHashMap<>();
        String size = m.group(1);
        int embed = switch (size) {
            case "tiny", "small" -> 96;
            case "base" -> 128;
            default -> 192;
        };
        a.put("img_size", Integer.parseInt(m.group(4)));
        a.put("patch_size", Integer.parseInt(m.group(2)));
        a.put("window_size", Integer.parseInt(m.group(3)));
        a.put("embed_dim", embed);
        a.put("depths", size.equals("tiny") ? List.of(2, 2, 6, 2) : List.of(2, 2, 18, 2));
        a.put("num_heads", List.of(embed / 32, embed / 16, embed / 8, embed / 4));
        a.put("mlp_ratio", 4.0);
        a.put("qkv_bias", true);
        a.put("global_pool", "avg");
        return new Resolved(ModelFamily.SWIN_TRANSFORMER, a);
    }

    /** eva.py: Eva.__init__ defaults and eva02_{tiny,small}_patch14_*() args (SwiGLU, rope, ref_feat_shape 16×16). */
    private static Resolved eva02(Matcher m) {
        boolean tiny = m.group(1).equals("tiny");
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("img_size", Integer.parseInt(m.group(2)));
        a.put("patch_size", 14);
        a.put("embed_dim", tiny ? 192 : 384);
        a.put("depth", 12);
        a.put("num_heads", tiny ? 3 : 6);
        a.put("mlp_ratio", 4 * 2 / 3.0);
        a.put("swiglu_mlp", true);
        a.put("qkv_bias", true);
        a.put("class_token", true);
        a.put("use_abs_pos_emb", true);
        a.put("use_rot_pos_emb", true);
        a.put("ref_feat_shape", List.of(16, 16));
        a.put("rope_temperature", 10000.0);
        a.put("global_pool", "avg");
        return new Resolved(ModelFamily.EVA, a);
    }

    /** resnet.py: ResNet.__init__ defaults (stem 7×7, channels 64..512); resnetN(): the block (see ResNet) and layers. */
    private static Resolved resnet(Matcher m) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("layers", switch (m.group(1)) {
            case "18", "26" -> List.of(2, 2, 2, 2);
            case "34", "50" -> List.of(3, 4, 6, 3);
            case "101" -> List.of(3, 4, 23, 3);
            default -> List.of(3, 8, 36, 3);
        });
        a.put("channels", List.of(64, 128, 256, 512));
        a.put("stem_width", 64);
        a.put("global_pool", "avg");
        return new Resolved(ModelFamily.RESNET, a);
    }
}
