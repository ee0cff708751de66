package dev.sparkvit.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.jobs.finetune.FinetuneConfig;
import dev.sparkvit.jobs.pretrain.PretrainConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's fingerprint is stored in every checkpoint it writes and compared on {@code --resume}, and hashed into its
 * weights' provenance and retrain's run key: its keys, their order and their text are pinned here as the jobs wrote
 * them, so that a change in how settings are declared cannot strand the checkpoints of earlier runs.
 */
class RunFingerprintTest {
    private static final Path CONF = Path.of("..", "conf");

    @TempDir
    Path tmp;

    /** The fingerprint as lines of key=value in its order, with the dataset folder written DS. */
    private String text(Map<String, String> fingerprint) {
        StringBuilder out = new StringBuilder();
        fingerprint.forEach((k, v) -> out.append(k).append('=').append(v.replace(tmp.toString(), "DS")).append('\n'));
        return out.toString();
    }

    private String pretrain(String... sets) {
        List<String> all = new java.util.ArrayList<>(List.of("data.dataset=" + tmp));
        all.addAll(List.of(sets));
        return text(PretrainConfig.read(YamlConfig.load(CONF.resolve("pretrain.yaml")).with(all)).fingerprint());
    }

    private String finetune(long images, int replicas, String... sets) {
        List<String> all = new java.util.ArrayList<>(List.of("data.dataset=" + tmp));
        all.addAll(List.of(sets));
        return text(FinetuneConfig.read(YamlConfig.load(CONF.resolve("finetune.yaml")).with(all))
                .resolved(images, replicas).fingerprint());
    }

    @Test
    void pretrainingKeepsItsFingerprintText() {
        assertEquals("""
                dataset=DS
                preset=vit_nano_patch4_32
                epochs=20
                batch_size=64
                optimizer=adamw
                learning_rate=0.001
                weight_decay=0.05
                momentum=0.9
                lars_eta=0.001
                warmup_epochs=2
                clip_grad_norm=1.0
                temperature=0.2
                projection_dim=128
                projection_norm=batch
                freezeout=FreezeOut[enabled=false, t0=0.8, scaling=CUBIC, scaleLr=false]
                ema=0.999 warmup
                seed=42
                engine=barrier
                """, pretrain());
        assertEquals("""
                dataset=DS
                preset=vit_nano_patch4_32
                layer_scale=0.1
                pooling=mean
                img_size=64
                epochs=20
                batch_size=64
                optimizer=lars
                learning_rate=0.001
                weight_decay=0.05
                momentum=0.9
                lars_eta=0.001
                warmup_epochs=2
                clip_grad_norm=1.0
                temperature=0.2
                projection_dim=128
                projection_norm=none
                freezeout=FreezeOut[enabled=true, t0=0.5, scaling=LINEAR, scaleLr=false]
                ema=0.99
                seed=7
                engine=barrier
                """, pretrain("model.layer_scale=0.1", "model.pooling=mean", "data.img_size=64",
                "training.freezeout.enabled=true", "training.freezeout.t0=0.5", "training.freezeout.scaling=linear",
                "training.ema.warmup=false", "training.ema.decay=0.99", "projection_norm=none", "training.seed=7",
                "training.optimizer=lars"));
    }

    @Test
    void fineTuningKeepsItsFingerprintText() {
        assertEquals("""
                dataset=DS
                label_fraction=1.0
                preset=vit_nano_patch4_32
                ssl_pretrained_path=null
                drop_path_rate=0.1
                head_init=linear_probe
                epochs=30
                batch_size=16
                gradient_accumulation_steps=1
                learning_rate=5.0E-4
                layer_decay=0.75
                weight_decay=0.05
                warmup_epochs=3
                clip_grad_norm=1.0
                severity=light
                mixing=Mixing[mixup=false, mixupAlpha=0.8, cutmix=false, cutmixAlpha=1.0]
                loss=Loss[type=combined, labelSmoothing=0.1, focalGamma=2.0, focalAlpha=none, classWeights=none]
                ema=Ema[enabled=true, decay=0.9999, warmup=true]
                freezeout=FreezeOut[enabled=false, t0=0.8, scaling=CUBIC, scaleLr=false]
                seed=42
                recipe=small
                engine=barrier
                """, finetune(1_433, 2, "model.ssl_pretrained_path=null"));
        assertEquals("""
                dataset=DS
                label_fraction=0.5
                preset=vit_nano_patch4_32
                layer_scale=off
                ssl_pretrained_path=DS
                drop_path_rate=0.2
                head_init=random
                epochs=30
                batch_size=96
                gradient_accumulation_steps=2
                learning_rate=0.002
                layer_decay=0.75
                weight_decay=0.1
                warmup_epochs=4
                clip_grad_norm=0.0
                severity=aggressive
                mixing=Mixing[mixup=true, mixupAlpha=0.4, cutmix=false, cutmixAlpha=1.0]
                loss=Loss[type=focal, labelSmoothing=0.1, focalGamma=2.0, focalAlpha=balanced, classWeights=none]
                ema=Ema[enabled=false, decay=0.99, warmup=true]
                freezeout=FreezeOut[enabled=false, t0=0.8, scaling=CUBIC, scaleLr=false]
                seed=3
                recipe=medium
                engine=barrier
                """, finetune(50_000, 4, "model.ssl_pretrained_path=" + tmp, "data.label_fraction=0.5",
                "model.drop_path_rate=0.2", "model.head_init=random", "training.batch_size=96",
                "training.gradient_accumulation_steps=2", "training.learning_rate=0.002", "training.weight_decay=0.1",
                "training.warmup_epochs=4", "training.use_mixup=true", "training.use_cutmix=false",
                "training.mixup_alpha=0.4", "training.loss_type=focal", "training.focal_alpha=balanced",
                "training.ema.enabled=false", "training.ema.decay=0.99", "augmentations.severity=aggressive",
                "model.layer_scale=off", "training.seed=3", "training.clip_grad_norm=0"));
    }
}
