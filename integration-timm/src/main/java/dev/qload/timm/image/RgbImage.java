package dev.qload.timm.image;

import dev.qload.core.error.ConfigException;
import dev.qload.core.error.ErrorId;
import dev.qload.core.error.Problem;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * An 8-bit RGB image, row-major, 3 interleaved values per pixel: what timm's loader gets from
 * {@code PIL.Image.open(f).convert('RGB')}. Decoded with the JDK's ImageIO; samples are read from
 * the raster as stored (no colour management, as PIL does not apply ICC profiles on convert), grey
 * is replicated to the three channels, a palette is looked up, 16-bit samples keep their high byte.
 */
public record RgbImage(int width, int height, int[] pixels) {
    public static RgbImage read(Path file) {
        BufferedImage img;
        try {
            img = Files.isRegularFile(file) ? ImageIO.read(file.toFile()) : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (img == null) {
            throw new ConfigException(Problem.inFile(ErrorId.INVALID_INPUT, Files.isRegularFile(file)
                    ? "not an image ImageIO can decode (PNG, JPEG, BMP, GIF)" : "no such image file", file, null, -1));
        }
        return of(img);
    }

    static RgbImage of(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        int[] rgb = new int[w * h * 3];
        Raster raster = img.getRaster();
        int bands = raster.getNumBands();
        int shift = Math.max(0, img.getColorModel().getComponentSize(0) - 8);
        boolean palette = img.getColorModel() instanceof IndexColorModel;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = (y * w + x) * 3;
                if (palette) {
                    int argb = img.getRGB(x, y);
                    rgb[p] = argb >> 16 & 0xFF;
                    rgb[p + 1] = argb >> 8 & 0xFF;
                    rgb[p + 2] = argb & 0xFF;
                } else {
                    for (int c = 0; c < 3; c++) rgb[p + c] = raster.getSample(x, y, bands < 3 ? 0 : c) >> shift;
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
