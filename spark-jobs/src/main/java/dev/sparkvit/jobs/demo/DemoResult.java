package dev.sparkvit.jobs.demo;

import java.nio.file.Path;

/**
 * What the demo job produced.
 *
 * @param datasetDir the generated ImageFolder tree
 * @param images images read back through Spark
 * @param iterationLosses training loss of every iteration, in order
 * @param epochMeanLosses mean iteration loss of each epoch
 * @param tensorboardDir TensorBoard event files of the run
 */
public record DemoResult(Path datasetDir, long images, float[] iterationLosses, float[] epochMeanLosses,
        Path tensorboardDir) {
}
