package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Segment ends and checkpoint points of a run, against hand-listed iterations. */
class SegmentsTest {
    private static List<Long> ends(Segments s) {
        List<Long> ends = new ArrayList<>();
        for (long done = 0; done < s.total(); done = s.next(done)) {
            ends.add(s.next(done));
        }
        return ends;
    }

    @Test
    void epochEndsAndCheckpointMultiplesBothEndSegments() {
        Segments everyFour = new Segments(3, 9, 4); // epochs end at 3, 6, 9; checkpoints at 4, 8 and the last
        assertEquals(List.of(3L, 4L, 6L, 8L, 9L), ends(everyFour));
        assertTrue(everyFour.checkpointDue(4) && everyFour.checkpointDue(8) && everyFour.checkpointDue(9));
        assertFalse(everyFour.checkpointDue(3) || everyFour.checkpointDue(6));
        assertTrue(everyFour.epochEnd(6) && !everyFour.epochEnd(4));
    }

    @Test
    void withoutAnIntervalEveryEpochEndCheckpointsAndALastPartialEpochEndsTheRun() {
        Segments perEpoch = new Segments(4, 10, 0);
        assertEquals(List.of(4L, 8L, 10L), ends(perEpoch));
        assertTrue(perEpoch.checkpointDue(4) && perEpoch.checkpointDue(8));
        assertEquals(8L, perEpoch.next(5), "a resumed run continues to the epoch end");
    }

    @Test
    void rejectsEmptyRuns() {
        assertThrows(IllegalArgumentException.class, () -> new Segments(0, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> new Segments(2, 5, -1));
    }
}
