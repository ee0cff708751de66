package dev.sparkvit.engine;

import java.util.Map;
import scala.Tuple2;
import scala.collection.immutable.HashMap;

/** Java collections into the Scala ones DLlib's APIs take. */
public final class ScalaCollections {
    private ScalaCollections() {
    }

    /** A Scala immutable map with the entries of {@code map}. */
    public static <K, V> scala.collection.immutable.Map<K, V> immutableMap(Map<K, V> map) {
        scala.collection.immutable.Map<K, V> result = new HashMap<>();
        for (Map.Entry<K, V> entry : map.entrySet()) {
            result = result.$plus(new Tuple2<>(entry.getKey(), entry.getValue()));
        }
        return result;
    }
}
