package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath$TensorNumeric$NumericFloat$;
import com.intel.analytics.bigdl.dllib.tensor.TensorNumericMath.TensorNumeric;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The implicit arguments every DLlib call needs for 32-bit float tensors. sparkvit trains in float only, so these two
 * constants are the only ClassTag / TensorNumeric values the code base uses.
 */
public final class FloatTypes {
    /** {@code ClassTag[Float]}. */
    public static final ClassTag<Float> TAG = cast(ClassTag$.MODULE$.Float());
    /** {@code TensorNumeric[Float]}. */
    public static final TensorNumeric<Float> NUMERIC = cast(TensorNumericMath$TensorNumeric$NumericFloat$.MODULE$);

    private FloatTypes() {
    }

    // Scala's Float erases to Object in generic signatures; the runtime values are the float ones.
    @SuppressWarnings("unchecked")
    private static <T> T cast(Object value) {
        return (T) value;
    }
}
