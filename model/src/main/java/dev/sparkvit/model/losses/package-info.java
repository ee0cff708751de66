/** Losses, stateless and independent of Spark and of the training method that wires them (after solo-learn). */
package dev.sparkvit.model.losses;
