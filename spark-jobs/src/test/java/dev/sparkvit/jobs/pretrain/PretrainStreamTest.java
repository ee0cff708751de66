package dev.sparkvit.jobs.pretrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkvit.config.ConfigException;
import dev.sparkvit.config.YamlConfig;
import dev.sparkvit.data.SyntheticImageFolder;
import dev.sparkvit.data.ingest.IngestJob;
import dev.sparkvit.data.ingest.IngestSettings;
import dev.sparkvit.data.stream.StreamedImages;
import dev.sparkvit.model.io.NamedTensor;
import dev.sparkvit.model.io.SafeTensors;
import dev.sparkvit.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pretraining on the streamed input ({@code data.input: stream}): a run stopped mid-epoch and resumed in a new job
 * (its streams replayed to the checkpoint's position, not continued) ends with the uninterrupted run's weights and
 * losses, bit for bit; and a streamed run's checkpoint does not resume on the memory input.
 */
@ExtendWith(SharedSpark.class)
class PretrainStreamTest {
    @TempDir
    static Path shared;
    private static String dataset;

    @BeforeAll
    static void ingest() {
        Path raw = shared.resolve("raw");
        new SyntheticImageFolder(16, 12, 4).writeTo(raw);
        dataset = shared.resolve("ds").toString();
        new IngestJob(IngestSettings.defaults(raw.toString(), dataset).withStoredSize(16))
                .execute(SharedSpark.session());
    }

    /** 2 epochs of batch 16 (about 6 iterations each), streamed through a buffer of 8 rows per task. */
    private static PretrainSettings settings(Path out, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + dataset, "data.img_size=16", "output_dir=" + out,
                "data.input=stream", "data.shuffle_buffer=8", "training.epochs=2", "training.batch_size=16",
                "training.learning_rate=0.002", "training.warmup_epochs=1", "training.ema.decay=0.99",
                "training.checkpoint.every_iterations=4", "temperature=0.2", "projection_dim=32"));
        sets.addAll(List.of(more));
        return PretrainConfig.read(YamlConfig.parse("test.yaml", new StringReader("")).with(sets));
    }

    private static PretrainResult run(PretrainSettings settings, boolean resume, long stopAfter) {
        PretrainJob job = new PretrainJob(settings, resume, new PrintStream(new ByteArrayOutputStream()));
        if (stopAfter > 0) {
            job.stopAfter(stopAfter);
        }
        return job.execute(SharedSpark.session());
    }

    @Test
    void aStreamedRunStoppedMidEpochAndResumedEndsWithTheUninterruptedWeights(@TempDir Path tmp) throws Exception {
        PretrainResult whole = run(settings(tmp.resolve("whole")), false, 0);
        Path parts = tmp.resolve("parts");
        PretrainResult first = run(settings(parts), false, 4);
        assertNull(first.weights(), "an interrupted run has no result yet");
        StreamedImages.clear(); // the resumed job finds no open stream: it replays to iteration 4's position
        PretrainResult resumed = run(settings(parts), true, 0);

        Map<String, NamedTensor> expected = SafeTensors.read(whole.weights()).tensors();
        Map<String, NamedTensor> actual = SafeTensors.read(resumed.weights()).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).values(), actual.get(name).values(), name + " differs");
        }
        float[] curve = whole.iterationLosses();
        assertTrue(curve.length > 8, "iteration 4 is mid-epoch of a longer run: " + curve.length);
        assertArrayEquals(Arrays.copyOfRange(curve, 0, 4), first.iterationLosses(), "iterations 1-4");
        assertArrayEquals(Arrays.copyOfRange(curve, 4, curve.length), resumed.iterationLosses(), "iterations 5-");

        ConfigException memory = assertThrows(ConfigException.class,
                () -> run(settings(parts, "data.input=memory"), true, 0));
        assertTrue(memory.getMessage().contains("data_input stream, shuffle_buffer 8 -> memory"),
                memory.getMessage());
    }
}
