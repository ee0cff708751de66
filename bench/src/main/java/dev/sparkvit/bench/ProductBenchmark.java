package dev.sparkvit.bench;

import dev.sparkvit.cli.ExitCodes;
import dev.sparkvit.cli.Main;
import dev.sparkvit.data.ingest.Manifest;
import dev.sparkvit.data.ingest.StoredImages;
import dev.sparkvit.engine.blas.MklCpuDispatch;
import dev.sparkvit.model.vit.Head;
import dev.sparkvit.model.vit.VitFlops;
import dev.sparkvit.model.vit.VitPresets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ViT training throughput of the product path: the {@code finetune} or {@code pretrain} job itself, run in this JVM
 * through the product's command line ({@link Main#run}) on the barrier engine, on
 * {@code local[threads]} (one replica per thread). The samples are the job's own TensorBoard {@code Throughput}, one
 * per segment (images of the segment over its driver wall time: data, forward, backward, the gradient exchange, the
 * optimiser and the weights back to the driver); {@code training.checkpoint.every_iterations: 0} makes a segment an
 * epoch, and the first one is left out (JIT, caches, Spark's first stages). The epoch-end work (validation, probe,
 * checkpoint) is outside every segment. MFU as {@link VitBenchmark}: against the {@link GemmPeak} measured afterwards
 * in this process at the same thread count, with the job's FLOPs per image ({@link #flopsPerImage}).
 */
public final class ProductBenchmark {
    /** Measurement name of the finetune job's throughput: the work of {@link VitBenchmark#THROUGHPUT}, through the job. */
    public static final String FINETUNE = VitBenchmark.THROUGHPUT;
    /** Measurement name of the pretrain job's throughput (images/s; two views each). */
    public static final String PRETRAIN = "SimCLR pretraining step (2 views, fwd+bwd+AdamW)";
    private static final double GEMM_SECONDS = 1.0;

    /** Which training job runs, its run name (the TensorBoard folder) and its shipped config. */
    public enum Job {
        FINETUNE("finetune"),
        PRETRAIN("pretrain");

        private final String command;

        Job(String command) {
            this.command = command;
        }

        public String command() {
            return command;
        }
    }

    /**
     * One run.
     *
     * @param config the job's config file (conf/finetune.yaml or conf/pretrain.yaml)
     * @param output the job's output_dir (replaced)
     * @param sets further {@code --set key=value} overrides, after the benchmark's own
     */
    public record Settings(Job job, String model, int batch, int threads, int epochs, Path dataset, Path config,
            Path output, List<String> sets) {
        public Settings {
            VitPresets.get(model); // names the known presets when unknown
            VitBenchSettings.positive("--batch", batch);
            VitBenchSettings.positive("--threads", threads);
            if (epochs < 2) {
                throw new IllegalArgumentException("--epochs must be at least 2 (the first is left out), got "
                        + epochs);
            }
            if (batch % threads != 0) {
                throw new IllegalArgumentException("--batch " + batch + " is not a multiple of --threads " + threads
                        + ": the barrier engine gives each of the " + threads + " replicas an equal slice");
            }
            sets = List.copyOf(sets);
        }
    }

    private final Settings settings;
    private final Map<String, Object> notes = new LinkedHashMap<>();

    public ProductBenchmark(Settings settings) {
        this.settings = settings;
    }

    /**
     * The job's command line: the benchmark's overrides (dataset, output, preset, batch, epochs, one
     * warm-up epoch, a segment per epoch; for finetune from scratch with a random head, no drop path, plain
     * cross-entropy and no test-time augmentation, the work the PyTorch reference's step does; for pretrain no probe
     * before the last epoch), then {@code sets}, on {@code local[threads]}.
     */
    public static List<String> arguments(Settings s) {
        List<String> args = new ArrayList<>(List.of(s.job().command(), "--config", s.config().toString()));
        List<String> sets = new ArrayList<>(List.of("data.dataset=" + s.dataset(), "output_dir=" + s.output(),
                "model.preset=" + s.model(), "training.batch_size=" + s.batch(),
                "training.epochs=" + s.epochs(), "training.warmup_epochs=1", "training.checkpoint.every_iterations=0"));
        if (s.job() == Job.FINETUNE) {
            sets.addAll(List.of("model.ssl_pretrained_path=null", "model.head_init=random", "model.drop_path_rate=0",
                    "training.loss_type=ce", "training.use_tta=false"));
        } else {
            sets.add("training.probe_every_epochs=0");
        }
        sets.addAll(s.sets());
        for (String set : sets) {
            args.add("--set");
            args.add(set);
        }
        args.addAll(List.of("--master", "local[" + s.threads() + "]"));
        return args;
    }

    /** Runs the job, then the GEMM peak; the throughput and MFU measurements of the epochs after the first. */
    public List<Measurement> run() {
        int classes = classes(settings.dataset()); // before the job: a wrong --dataset is one line
        deleteTree(settings.output());
        List<String> args = arguments(settings);
        notes.put("command", "sparkvit " + String.join(" ", args));
        long start = System.nanoTime();
        int code = Main.run(args.toArray(String[]::new));
        double wall = (System.nanoTime() - start) / 1e9;
        if (code != ExitCodes.OK) {
            throw new IllegalStateException("the " + settings.job().command() + " job ended with exit code " + code
                    + " (its output is above)");
        }
        float[] throughput = throughput(settings.output().resolve("tensorboard"), settings.job().command());
        double[] rates = steadyState(throughput, settings.epochs());
        double peak = GemmPeak.measure(settings.threads(), GEMM_SECONDS);
        long flops = flopsPerImage(settings.job(), settings.model(), classes);
        notes.put("timing", "the job's TensorBoard Throughput per segment (one segment an epoch), epochs 2-"
                + settings.epochs());
        notes.put("first_epoch_images_per_second", throughput[0]);
        notes.put("job_wall_seconds", Math.round(wall * 10) / 10.0);
        notes.put("gemm_peak_gflops", peak);
        notes.put("gemm_peak", GemmPeak.N + "^3 float32 MKL sgemm, " + settings.threads()
                + " single-threaded GEMMs at once");
        notes.put("mkl_code_path", MklCpuDispatch.configure().reason());

        Map<String, Object> params = new LinkedHashMap<>();
        params.put("model", settings.model());
        params.put("batch", settings.batch());
        params.put("image_size", VitPresets.get(settings.model()).imgSize());
        params.put("flops_per_image", flops);
        params.put("mode", settings.job().command() + " job, barrier");
        params.put("epochs", settings.epochs());
        String name = settings.job() == Job.FINETUNE ? FINETUNE : PRETRAIN;
        return VitBenchmark.withMfu(name, settings.threads(), params, rates, flops, peak);
    }

    /** What the run recorded besides the measurements (command, timing, first epoch, GEMM peak). */
    public Map<String, Object> notes() {
        return notes;
    }

    /**
     * Training FLOPs per image of the job ({@link VitFlops#training()}): finetune, the encoder and a classifier of
     * {@code classes}; pretrain, two views through the encoder and the projection head (conf/pretrain.yaml's
     * projection_dim; NT-Xent's similarity products are left out, as the head-free products in VitFlops).
     */
    public static long flopsPerImage(Job job, String model, int classes) {
        if (job == Job.FINETUNE) {
            return VitFlops.of(VitPresets.get(model), Head.classifier(classes)).training();
        }
        return 2 * VitFlops.of(VitPresets.get(model), Head.projection(Head.DEFAULT_PROJECTION_DIM)).training();
    }

    /** The steady state: one sample per segment after the first, which must be one per epoch. */
    static double[] steadyState(float[] throughput, int epochs) {
        if (throughput.length != epochs) {
            throw new IllegalStateException("the job logged " + throughput.length + " Throughput values, expected one "
                    + "per epoch (" + epochs + ")");
        }
        double[] rates = new double[epochs - 1];
        for (int i = 1; i < epochs; i++) {
            if (!(throughput[i] > 0)) {
                throw new IllegalStateException("segment " + (i + 1) + " logged a Throughput of " + throughput[i]);
            }
            rates[i - 1] = throughput[i];
        }
        return rates;
    }

    /** The run's Throughput scalars in step order (DLlib's reader, which opens no writer; the job has ended). */
    static float[] throughput(Path tensorboard, String run) {
        Path train = tensorboard.resolve(run).resolve("train");
        scala.Tuple3<Object, Object, Object>[] scalars =
                com.intel.analytics.bigdl.dllib.visualization.tensorboard.FileReader$.MODULE$.readScalar(
                        train.toString(), "Throughput");
        scala.Tuple3<Object, Object, Object>[] sorted = scalars.clone();
        Arrays.sort(sorted, (x, y) -> Long.compare((Long) x._1(), (Long) y._1()));
        float[] values = new float[sorted.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = (Float) sorted[i]._2();
        }
        return values;
    }

    /** The classes of a local dataset written by ingest (its committed manifest). */
    static int classes(Path dataset) {
        Manifest manifest = StoredImages.localManifest("--dataset", dataset.toString());
        if (manifest == null) {
            throw new IllegalArgumentException("--dataset " + dataset + " must be a local dataset");
        }
        return manifest.classes().size();
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }
}
