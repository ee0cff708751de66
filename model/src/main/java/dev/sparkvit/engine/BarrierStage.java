package dev.sparkvit.engine;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import scala.Function1;
import scala.collection.Iterator$;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag$;

/**
 * One Spark job in barrier execution mode, from Java: {@code rdd.barrier().mapPartitions(...)} with one result per
 * task, collected in partition order. All tasks start together (Spark needs a free slot for each, or it fails the
 * job after its slot checks) and a failed task fails them all; inside, {@link BarrierAllGather#current()} exchanges
 * data between them.
 */
public final class BarrierStage {
    private BarrierStage() {
    }

    /** What each task runs on its partition's elements. */
    @FunctionalInterface
    public interface Task<T, U> extends Serializable {
        U run(Iterator<T> partition) throws Exception;
    }

    /** Runs {@code task} on every partition of {@code rdd} as one barrier stage; the results by partition. */
    @SuppressWarnings("unchecked")
    public static <T, U> List<U> collect(JavaRDD<T> rdd, Task<T, U> task, Class<U> resultType) {
        Function1<scala.collection.Iterator<T>, scala.collection.Iterator<U>> perPartition =
                (Function1<scala.collection.Iterator<T>, scala.collection.Iterator<U>> & Serializable) partition -> {
                    try {
                        return Iterator$.MODULE$.single(task.run(JavaConverters.asJavaIterator(partition)));
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                };
        Object results = rdd.rdd().barrier().mapPartitions(perPartition, false, ClassTag$.MODULE$.apply(resultType))
                .collect();
        return Arrays.asList((U[]) results);
    }
}
