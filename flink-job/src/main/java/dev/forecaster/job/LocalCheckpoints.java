package dev.forecaster.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Checkpoints of a job that runs on this machine ({@code forecast job}): kept in a folder per
 * consumer group, so that the same command started again restores the newest completed one instead
 * of starting with empty windows. On a Flink cluster its own checkpoint storage and recovery apply
 * (docs/DEPLOY.md).
 */
public final class LocalCheckpoints {

  private LocalCheckpoints() {}

  /**
   * Where a local job keeps its checkpoints: {@code checkpoint.dir} when given, otherwise a folder
   * named for its consumer group under the temp dir.
   */
  public static Path folder(JobConfig config) {
    if (!config.checkpointDir().isBlank()) {
      String dir = config.checkpointDir();
      return dir.startsWith("file:") ? Path.of(java.net.URI.create(dir)) : Path.of(dir);
    }
    return Path.of(
        System.getProperty("java.io.tmpdir"), "forecaster-checkpoints", config.groupId());
  }

  /**
   * The newest completed checkpoint under {@code folder} (Flink writes {@code <job
   * id>/chk-<n>/_metadata} when a checkpoint completes), if any.
   */
  public static Optional<Path> newest(Path folder) {
    if (!Files.isDirectory(folder)) {
      return Optional.empty();
    }
    try (Stream<Path> jobs = Files.list(folder)) {
      return jobs.filter(Files::isDirectory)
          .flatMap(LocalCheckpoints::completed)
          .max(Comparator.comparing(LocalCheckpoints::completedAt));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the checkpoints in " + folder, e);
    }
  }

  private static Stream<Path> completed(Path job) {
    try (Stream<Path> checkpoints = Files.list(job)) {
      return checkpoints
          .filter(p -> p.getFileName().toString().startsWith("chk-"))
          .filter(p -> Files.isRegularFile(p.resolve("_metadata")))
          .toList()
          .stream();
    } catch (IOException e) {
      return Stream.empty();
    }
  }

  private static FileTime completedAt(Path checkpoint) {
    try {
      return Files.getLastModifiedTime(checkpoint.resolve("_metadata"));
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /** Removes the folders of earlier runs under {@code folder}, but those of {@code keep}. */
  public static void prune(Path folder, Set<String> keep) {
    if (!Files.isDirectory(folder)) {
      return;
    }
    try (Stream<Path> jobs = Files.list(folder)) {
      for (Path job : jobs.filter(Files::isDirectory).toList()) {
        if (!keep.contains(job.getFileName().toString())) {
          deleteTree(job);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean the checkpoints in " + folder, e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
