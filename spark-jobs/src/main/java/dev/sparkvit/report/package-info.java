/**
 * Output files written whole or not at all ({@link dev.sparkvit.report.AtomicFiles}, {@link PngFiles}) and
 * self-contained reports drawn without a charting dependency: {@link HtmlReport} (one page, images inlined),
 * {@link LineChart} (training curves) and {@link ConfusionMatrixChart}. A leaf: it imports no other sparkvit
 * package and must not, since {@link dev.sparkvit.storage}, {@link dev.sparkvit.data} and the jobs use it.
 */
package dev.sparkvit.report;
