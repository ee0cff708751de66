package dev.sparkvit.model.vit;

import com.intel.analytics.bigdl.dllib.nn.abstractnn.AbstractModule;
import java.util.List;

/**
 * A named submodule that owns a contiguous slice of the model's parameters: the unit of per-layer learning rates
 * (DLlib's per-submodule optimisers) and of FreezeOut.
 *
 * @param name the DLlib module name ({@code stem}, {@code blocks.3}, {@code neck}, {@code head}, ...)
 * @param module the submodule
 * @param parameterNames the timm-style names of its parameters, in order
 */
public record ParameterGroup(String name, AbstractModule<?, ?, Float> module, List<String> parameterNames) {
}
