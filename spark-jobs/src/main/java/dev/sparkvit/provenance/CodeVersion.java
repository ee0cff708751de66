package dev.sparkvit.provenance;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The version of the running code, recorded in every weights file and registered model: the application version and
 * the SHA-256 of the jar the classes were loaded from ("classes" when run from a build folder, as in tests).
 */
public final class CodeVersion {
    private static final String VERSION = compute();

    private CodeVersion() {
    }

    public static String current() {
        return VERSION;
    }

    private static String compute() {
        String version = CodeVersion.class.getPackage().getImplementationVersion();
        String prefix = "sparkvit " + (version == null ? "0.1.0" : version);
        try {
            Path source = Path.of(CodeVersion.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(source)) {
                return prefix + " (classes " + source + ")";
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(source)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    sha.update(buffer, 0, n);
                }
            }
            return prefix + " (jar sha256 " + HexFormat.of().formatHex(sha.digest()) + ")";
        } catch (IOException | URISyntaxException | NoSuchAlgorithmException | SecurityException e) {
            return prefix + " (code source unknown: " + e.getMessage() + ")";
        }
    }
}
