package dev.sparkvit.data.image;

/**
 * The outcome of decoding one file: an image, or the reason it was rejected with a human-readable detail.
 */
public record DecodeResult(RgbImage image, RejectReason reason, String detail) {
    public static DecodeResult ok(RgbImage image) {
        return new DecodeResult(image, null, null);
    }

    public static DecodeResult reject(RejectReason reason, String detail) {
        return new DecodeResult(null, reason, detail);
    }

    public boolean accepted() {
        return image != null;
    }
}
