package dev.sparkvit.cli;

import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.ModelSummary;
import dev.sparkvit.model.vit.VitConfig;
import dev.sparkvit.model.vit.VitPresets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sparkvit model-summary}: parameters, multiply-adds and LayerScale share of a preset, without Spark. */
@Command(name = "model-summary", mixinStandardHelpOptions = true,
        description = "Print parameters, multiply-adds per image and the LayerScale share of a model preset.")
final class ModelSummaryCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", defaultValue = "vit_base_patch16_224",
            description = "Model preset (default: ${DEFAULT-VALUE}); one of: vit_nano_patch4_32, vit_tiny_patch4_32, "
                    + "vit_tiny_patch16_224, vit_small_patch16_224, vit_base_patch16_224.")
    String preset;

    @Option(names = "--num-classes", defaultValue = "1000",
            description = "Classifier outputs; 0 for the encoder alone (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--projection-dim", description = "Summarise the SimCLR model with this projection size instead.")
    Integer projectionDim;

    @Option(names = "--layer-scale-init", description = "Override the preset's LayerScale init (0 turns it off).")
    Double layerScaleInit;

    @Override
    public Integer call() {
        VitConfig config = VitPresets.get(preset);
        if (layerScaleInit != null) {
            config = config.withLayerScale(layerScaleInit > 0, layerScaleInit);
        }
        if (numClasses < 0) {
            throw new IllegalArgumentException("--num-classes = " + numClasses + " is invalid: expected 0 or more");
        }
        Head head = projectionDim != null ? Head.projection(projectionDim)
                : numClasses == 0 ? Head.none() : Head.classifier(numClasses);
        spec.commandLine().getOut().print(ModelSummary.of(config, head).render(preset));
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
