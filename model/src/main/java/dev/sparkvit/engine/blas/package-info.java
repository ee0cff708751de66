/**
 * The GEMM backends behind {@link dev.sparkvit.engine.Blas}: the MKL bundled with BigDL's core jar, and OpenBLAS
 * loaded from a system library through dev.ludovic.netlib's JNI binding. One is chosen per JVM by
 * {@link dev.sparkvit.engine.blas.BlasBackend}; docs/ENGINE.md ("BLAS backend") says why and how.
 */
package dev.sparkvit.engine.blas;
