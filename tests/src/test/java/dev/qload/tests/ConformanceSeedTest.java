package dev.qload.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConformanceSeedTest {
    @Test
    void readsHexDecimalAndTheDefault() {
        assertEquals(0x1234L, ConformanceSeed.parse("0x1234"));
        assertEquals(0x1234L, ConformanceSeed.parse(" 0X12_34 "));
        assertEquals(4660L, ConformanceSeed.parse("4660"));
        assertEquals(-1L, ConformanceSeed.parse("0xffffffffffffffff"));
        assertEquals(ConformanceSeed.DEFAULT, ConformanceSeed.parse(null));
        assertEquals(ConformanceSeed.DEFAULT, ConformanceSeed.parse(""));
    }

    @Test
    void printsWhatItReads() {
        for (long seed : new long[] {0, 1, 0x5EED_C0DE_2025L, -1, Long.MIN_VALUE}) {
            assertEquals(seed, ConformanceSeed.parse(ConformanceSeed.hex(seed)));
        }
    }

    @Test
    void rejectsWhatIsNotASeedAndSaysHowToWriteOne() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConformanceSeed.parse("0xnope"));
        assertTrue(e.getMessage().contains("write it as 0x1234abcd"), e.getMessage());
    }

    @Test
    void derivedSeedsAreStableAndDistinct() {
        assertEquals(ConformanceSeed.derive(7, "case", 0, 1), ConformanceSeed.derive(7, "case", 0, 1));
        assertNotEquals(ConformanceSeed.derive(7, "case", 0, 1), ConformanceSeed.derive(7, "case", 1, 0));
        assertNotEquals(ConformanceSeed.derive(7, "case", 0, 1), ConformanceSeed.derive(8, "case", 0, 1));
    }
}
