package dev.sparkvit.jobs.train;

import dev.sparkvit.model.optim.FreezeOutSchedule;

/**
 * FreezeOut's knobs (Brock et al. 2017), {@code training.freezeout.*}: on/off, t0, the scaling of t_i and lr / t_i
 * scaling. Its text ({@code FreezeOut[enabled=..., ...]}) is the runs' fingerprint entry.
 */
public record FreezeOut(boolean enabled, double t0, FreezeOutSchedule.Scaling scaling, boolean scaleLr) {
}
