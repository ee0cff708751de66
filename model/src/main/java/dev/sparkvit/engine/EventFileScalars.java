package dev.sparkvit.engine;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.util.Event;

/**
 * Reads one scalar back from the TensorBoard event files DLlib's {@code TrainSummary} writes, while its writer thread
 * may still be appending to them.
 *
 * <p>DLlib's own reader ({@code TrainSummary.readScalar}) parses whatever bytes are there: its writer appends each
 * record in four unbuffered writes (length, length checksum, event, event checksum) on a background thread, so a
 * read between them parses a half-written event and throws {@code InvalidProtocolBufferException: Protocol message
 * contained an invalid tag (zero)}. That ended a vit_tiny pretraining at its first epoch end during {@code make
 * bench}. Here a record counts only once its length and event bytes are all in the file; a record cut short at the
 * end of a file (the one being written) is left for the next read.
 */
final class EventFileScalars {
    /** One scalar event: DLlib's step (iterations completed), the value and the writer's wall time. */
    record Scalar(long step, float value, double wallTime) {
    }

    /** Far above any scalar event; a larger length is damage, not an event. */
    private static final long MAX_RECORD = 16L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(EventFileScalars.class);

    private EventFileScalars() {
    }

    /** Every complete event of {@code tag} in the {@code bigdl.tfevents.*} files under {@code folder}. */
    static List<Scalar> read(Path folder, String tag) {
        List<Scalar> scalars = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return scalars;
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(p -> p.getFileName().toString().startsWith("bigdl.tfevents.") && Files.isRegularFile(p))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the TensorBoard events under " + folder, e);
        }
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                readFile(file, new DataInputStream(new BufferedInputStream(in)), tag, scalars);
            } catch (java.nio.file.NoSuchFileException gone) {
                // an event file replaced under us: nothing of it to read
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read TensorBoard events " + file, e);
            }
        }
        return scalars;
    }

    private static void readFile(Path file, DataInputStream in, String tag, List<Scalar> into) throws IOException {
        byte[] header = new byte[8];
        while (true) {
            try {
                in.readFully(header);
            } catch (EOFException end) {
                return; // the end of the file, or a length being written
            }
            long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length < 0 || length > MAX_RECORD) {
                LOG.warn("sparkvit: TensorBoard event file {} holds a record of {} bytes; the rest of it is not read",
                        file, length);
                return;
            }
            byte[] event = new byte[(int) length];
            try {
                in.readFully(header, 0, 4); // the length's checksum
                in.readFully(event);
            } catch (EOFException incomplete) {
                return; // the record being written
            }
            Event parsed = Event.parseFrom(event);
            if (parsed.getSummary().getValueCount() == 1 && tag.equals(parsed.getSummary().getValue(0).getTag())) {
                into.add(new Scalar(parsed.getStep(), parsed.getSummary().getValue(0).getSimpleValue(),
                        parsed.getWallTime()));
            }
            if (in.skipBytes(4) < 4) { // the event's checksum, possibly not written yet: the event is complete
                return;
            }
        }
    }
}
