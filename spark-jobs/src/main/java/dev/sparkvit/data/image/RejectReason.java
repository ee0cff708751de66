package dev.sparkvit.data.image;

/** Why an input file is quarantined instead of stored. */
public enum RejectReason {
    /** The file could not be opened or read. */
    UNREADABLE,
    /** The file is empty. */
    ZERO_BYTES,
    /** No image decoder recognises the bytes (text, archives, unsupported formats). */
    NOT_AN_IMAGE,
    /** The data ends before the image does. */
    TRUNCATED,
    /** The decoder recognised the format but the data is invalid. */
    CORRUPT,
    /** A labelled (ImageFolder) ingest found the file directly under the root, outside any class folder. */
    NO_CLASS_FOLDER,
    /** The shorter side is below the configured minimum. */
    TOO_SMALL,
    /** The header declares more pixels than allowed (decompression-bomb guard, checked before decoding). */
    TOO_LARGE,
    /**
     * A valid header, but decoding ran out of memory: not a property of the file. Recorded, but not remembered as
     * known, so that a later run (with more memory) tries the file again.
     */
    RETRY_LATER;

    /** The lower-case name used in tables and the manifest. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
