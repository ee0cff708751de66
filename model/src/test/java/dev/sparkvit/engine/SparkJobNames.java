package dev.sparkvit.engine;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;

/** Records the result stage name of every Spark job started while it listens ("reduce at NonFiniteGuard.java:154"). */
final class SparkJobNames extends SparkListener {
    private final List<String> names = new ArrayList<>();

    /** The job names of everything {@code work} starts on {@code sc}. */
    static List<String> of(SparkContext sc, Runnable work) {
        SparkJobNames listener = new SparkJobNames();
        sc.addSparkListener(listener);
        try {
            work.run();
            sc.listenerBus().waitUntilEmpty();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Spark's listener bus did not empty", e);
        } finally {
            sc.removeSparkListener(listener);
        }
        synchronized (listener) {
            return List.copyOf(listener.names);
        }
    }

    /** How many of {@code jobs} start with {@code prefix}. */
    static long count(List<String> jobs, String prefix) {
        return jobs.stream().filter(name -> name.startsWith(prefix)).count();
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart start) {
        StageInfo last = null;
        for (StageInfo stage : scala.collection.JavaConverters.seqAsJavaList(start.stageInfos())) {
            if (last == null || stage.stageId() > last.stageId()) {
                last = stage;
            }
        }
        names.add(last == null ? "" : last.name());
    }
}
