package dev.sparkvit.bench;

import com.intel.analytics.bigdl.dllib.nn.Container;
import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import java.util.Map;
import java.util.TreeMap;
import scala.Tuple3;

/**
 * Where a training step's time goes, from DLlib's own per-module clocks ({@code getTimes()}: wall time of every
 * module's forward and backward): summed over the leaf layers of each kind (Linear layers by their role: qkv, proj,
 * fc1, fc2, head), in milliseconds per step. Containers (residual sums), the loss, AdamW and zeroing the gradients
 * are what the step's total leaves over.
 */
public final class LayerTimes {
    private LayerTimes() {
    }

    /** {kind: {forward ms, backward ms}} per step, over the {@code steps} steps since the last resetTimes(). */
    public static Map<String, double[]> perStep(AbstractModule<?, ?, Float> root, int steps) {
        Map<String, double[]> byKind = new TreeMap<>();
        @SuppressWarnings("unchecked")
        Tuple3<AbstractModule<?, ?, Float>, Object, Object>[] times =
                (Tuple3<AbstractModule<?, ?, Float>, Object, Object>[]) (Object[]) root.getTimes();
        for (Tuple3<AbstractModule<?, ?, Float>, Object, Object> entry : times) {
            AbstractModule<?, ?, Float> module = entry._1();
            if (module instanceof Container<?, ?, ?>) {
                continue;
            }
            String kind = module.getClass().getSimpleName();
            if (kind.equals("TokenLinear")) {
                String name = module.getName();
                kind = "Linear " + name.substring(name.lastIndexOf('.') + 1);
            }
            double[] ms = byKind.computeIfAbsent(kind, k -> new double[2]);
            ms[0] += (Long) entry._2() / 1e6 / steps;
            ms[1] += (Long) entry._3() / 1e6 / steps;
        }
        return byKind;
    }
}
