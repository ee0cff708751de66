/**
 * PNG files written whole or not at all ({@link PngFiles}, through {@link dev.sparkvit.storage.AtomicFiles}) and
 * self-contained reports drawn without a charting dependency: {@link HtmlReport} (one page, images inlined),
 * {@link LineChart} (training curves) and {@link ConfusionMatrixChart}. It imports only {@link dev.sparkvit.storage}
 * and must stay that low, since {@link dev.sparkvit.data} and the jobs use it.
 */
package dev.sparkvit.report;
