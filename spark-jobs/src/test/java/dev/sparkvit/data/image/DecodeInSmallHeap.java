package dev.sparkvit.data.image;

import java.nio.file.Files;
import java.nio.file.Path;

/** Decodes one file with ingest's decoder and prints the verdict (run in a child JVM with a small heap). */
public final class DecodeInSmallHeap {
    private DecodeInSmallHeap() {
    }

    public static void main(String[] args) throws Exception {
        DecodeResult result = new ImageDecoder(8, Long.MAX_VALUE).decode(Files.readAllBytes(Path.of(args[0])));
        System.out.println(result.accepted() ? "accepted" : result.reason().label() + " | " + result.detail());
    }
}
