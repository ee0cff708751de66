package dev.sparkvit.model.losses;

import java.util.Arrays;

/**
 * Where the rows of a global SimCLR batch live when T tasks each hold some of its images. Task t holds images
 * {@code [b_t, b_t + n_t)} of the global batch of B images (b_0 = 0, b_{t+1} = b_t + n_t); its projections are the
 * {@link NtXentLoss} layout of its own slice: 2 n_t rows, first views at rows 0..n_t-1 and second views at rows
 * n_t..2n_t-1. The <em>gathered</em> matrix is every task's rows one after the other in task order, so task t's rows
 * are gathered rows {@code [2 b_t, 2 b_t + 2 n_t)}. Gathered row {@code 2 b_t + r} is
 * <ul>
 * <li>the first view of global image {@code b_t + r} when r &lt; n_t, global row {@code b_t + r};</li>
 * <li>the second view of global image {@code b_t + r - n_t} otherwise, global row {@code B + b_t + r - n_t};</li>
 * </ul>
 * where "global row" is {@link NtXentLoss}'s layout of the whole batch (all first views, then all second views). The
 * pairs are the global ones: a row's positive is the other view of its image, and every row is contrasted with all
 * 2B - 2 other rows whichever task holds them. With one task the gathered order is the global order.
 */
public final class GlobalBatchLayout {
    private final int[] images;
    private final int[] firstImage;
    private final int totalImages;

    private GlobalBatchLayout(int[] images) {
        this.images = images;
        this.firstImage = new int[images.length];
        int sum = 0;
        for (int t = 0; t < images.length; t++) {
            if (images[t] < 0) {
                throw new IllegalArgumentException("a task cannot hold " + images[t] + " images: "
                        + Arrays.toString(images));
            }
            firstImage[t] = sum;
            sum = Math.addExact(sum, images[t]);
        }
        if (sum < 1) {
            throw new IllegalArgumentException("a global batch needs at least one image: " + Arrays.toString(images));
        }
        this.totalImages = sum;
    }

    /** The layout where task t holds {@code imagesPerTask[t]} images (zero is allowed; the total must be >= 1). */
    public static GlobalBatchLayout of(int... imagesPerTask) {
        if (imagesPerTask.length < 1) {
            throw new IllegalArgumentException("a global batch needs at least one task");
        }
        return new GlobalBatchLayout(imagesPerTask.clone());
    }

    public int tasks() {
        return images.length;
    }

    /** B, the images of the global batch. */
    public int images() {
        return totalImages;
    }

    /** 2B, the rows of the gathered matrix. */
    public int rows() {
        return 2 * totalImages;
    }

    /** n_t, the images task t holds. */
    public int images(int task) {
        return images[task];
    }

    /** 2 b_t, task t's first row in the gathered matrix. */
    public int firstRow(int task) {
        return 2 * firstImage[task];
    }

    /** 2 n_t, the rows task t holds. */
    public int rowCount(int task) {
        return 2 * images[task];
    }

    /** The task whose rows include gathered row {@code row}. */
    public int taskOf(int row) {
        checkRow(row);
        int task = 0;
        while (row >= firstRow(task) + rowCount(task)) {
            task++;
        }
        return task;
    }

    /** The gathered row of the other view of gathered row {@code row}'s image. */
    public int positive(int row) {
        int task = taskOf(row);
        int n = images[task];
        int local = row - firstRow(task);
        return firstRow(task) + (local + n) % (2 * n);
    }

    /** {@link NtXentLoss}'s row of the whole batch for gathered row {@code row}. */
    public int globalRow(int row) {
        int task = taskOf(row);
        int local = row - firstRow(task);
        int n = images[task];
        return local < n ? firstImage[task] + local : totalImages + firstImage[task] + local - n;
    }

    /** Negatives each anchor is contrasted with: 2B - 2, whatever the number of tasks. */
    public int negativesPerAnchor() {
        return rows() - 2;
    }

    private void checkRow(int row) {
        if (row < 0 || row >= rows()) {
            throw new IndexOutOfBoundsException("row " + row + " of a global batch of " + rows() + " rows");
        }
    }

    @Override
    public String toString() {
        return "GlobalBatchLayout(images per task " + Arrays.toString(images) + ")";
    }
}
