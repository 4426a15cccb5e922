package dev.forecaster.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;

/**
 * Watches the checkpoint folder of a job on this machine: how long each checkpoint took (from its
 * {@code chk-<n>} folder appearing, when Flink triggers it, to its {@code _metadata}, written when
 * it completes; polled every 20 ms) and, from each one's metadata, the size of the state it holds;
 * one line on stderr per checkpoint.
 */
final class CheckpointWatch implements AutoCloseable {

  private final Path folder;
  private final Thread thread;
  private final Map<Path, Long> triggered = new HashMap<>();
  private final List<Long> durationsMs = new ArrayList<>();
  private Sizes largest;
  private volatile boolean stop;

  /** Jobs whose checkpoints were there before: an earlier run's, not watched. */
  private final Set<Path> earlier = new HashSet<>();

  CheckpointWatch(Path folder) {
    this.folder = folder;
    if (Files.isDirectory(folder)) {
      try (Stream<Path> jobs = Files.list(folder)) {
        jobs.forEach(earlier::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    thread = new Thread(this::watch, "checkpoint-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void watch() {
    while (!stop) {
      poll();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
    poll();
  }

  private synchronized void poll() {
    if (!Files.isDirectory(folder)) {
      return;
    }
    try (Stream<Path> jobs = Files.list(folder)) {
      for (Path job : jobs.toList()) {
        if (!Files.isDirectory(job) || earlier.contains(job)) {
          continue;
        }
        try (Stream<Path> chks = Files.list(job)) {
          for (Path chk :
              chks.filter(p -> p.getFileName().toString().startsWith("chk-")).toList()) {
            long now = System.currentTimeMillis();
            if (!triggered.containsKey(chk)) {
              triggered.put(chk, now);
            }
            Path metadata = chk.resolve("_metadata");
            if (triggered.get(chk) >= 0 && Files.exists(metadata)) {
              Optional<Sizes> sizes = read(metadata);
              if (sizes.isEmpty()) {
                continue; // still being written: the next poll reads it
              }
              long done = Files.getLastModifiedTime(metadata).toMillis();
              long took = Math.max(0, done - triggered.get(chk));
              durationsMs.add(took);
              System.err.printf(
                  "checkpoint %d: %.1f MB of state, %.1f MB written, %d ms%n",
                  sizes.get().checkpointId(),
                  sizes.get().stateBytes() / 1e6,
                  sizes.get().writtenBytes() / 1e6,
                  took);
              triggered.put(chk, -1L); // counted
              if (largest == null || sizes.get().stateBytes() > largest.stateBytes()) {
                largest = sizes.get();
              }
            }
          }
        }
      }
    } catch (IOException e) {
      // a folder Flink removed while listing: the next poll sees the new state
    }
  }

  /** The sizes a checkpoint's metadata gives; empty while it cannot be read whole. */
  private Optional<Sizes> read(Path metadata) {
    try (InputStream in = Files.newInputStream(metadata)) {
      CheckpointMetadata m =
          Checkpoints.loadCheckpointMetadata(
              new DataInputStream(in),
              getClass().getClassLoader(),
              metadata.getParent().toString());
      long full = 0;
      long written = 0;
      for (OperatorState s : m.getOperatorStates()) {
        full += s.getStateSize();
        written += s.getCheckpointedSize();
      }
      return Optional.of(new Sizes(m.getCheckpointId(), full, written));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop = true;
    thread.join(5000);
  }

  /** Checkpoint durations seen, in milliseconds, in completion order. */
  synchronized List<Long> durationsMs() {
    return List.copyOf(durationsMs);
  }

  /**
   * The checkpoint that held the most state: the state's size once it stopped growing (a bounded
   * run's last checkpoints, after the end of its input, may hold less: tasks that finished leave
   * theirs out).
   */
  synchronized Optional<Sizes> largest() {
    return Optional.ofNullable(largest);
  }

  /**
   * @param stateBytes the whole state the checkpoint restores
   * @param writtenBytes what this checkpoint wrote (less than the whole with incremental ones)
   */
  record Sizes(long checkpointId, long stateBytes, long writtenBytes) {}
}
