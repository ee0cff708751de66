package dev.sparkvit.model.losses;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class GlobalBatchLayoutTest {
    @Test
    void gatheredRowsAreEachTasksFirstViewsThenSecondViews() {
        // B = 5: task 0 holds images 0-1, task 1 none, task 2 image 2, task 3 images 3-4
        GlobalBatchLayout layout = GlobalBatchLayout.of(2, 0, 1, 2);
        assertEquals(5, layout.images());
        assertEquals(10, layout.rows());
        assertEquals(8, layout.negativesPerAnchor());
        assertArrayEquals(new int[] {0, 4, 4, 6}, IntStream.range(0, 4).map(layout::firstRow).toArray());
        assertArrayEquals(new int[] {4, 0, 2, 4}, IntStream.range(0, 4).map(layout::rowCount).toArray());
        // NtXentLoss's row of each gathered row: first views are rows 0-4, second views 5-9
        assertArrayEquals(new int[] {0, 1, 5, 6, 2, 7, 3, 4, 8, 9},
                IntStream.range(0, 10).map(layout::globalRow).toArray());
        assertArrayEquals(new int[] {2, 3, 0, 1, 5, 4, 8, 9, 6, 7},
                IntStream.range(0, 10).map(layout::positive).toArray());
        assertArrayEquals(new int[] {0, 0, 0, 0, 2, 2, 3, 3, 3, 3},
                IntStream.range(0, 10).map(layout::taskOf).toArray());
    }

    @Test
    void oneTaskIsNtXentLossesLayout() {
        GlobalBatchLayout layout = GlobalBatchLayout.of(4);
        assertArrayEquals(IntStream.range(0, 8).toArray(), IntStream.range(0, 8).map(layout::globalRow).toArray());
        assertArrayEquals(new int[] {4, 5, 6, 7, 0, 1, 2, 3}, IntStream.range(0, 8).map(layout::positive).toArray());
    }

    @Test
    void rejectsNegativeCountsAnEmptyBatchAndRowsOutside() {
        assertThrows(IllegalArgumentException.class, () -> GlobalBatchLayout.of(2, -1));
        assertThrows(IllegalArgumentException.class, () -> GlobalBatchLayout.of(0, 0));
        assertThrows(IllegalArgumentException.class, GlobalBatchLayout::of);
        assertThrows(IndexOutOfBoundsException.class, () -> GlobalBatchLayout.of(2).positive(4));
    }
}
