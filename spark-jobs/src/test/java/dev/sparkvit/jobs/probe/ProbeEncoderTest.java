package dev.sparkvit.jobs.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.engine.Tensors;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.model.vit.VisionTransformer;
import dev.sparkvit.model.vit.VitPresets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Encoders for probes and fine-tuning are refused when their weights hold NaN or infinity, naming the tensor. */
class ProbeEncoderTest {
    @Test
    void anEncoderWithANanWeightIsBadInputNamingTheTensor(@TempDir Path tmp) throws Exception {
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        VisionTransformer.simclr(VitPresets.get("vit_nano_patch4_32").withImgSize(16), 8, 3).namedParameters()
                .forEach((name, t) -> tensors.put(name, new NamedTensor(Tensors.shape(t), Tensors.toArray(t))));
        tensors.get("blocks.1.norm2.weight").values()[5] = Float.NaN;
        tensors.get("blocks.1.norm2.weight").values()[9] = Float.NaN;
        Path file = tmp.resolve("ssl.safetensors");
        SafeTensors.write(file, tensors, Map.of("preset", "vit_nano_patch4_32"));
        ConfigException refused = assertThrows(ConfigException.class, () -> ProbeEncoder.load(file, null, 16));
        assertEquals(file + ": tensor blocks.1.norm2.weight holds 2 non-finite values of 64 (the first, NaN, at "
                + "element 5); an encoder cannot be probed or fine-tuned from NaN or infinite weights",
                refused.getMessage());
        // a NaN in the projection head, which the encoder does not use, is no reason to refuse
        tensors.get("blocks.1.norm2.weight").values()[5] = 1;
        tensors.get("blocks.1.norm2.weight").values()[9] = 1;
        var encoderNames = VisionTransformer.encoderOnly(VitPresets.get("vit_nano_patch4_32").withImgSize(16), 0)
                .namedParameters().keySet();
        String head = tensors.keySet().stream().filter(n -> !encoderNames.contains(n)).findFirst().orElseThrow();
        tensors.get(head).values()[0] = Float.NaN;
        SafeTensors.write(file, tensors, Map.of("preset", "vit_nano_patch4_32"));
        assertEquals(64, ProbeEncoder.load(file, null, 16).namedParameters().get("blocks.1.norm2.weight").nElement());
    }

    @Test
    void aTensorOfTheRightSizeButTheWrongShapeIsBadInputNamingTensorShapesAndFile(@TempDir Path tmp)
            throws Exception {
        Map<String, NamedTensor> tensors = new LinkedHashMap<>();
        VisionTransformer.simclr(VitPresets.get("vit_nano_patch4_32").withImgSize(16), 8, 3).namedParameters()
                .forEach((name, t) -> tensors.put(name, new NamedTensor(Tensors.shape(t), Tensors.toArray(t))));
        NamedTensor fc1 = tensors.get("blocks.0.mlp.fc1.weight");
        int[] shape = fc1.shape();
        tensors.put("blocks.0.mlp.fc1.weight", new NamedTensor(new int[] {shape[1], shape[0]}, fc1.values()));
        Path file = tmp.resolve("ssl.safetensors");
        SafeTensors.write(file, tensors, Map.of("preset", "vit_nano_patch4_32"));
        ConfigException refused = assertThrows(ConfigException.class, () -> ProbeEncoder.load(file, null, 16));
        assertEquals(file + ": blocks.0.mlp.fc1.weight has shape [64, 128] in the file, [128, 64] in a "
                + "vit_nano_patch4_32 encoder at 16 px", refused.getMessage());
    }
}
