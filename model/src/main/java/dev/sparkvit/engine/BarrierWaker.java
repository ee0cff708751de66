package dev.sparkvit.engine;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Spark 3.1's barrier calls ({@code BarrierTaskContext.barrier()} and {@code allGather}) wait for the coordinator's
 * answer by checking it and then sleeping one second, in a loop: every call costs up to a second after the last task
 * arrives (measured: about 1 s per call in local mode, whatever the message size). The loop swallows an
 * {@code InterruptedException} from that sleep and checks again (after checking that the task was not killed).
 * {@link #during} runs a barrier call while a daemon thread interrupts the calling thread whenever it is in a timed
 * wait, every {@value #PERIOD_MICROS} microseconds, so the call returns within about that much of its answer. The
 * waker interrupts only a thread in {@code TIMED_WAITING} (the sleep; nothing else in the call waits with a timeout)
 * and stops before the call's thread clears its interrupt flag and returns. A task killed by Spark is still killed:
 * Spark records the kill reason and the loop checks it on every wake.
 */
final class BarrierWaker {
    static final long PERIOD_MICROS = 200;

    private final Thread target;
    private final Thread waker;
    private boolean stopped; // guarded by this: no interrupt after stop() returns

    private BarrierWaker(Thread target) {
        this.target = target;
        this.waker = new Thread(this::run, "sparkvit-barrier-waker");
        waker.setDaemon(true);
    }

    /** {@code call.get()} on this thread, woken out of Spark's one-second polling sleeps. */
    static <T> T during(Supplier<T> call) {
        BarrierWaker waker = new BarrierWaker(Thread.currentThread());
        waker.waker.start();
        try {
            return call.get();
        } finally {
            waker.stop();
            Thread.interrupted(); // a wake that landed after the answer: not for the caller
        }
    }

    private void run() {
        while (true) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                if (target.getState() == Thread.State.TIMED_WAITING) {
                    target.interrupt();
                }
            }
            LockSupport.parkNanos(PERIOD_MICROS * 1000);
        }
    }

    private synchronized void stop() {
        stopped = true;
    }
}
