package dev.sparkvit.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a slow reliability test (real processes, real training, more than about a minute): excluded from
 * {@code make test}, run by {@code make reliability} (the JUnit tag {@value #TAG}; docs/RELIABILITY.md).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag(Reliability.TAG)
public @interface Reliability {
    /** The JUnit tag; the build excludes it unless {@code -Dsparkvit.excludedGroups=} clears the exclusion. */
    String TAG = "reliability";
}
