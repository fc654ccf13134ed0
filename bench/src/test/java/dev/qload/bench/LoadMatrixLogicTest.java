package dev.qload.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qload.bench.LoadPath.Target;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/** The arithmetic behind the load matrix's verdicts, on made-up samples: medians, ratios, targets, the chart's XML. */
class LoadMatrixLogicTest {

    private static LoadSample ms(double ms) {
        return new LoadSample(ms, ms, 0, 0);
    }

    @Test
    void medianIsTheMiddleRunOrTheMeanOfTheTwoMiddleOnes() {
        PathStats odd = PathStats.of(List.of(ms(30), ms(10), ms(20)));
        assertEquals(20, odd.medianMs());
        assertEquals(20, odd.spreadMs());
        PathStats even = PathStats.of(List.of(ms(40), ms(10), ms(20), ms(30)));
        assertEquals(25, even.medianMs());
        assertEquals(3, odd.runs());
    }

    @Test
    void peakIsTheHighestOfAllRunsAgainstTheModelBytes() {
        PathStats s = PathStats.of(List.of(new LoadSample(1, 1, 900, 1000), new LoadSample(1, 1, 1200, 1000)));
        assertEquals(1200, s.peakAnonBytes());
        assertEquals(1.2, s.peakOverModel(), 1e-12);
    }

    private static CaseResult result(Map<String, Double> medians, List<LoadPath> paths) {
        Map<String, PathStats> stats = new LinkedHashMap<>();
        medians.forEach((k, v) -> stats.put(k, PathStats.of(List.of(new LoadSample(v, v, k.equals("fat") ? 1200 : 100, 1000)))));
        return new CaseResult(new LoadCase("c", "d", Path.of("."), paths), stats, "0", "0");
    }

    @Test
    void targetsAreJudgedOnTheRatiosTheIssueNames() {
        LoadPath floor = LoadPath.of("floor", Target.FLOOR, () -> null);
        LoadPath atLimit = LoadPath.of("resident", Target.RESIDENT, () -> null);
        LoadPath slow = LoadPath.of("nf4", Target.QUANTIZE, () -> null);
        LoadPath eager = LoadPath.versus("eager", Target.EAGER, "resident", () -> null);
        LoadPath jlama = LoadPath.versus("jlama", Target.JLAMA, "nf4", () -> null);
        LoadPath fat = LoadPath.of("fat", Target.NONE, () -> null);
        CaseResult r = result(Map.of("floor", 100.0, "resident", 125.0, "nf4", 201.0, "eager", 374.0, "jlama", 300.0, "fat", 50.0),
                List.of(floor, atLimit, slow, eager, jlama, fat));
        assertEquals("met", r.verdict(atLimit), "exactly 1.25x the floor meets the target");
        assertEquals("MISSED", r.verdict(slow), "2.01x the floor");
        assertEquals("MISSED", r.verdict(eager), "eager only 2.99x slower than meta");
        assertEquals(374.0 / 125.0, r.targetRatio(eager), 1e-12);
        assertEquals("met", r.verdict(jlama), "Jlama slower than qload's path");
        assertEquals("", r.verdict(fat));
        assertEquals("OVER", r.memoryVerdict(fat));
        assertEquals("ok", r.memoryVerdict(slow));
        assertEquals("", r.memoryVerdict(floor));
    }

    @Test
    void theFloorMustComeFirst() {
        assertThrows(IllegalArgumentException.class, () -> new LoadCase("c", "d", Path.of("."), List.of(LoadPath.of("x", Target.NONE, () -> null))));
    }

    @Test
    void theChartIsWellFormedSvgWhateverThePathNames() throws Exception {
        LoadPath floor = LoadPath.of("floor <&> \"x\"", Target.FLOOR, () -> null);
        LoadPath slow = LoadPath.of("qload <= 2x & more", Target.QUANTIZE, () -> null);
        CaseResult r = result(Map.of("floor <&> \"x\"", 100.0, "qload <= 2x & more", 900.0), List.of(floor, slow));
        String svg = MatrixChart.svg("t & t", "s < s", List.of(r));
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertTrue(svg.contains("9.00x"), "a bar past the axis keeps its value in the label");
        assertTrue(svg.contains("#d33"), "a missed target is drawn red");
    }
}
