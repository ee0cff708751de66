package dev.sparkvit.report;

import dev.sparkvit.storage.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One self-contained HTML page: a title followed by headings, paragraphs, tables and PNG images in the order they were
 * added. Nothing is loaded from elsewhere: the style sheet is inline and images are embedded as base64 {@code data:}
 * URIs, so the file can be mailed or archived alone. All text is HTML-escaped.
 */
public final class HtmlReport {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?%?");
    private static final String STYLE = String.join("\n",
            "body { font-family: sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }",
            "table { border-collapse: collapse; margin: 1em 0; }",
            "caption { font-weight: bold; text-align: left; padding: 0.3em 0; }",
            "th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }",
            "th { background: #f0f4f8; }",
            "td.num { text-align: right; font-variant-numeric: tabular-nums; }",
            "figure { margin: 1em 0; }",
            "img { max-width: 100%; }",
            "figcaption { color: #555; font-size: 0.9em; }");

    private final String title;
    private final List<String> blocks = new ArrayList<>();

    public HtmlReport(String title) {
        this.title = title;
    }

    /** A section heading. */
    public HtmlReport heading(String text) {
        blocks.add("<h2>" + escape(text) + "</h2>");
        return this;
    }

    public HtmlReport paragraph(String text) {
        blocks.add("<p>" + escape(text) + "</p>");
        return this;
    }

    /**
     * A table with a header row; cells that look like numbers are right-aligned.
     *
     * @throws IllegalArgumentException when a row has not as many cells as the header
     */
    public HtmlReport table(String caption, List<String> header, List<List<String>> rows) {
        StringBuilder html = new StringBuilder("<table>\n<caption>").append(escape(caption)).append("</caption>\n");
        html.append("<thead><tr>");
        header.forEach(h -> html.append("<th>").append(escape(h)).append("</th>"));
        html.append("</tr></thead>\n<tbody>\n");
        for (int i = 0; i < rows.size(); i++) {
            List<String> row = rows.get(i);
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row " + i + " of table \"" + caption + "\" has " + row.size()
                        + " cells for " + header.size() + " columns");
            }
            html.append("<tr>");
            for (String cell : row) {
                html.append(NUMBER.matcher(cell).matches() ? "<td class=\"num\">" : "<td>").append(escape(cell))
                        .append("</td>");
            }
            html.append("</tr>\n");
        }
        blocks.add(html.append("</tbody>\n</table>").toString());
        return this;
    }

    /**
     * A PNG image, read now and embedded in the page.
     *
     * @throws UncheckedIOException when {@code png} cannot be read
     * @throws IllegalArgumentException when {@code png} is not a PNG file
     */
    public HtmlReport image(String caption, Path png) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(png);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + png + " for the report", e);
        }
        if (bytes.length < PNG_SIGNATURE.length
                || !Arrays.equals(bytes, 0, PNG_SIGNATURE.length, PNG_SIGNATURE, 0, PNG_SIGNATURE.length)) {
            throw new IllegalArgumentException(png + " is not a PNG file");
        }
        blocks.add("<figure><img src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(bytes)
                + "\" alt=\"" + escape(caption) + "\"><figcaption>" + escape(caption) + "</figcaption></figure>");
        return this;
    }

    /** The whole page. */
    public String toHtml() {
        StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n");
        html.append("<meta charset=\"utf-8\">\n<title>").append(escape(title)).append("</title>\n");
        html.append("<style>\n").append(STYLE).append("\n</style>\n</head>\n<body>\n");
        html.append("<h1>").append(escape(title)).append("</h1>\n");
        blocks.forEach(block -> html.append(block).append('\n'));
        return html.append("</body>\n</html>\n").toString();
    }

    /** Writes the page to {@code file} in UTF-8 (atomically). */
    public void write(Path file) {
        String html = toHtml();
        try {
            AtomicFiles.write(file, tmp -> Files.writeString(tmp, html, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write report " + file, e);
        }
    }

    /** {@code text} with the five HTML-significant characters replaced by entities. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
