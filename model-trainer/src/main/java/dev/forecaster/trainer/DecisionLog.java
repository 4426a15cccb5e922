package dev.forecaster.trainer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The trainer's decisions, one JSON object a line, appended and synced; survives restarts. */
public final class DecisionLog {

  private static final Logger LOG = LoggerFactory.getLogger(DecisionLog.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final Path file;

  public DecisionLog(Path file) {
    this.file = file;
  }

  public Path file() {
    return file;
  }

  public synchronized void append(RoundRecord record) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      // a torn last line (a crash mid-write) stays a line of its own: the new record starts on the
      // next
      String start = endsTorn() ? "\n" : "";
      Files.writeString(
          file,
          start + JSON.writeValueAsString(record) + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file, e);
    }
  }

  private boolean endsTorn() throws IOException {
    if (!Files.exists(file) || Files.size(file) == 0) {
      return false;
    }
    try (var channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer last = ByteBuffer.allocate(1);
      channel.read(last, channel.size() - 1);
      return last.get(0) != '\n';
    }
  }

  /**
   * Every record, oldest first; a line that cannot be read (a torn last write) is skipped with a
   * warning.
   */
  public synchronized List<RoundRecord> readAll() {
    List<RoundRecord> records = new ArrayList<>();
    if (!Files.exists(file)) {
      return records;
    }
    try {
      int n = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        try {
          records.add(JSON.readValue(line, RoundRecord.class));
        } catch (IOException e) {
          LOG.warn("{}:{}: unreadable decision record skipped: {}", file, n, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return records;
  }

  /** The last round (of any outcome), if one ran. */
  public Optional<RoundRecord> last() {
    List<RoundRecord> all = readAll();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** When the last round (of any outcome) finished, if one did. */
  public Optional<Instant> lastFinished() {
    return last().map(r -> Instant.parse(r.finishedAt()));
  }
}
