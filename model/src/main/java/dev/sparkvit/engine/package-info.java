/**
 * The one place that speaks Scala to BigDL-DLlib: implicit ClassTag and TensorNumeric arguments, {@code MODULE$}
 * singletons, Scala default arguments and collections. Everything outside this package reads as plain Java and
 * calls these small factories instead.
 *
 * <p>Engine facts and defects this package designs around are in {@code docs/ENGINE.md}.
 */
package dev.sparkvit.engine;
