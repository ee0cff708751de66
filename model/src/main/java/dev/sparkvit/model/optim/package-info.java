/** Optimisation methods and learning-rate schedules sparkvit writes because DLlib's are missing or broken. */
package dev.sparkvit.model.optim;
