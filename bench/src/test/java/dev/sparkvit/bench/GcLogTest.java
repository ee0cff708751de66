package dev.sparkvit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GcLogTest {

    @Test
    void peaksAreTheLargestBeforeAndAfterOfAnyCollectionInAnyUnit() {
        String log = """
                [0.011s][info][gc] Using G1
                [0.512s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.100ms
                [1.700s][info][gc] GC(1) Pause Young (Concurrent Start) (Metadata GC Threshold) 301M->40M(512M) 9.2ms
                [1.900s][info][gc] GC(2) Pause Remark 2048K->1536K(1G) 1.0ms
                [2.500s][info][gc] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 120M->52M(512M) 4.0ms
                """;
        GcLog gc = GcLog.parse(log);
        assertEquals(4, gc.collections());
        assertEquals(301, gc.peakUsedMb(), 1e-9);
        assertEquals(52, gc.peakLiveMb(), 1e-9);
        assertEquals(1024, gc.peakCommittedMb(), 1e-9);
        assertEquals(new GcLog(0, 0, 0, 0), GcLog.parse("[0.011s][info][gc] Using G1\n"));
    }
}
