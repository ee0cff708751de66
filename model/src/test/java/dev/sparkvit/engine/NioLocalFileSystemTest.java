package dev.sparkvit.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NioLocalFileSystemTest {

    @Test
    void everyPermissionMapsToThePosixBitsOfItsOctalForm() {
        for (int mode = 0; mode < 512; mode++) {
            String expected = PosixFilePermissions.toString(PosixFilePermissions.fromString(symbolic(mode)));
            assertEquals(expected, PosixFilePermissions.toString(
                    NioLocalFileSystem.Raw.posix(new FsPermission((short) mode))), Integer.toOctalString(mode));
        }
    }

    @Test
    void installedItServesFilePathsAndSetsThePermissionsHadoopAsksFor(@TempDir java.nio.file.Path dir)
            throws IOException {
        NioLocalFileSystem.install();
        try (FileSystem fs = FileSystem.newInstance(URI.create("file:///"), new Configuration())) {
            assertInstanceOf(NioLocalFileSystem.class, fs);
            Path folder = new Path(dir.toUri().toString(), "a/b");
            fs.mkdirs(folder, new FsPermission((short) 0750));
            assertEquals("rwxr-x---", posixOf(dir.resolve("a/b")));
            Path file = new Path(folder, "f.bin");
            try (OutputStream out = fs.create(file, new FsPermission((short) 0640), false, 4096, (short) 1, 1 << 20,
                    null)) {
                out.write(new byte[] {1, 2, 3});
            }
            assertEquals("rw-r-----", posixOf(dir.resolve("a/b/f.bin")));
            assertEquals(3, fs.getFileStatus(file).getLen());
            fs.setPermission(file, new FsPermission((short) 0604));
            assertEquals("rw----r--", posixOf(dir.resolve("a/b/f.bin")));
            // the sticky bit is Hadoop's own chmod's business; the other bits come out the same
            fs.setPermission(folder, new FsPermission((short) 01777));
            assertEquals("rwxrwxrwx", posixOf(dir.resolve("a/b")));
        }
    }

    @Test
    void aUserSettingOfTheFileImplementationWins() throws IOException {
        NioLocalFileSystem.install();
        Configuration conf = new Configuration();
        conf.set("fs.file.impl", org.apache.hadoop.fs.LocalFileSystem.class.getName());
        try (FileSystem fs = FileSystem.newInstance(URI.create("file:///"), conf)) {
            assertEquals(org.apache.hadoop.fs.LocalFileSystem.class, fs.getClass());
        }
    }

    private static String posixOf(java.nio.file.Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static String symbolic(int mode) {
        String letters = "rwx";
        StringBuilder s = new StringBuilder();
        for (int bit = 8; bit >= 0; bit--) {
            s.append((mode & (1 << bit)) != 0 ? letters.charAt((8 - bit) % 3) : '-');
        }
        return s.toString();
    }
}
