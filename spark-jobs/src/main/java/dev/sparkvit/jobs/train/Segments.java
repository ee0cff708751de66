package dev.sparkvit.jobs.train;

/**
 * Where a training job's segments end: at every epoch end and, when checkpoints are taken every N iterations, at
 * every multiple of N; a checkpoint is written at those multiples and at the last iteration (or at every epoch end
 * when N is 0).
 *
 * @param perEpoch iterations per epoch
 * @param total iterations of the run
 * @param checkpointEvery iterations between checkpoints; 0 = every epoch
 */
public record Segments(long perEpoch, long total, long checkpointEvery) {
    public Segments {
        if (perEpoch < 1 || total < 1 || checkpointEvery < 0) {
            throw new IllegalArgumentException("segments need perEpoch >= 1, total >= 1, checkpointEvery >= 0; got "
                    + perEpoch + ", " + total + ", " + checkpointEvery);
        }
    }

    /** The iteration the segment starting after {@code done} iterations ends at. */
    public long next(long done) {
        long next = Math.min(total, (done / perEpoch + 1) * perEpoch);
        return checkpointEvery > 0 ? Math.min(next, (done / checkpointEvery + 1) * checkpointEvery) : next;
    }

    /** Whether iteration count {@code done} closes an epoch. */
    public boolean epochEnd(long done) {
        return done % perEpoch == 0;
    }

    /** Whether a checkpoint is due after {@code done} iterations. */
    public boolean checkpointDue(long done) {
        return checkpointEvery > 0 ? done % checkpointEvery == 0 || done == total : epochEnd(done);
    }
}
