package dev.sparkvit.engine;

import com.intel.analytics.bigdl.dllib.tensor.Storage;
import com.intel.analytics.bigdl.dllib.tensor.Tensor;
import com.intel.analytics.bigdl.dllib.tensor.Tensor$;
import java.util.Arrays;

/** Float tensors from and to plain Java arrays. */
public final class Tensors {
    private Tensors() {
    }

    /** A zero tensor of the given shape. */
    public static Tensor<Float> zeros(int... shape) {
        return Tensor$.MODULE$.apply(shape.clone(), FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /**
     * A tensor that views {@code data} (not a copy) in row-major order.
     *
     * @throws IllegalArgumentException when the shape's element count is not {@code data.length}
     */
    public static Tensor<Float> of(float[] data, int... shape) {
        long count = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + " has a non-positive size");
            }
            count *= d;
        }
        if (count != data.length) {
            throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + " holds " + count
                    + " elements but the data has " + data.length);
        }
        return Tensor$.MODULE$.apply(data, shape.clone(), FloatTypes.TAG, FloatTypes.NUMERIC);
    }

    /** A one-element tensor of shape (1), the label form DLlib's classification criteria take. */
    public static Tensor<Float> scalar(float value) {
        return of(new float[] {value}, 1);
    }

    /** The tensor's elements in row-major order, as a new array (works for non-contiguous views too). */
    public static float[] toArray(Tensor<Float> tensor) {
        Tensor<Float> dense = tensor.isContiguous() ? tensor : tensor.contiguous();
        Storage<Float> storage = dense.storage();
        float[] backing = (float[]) storage.array();
        int offset = dense.storageOffset() - 1; // DLlib offsets are 1-based
        return Arrays.copyOfRange(backing, offset, offset + (int) dense.nElement());
    }

    /**
     * The backing array of a contiguous tensor; index it from {@link #offset(Tensor)}. Fetch it on every use: DLlib
     * may re-point a tensor at a new storage ({@code getParameters()} flattens all parameters into one buffer).
     */
    public static float[] data(Tensor<Float> tensor) {
        if (!tensor.isContiguous()) {
            throw new IllegalArgumentException("expected a contiguous tensor, got strides "
                    + Arrays.toString(tensor.stride()) + " for shape " + Arrays.toString(tensor.size()));
        }
        return (float[]) tensor.storage().array();
    }

    /** 0-based index of the tensor's first element in {@link #data(Tensor)}. */
    public static int offset(Tensor<Float> tensor) {
        return tensor.storageOffset() - 1;
    }

    /** The tensor itself when contiguous, otherwise a contiguous copy. */
    public static Tensor<Float> contiguous(Tensor<Float> tensor) {
        return tensor.isContiguous() ? tensor : tensor.contiguous();
    }

    /** Number of elements. */
    public static int size(Tensor<Float> tensor) {
        return (int) tensor.nElement();
    }

    /** The tensor's shape as a Java array. */
    public static int[] shape(Tensor<Float> tensor) {
        return tensor.size().clone();
    }
}
